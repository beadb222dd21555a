import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerServeCommand } from '../../src/cli/serve-command.js';
import { ConfigError, envName, loadServeConfig, SERVE_OPTIONS } from '../../src/config.js';

const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

function serveFlags(): string[] {
  const program = new Command('activenow');
  registerServeCommand(program);
  const serve = program.commands.find((command) => command.name() === 'serve');
  return (serve?.options ?? []).map((option) => option.long ?? '').sort();
}

/** Rows of the configuration table of docs/operations.md: flag → environment variable and default. */
function documentedOptions(): Map<string, { env: string; defaultValue: string }> {
  const section = operations.slice(operations.indexOf('## Configuration'), operations.indexOf('## Health'));
  const rows = new Map<string, { env: string; defaultValue: string }>();
  for (const match of section.matchAll(/^\| `(--[a-z-]+)` \| `([A-Z_]+)` \| ([^|]+) \|/gm)) {
    rows.set(match[1], { env: match[2], defaultValue: match[3].trim() });
  }
  return rows;
}

const camel = (flag: string) => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

describe('serve options', () => {
  it('docs/operations.md lists exactly the options of `serve --help`, with their environment names', () => {
    const documented = documentedOptions();
    expect([...documented.keys()].sort()).toEqual(serveFlags());
    for (const [flag, { env }] of documented) expect(env, flag).toBe(envName(camel(flag)));
  });

  it('`serve --help` lists exactly the options of the configuration', () => {
    expect(serveFlags().map(camel).sort()).toEqual([...SERVE_OPTIONS].sort());
  });

  it('documents each default as the configuration has it', () => {
    const config = loadServeConfig({ flags: {}, env: {} }) as Record<string, unknown>;
    for (const [flag, { defaultValue }] of documentedOptions()) {
      const value = config[camel(flag)];
      if (value === undefined || value === false) continue;
      if (typeof value === 'object') continue;
      expect(defaultValue, flag).toMatch(new RegExp(`^\`${String(value).replace(/[.]/g, '\\.')}\``));
    }
  });

  it('names the backend of --store, and lists every form when none takes the value', () => {
    expect(loadServeConfig({ flags: {}, env: {} }).store).toEqual({
      backend: 'embedded',
      target: { kind: 'embedded' },
    });
    expect(loadServeConfig({ flags: {}, env: { ACTIVENOW_STORE: 'redis-cluster://a:1,b:2' } }).store).toEqual(
      {
        backend: 'redis',
        target: {
          kind: 'redis-cluster',
          nodes: [
            { host: 'a', port: 1 },
            { host: 'b', port: 2 },
          ],
        },
      },
    );
    expect(() => loadServeConfig({ flags: { store: 'mysql://db' }, env: {} })).toThrow(
      'store (--store / ACTIVENOW_STORE): expected embedded, redis://HOST:PORT[/DB] or redis-cluster://H1:P1,H2:P2',
    );
  });

  it('reads the limits, timeouts and metrics options from flags and ACTIVENOW_* variables', () => {
    const defaults = loadServeConfig({ flags: {}, env: {} });
    expect(defaults).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 72_000,
      connectionTimeoutMs: 0,
      maxHeaderBytes: 16_384,
      shutdownTimeoutMs: 10_000,
      metricsTopAccounts: 10,
    });
    expect(defaults.maxRequestsPerSecond).toBeUndefined();
    expect(defaults.metricsToken).toBeUndefined();
    const config = loadServeConfig({
      flags: { shutdownTimeoutMs: '2500' },
      env: {
        ACTIVENOW_MAX_REQUESTS_PER_SECOND: '50',
        ACTIVENOW_METRICS_TOKEN: 'a-long-enough-metrics-token',
        ACTIVENOW_SHUTDOWN_TIMEOUT_MS: '99',
        ACTIVENOW_REQUEST_TIMEOUT_MS: '0',
        ACTIVENOW_HEADERS_TIMEOUT_MS: '5000',
      },
    });
    expect(config).toMatchObject({
      maxRequestsPerSecond: 50,
      metricsToken: 'a-long-enough-metrics-token',
      shutdownTimeoutMs: 2500,
      requestTimeoutMs: 0,
      headersTimeoutMs: 5000,
    });
  });

  it('refuses a metrics token shorter than 16 characters', () => {
    let problems: readonly string[] = [];
    try {
      loadServeConfig({
        flags: { metricsToken: 'short' },
        env: {},
      });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(
      problems.some((p) => p.startsWith('metricsToken (--metrics-token / ACTIVENOW_METRICS_TOKEN)')),
    ).toBe(true);
  });

  it('reads --trust-proxy as addresses and CIDR ranges, and refuses anything else', () => {
    expect(loadServeConfig({ flags: {}, env: {} }).trustProxy).toEqual([]);
    expect(
      loadServeConfig({ flags: {}, env: { ACTIVENOW_TRUST_PROXY: ' 10.0.0.0/8, ::1 ,fd00::/8,192.168.1.7' } })
        .trustProxy,
    ).toEqual(['10.0.0.0/8', '::1', 'fd00::/8', '192.168.1.7']);
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'proxy.example', '10.0.0.0/8/1', '10.0.0.0/', '1.2.3']) {
      expect(() => loadServeConfig({ flags: { trustProxy: `127.0.0.1,${bad}` }, env: {} }), bad).toThrow(
        /trustProxy \(--trust-proxy \/ ACTIVENOW_TRUST_PROXY\): expected IP addresses or CIDR ranges/,
      );
    }
  });

  it('refuses a headers timeout over the request timeout', () => {
    expect(() =>
      loadServeConfig({ flags: { requestTimeoutMs: '1000', headersTimeoutMs: '2000' }, env: {} }),
    ).toThrow(/headersTimeoutMs \(--headers-timeout-ms \/ ACTIVENOW_HEADERS_TIMEOUT_MS\): must be at most/);
  });
});
