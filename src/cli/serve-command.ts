import type { Command } from 'commander';
import { openBackend } from '../composition-root.js';
import { loadServeConfig, type ServeConfig } from '../config.js';
import * as defaults from '../defaults.js';
import { buildApp, systemClock } from '../http/app.js';
import { loadCountryOfIp } from '../ingest/country-of-ip.js';
import type { Backend, StorageEventListener } from '../store/backend.js';
import { type Demo, startDemo } from './demo.js';
import { closeWithin, exitOnSignals } from './shutdown.js';
import { addStorageOptions } from './storage-options.js';

/** How often the backend's housekeeping runs (embedded: forgetting users that left the horizon). */
const MAINTENANCE_INTERVAL_MS = 1000;

export function registerServeCommand(program: Command): void {
  addStorageOptions(program.command('serve').description('serve the API'))
    .option('--port <port>', `port to listen on (default ${defaults.DEFAULT_PORT})`)
    .option('--host <host>', `address to listen on (default ${defaults.DEFAULT_HOST})`)
    .option('--durability <mode>', `process | full (default ${defaults.DEFAULT_DURABILITY})`)
    .option('--demo', 'also run a demo account with simulated traffic')
    .option('--max-body-bytes <n>', `largest request body (default ${defaults.DEFAULT_MAX_BODY_BYTES})`)
    .option(
      '--max-in-flight <n>',
      `requests in flight per account before 429 (default ${defaults.DEFAULT_MAX_IN_FLIGHT})`,
    )
    .option(
      '--max-hits-per-second <n>',
      `browser hits per second and account before 429 (default ${defaults.DEFAULT_MAX_HITS_PER_SECOND})`,
    )
    .option(
      '--max-streams <n>',
      `open /1/now/stream streams per account before 429 (default ${defaults.DEFAULT_MAX_STREAMS})`,
    )
    .option(
      '--horizon-seconds <n>',
      `seconds of activity kept, ${defaults.MIN_HORIZON_SECONDS}-${defaults.MAX_HORIZON_SECONDS} (default ${defaults.DEFAULT_HORIZON_SECONDS})`,
    )
    .option(
      '--value-cap <n>',
      `distinct values per dimension and account (default ${defaults.DEFAULT_VALUE_CAP})`,
    )
    .option(
      '--page-cache-mib <n>',
      `SQLite page cache of the embedded store, MiB per connection (default ${defaults.DEFAULT_PAGE_CACHE_MIB})`,
    )
    .option(
      '--max-requests-per-second <n>',
      'authenticated requests per second and account before 429 (default: no limit)',
    )
    .option(
      '--request-timeout-ms <ms>',
      `time to receive a whole request before 408, 0: none (default ${defaults.DEFAULT_CONNECTION_LIMITS.requestTimeoutMs})`,
    )
    .option(
      '--headers-timeout-ms <ms>',
      `time to receive request headers before 408 (default ${defaults.DEFAULT_CONNECTION_LIMITS.headersTimeoutMs})`,
    )
    .option(
      '--keep-alive-timeout-ms <ms>',
      `idle keep-alive connections are closed after this (default ${defaults.DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs})`,
    )
    .option(
      '--connection-timeout-ms <ms>',
      `connections silent this long are closed, 0: never (default ${defaults.DEFAULT_CONNECTION_LIMITS.connectionTimeoutMs})`,
    )
    .option(
      '--max-header-bytes <n>',
      `largest request line and headers before 400 (default ${defaults.DEFAULT_CONNECTION_LIMITS.maxHeaderBytes})`,
    )
    .option(
      '--shutdown-timeout-ms <ms>',
      `on SIGTERM/SIGINT, time left to requests in flight (default ${defaults.DEFAULT_SHUTDOWN_TIMEOUT_MS})`,
    )
    .option(
      '--metrics-token <token>',
      'GET /metrics requires "Authorization: Bearer <token>"; prefer ACTIVENOW_METRICS_TOKEN (default: open)',
    )
    .option(
      '--metrics-top-accounts <n>',
      `accounts shown in activenow_active_users, 0: none (default ${defaults.DEFAULT_METRICS_TOP_ACCOUNTS})`,
    )
    .option(
      '--trust-proxy <list>',
      "proxies whose X-Forwarded-For gives tracker hits' client address: IPs and CIDR ranges, comma-separated (default: none)",
    )
    .option(
      '--log-level <level>',
      `fatal | error | warn | info | debug | trace | silent (default ${defaults.DEFAULT_LOG_LEVEL})`,
    )
    .action(async (flags: Record<string, unknown>) => {
      await serve(loadServeConfig({ flags, env: process.env }));
    });
}

async function serve(config: ServeConfig): Promise<void> {
  let log: ((error: Error) => void) | undefined;
  let logEvent: StorageEventListener | undefined;
  const backend = openBackend(config, {
    onStorageError: (error) => log?.(error),
    onStorageEvent: (level, message, details) => logEvent?.(level, message, details),
  });
  const app = buildApp({
    store: backend.store,
    accounts: backend.accounts,
    region: config.region,
    maxBodyBytes: config.maxBodyBytes,
    maxInFlight: config.maxInFlight,
    maxHitsPerSecond: config.maxHitsPerSecond,
    maxRequestsPerSecond: config.maxRequestsPerSecond,
    nowStream: { maxStreams: config.maxStreams },
    horizonSeconds: config.horizonSeconds,
    connectionLimits: {
      requestTimeoutMs: config.requestTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      connectionTimeoutMs: config.connectionTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
    },
    metrics: { token: config.metricsToken, topAccounts: config.metricsTopAccounts },
    trustProxy: config.trustProxy,
    countryOfIp: loadCountryOfIp(),
    logLevel: config.logLevel,
  });
  log = (error) => app.log.warn({ err: error }, 'storage connection problem');
  logEvent = (level, message, details) => app.log[level](details, message);
  const maintenance = setInterval(() => backend.maintain(systemClock()), MAINTENANCE_INTERVAL_MS);
  maintenance.unref();
  let demo: Demo | undefined;
  let stopped: Promise<void> | undefined;
  // Demo traffic first (it is a client), then requests in flight, then the store: pending commits
  // are flushed when it closes, so every batch acknowledged or about to be is on disk.
  const stop = () => {
    stopped ??= (async () => {
      await demo?.stop();
      clearInterval(maintenance);
      await closeWithin(app, config.shutdownTimeoutMs);
      await backend.close();
    })();
    return stopped;
  };
  // Listen first so /healthz and /readyz answer while the backend recovers; API routes answer 503.
  await app.listen({ port: config.port, host: config.host });
  exitOnSignals(stop, config.shutdownTimeoutMs, app.log);
  const started = Date.now();
  try {
    await backend.recover();
    await announceFirstAccount(backend, config);
  } catch (error) {
    // Stopped by a signal while recovering: the shutdown explains itself.
    if (stopped !== undefined) return;
    // A log that cannot be replayed must stop the server, not leave it "starting" forever.
    await stop();
    throw error;
  }
  app.log.info({ ms: Date.now() - started }, 'storage ready');
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(`listening on http://${host}:${port}\n`);
  if (config.demo) {
    demo = await startDemo(backend.accounts, {
      url: `http://${loopbackFor(host)}:${port}`,
      region: config.region,
      onError: (error) => app.log.error({ err: error }, 'demo traffic stopped'),
    }).catch(async (error: unknown) => {
      await stop();
      throw error;
    });
  }
}

/** An address the server can reach itself at, when it listens on every interface. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '[::]') return '[::1]';
  return host;
}

/** On a first start there is no account: make one so the README's curl works straight away. */
async function announceFirstAccount({ accounts }: Backend, config: ServeConfig): Promise<void> {
  if ((await accounts.list()).length > 0) return;
  const account = await accounts.create({ name: 'default', region: config.region });
  process.stdout.write(
    [
      'created the first account (the passcode is shown only now):',
      `  account id: ${account.id}`,
      `  passcode:   ${account.passcode}`,
      `  token:      ${account.token}`,
      '',
    ].join('\n'),
  );
}
