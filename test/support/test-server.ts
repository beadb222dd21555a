import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../../src/backends/embedded/embedded-store.js';
import { SqliteAccountRegistry } from '../../src/backends/embedded/sqlite-account-registry.js';
import { closeWithin } from '../../src/cli/shutdown.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../src/defaults.js';
import { type AppOptions, buildApp } from '../../src/http/app.js';
import type { NowStreamOptions } from '../../src/http/now-stream-hub.js';
import { loadCountryOfIp } from '../../src/ingest/country-of-ip.js';

export interface TestServer {
  readonly app: FastifyInstance;
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly account: AccountCredentials;
  readonly accounts: SqliteAccountRegistry;
  readonly store: EmbeddedStore;
  /** The server's clock, epoch seconds; tests move it. */
  readonly clock: { now: number };
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly region?: string;
  readonly maxBodyBytes?: number;
  readonly maxInFlight?: number;
  readonly maxHitsPerSecond?: number;
  readonly horizonSeconds?: number;
  readonly valueCap?: number;
  readonly startAt?: number;
  /** Limits and timing of `/1/now/stream`. */
  readonly nowStream?: NowStreamOptions;
  readonly maxRequestsPerSecond?: number;
  readonly connectionLimits?: AppOptions['connectionLimits'];
  readonly metrics?: AppOptions['metrics'];
  readonly trustProxy?: AppOptions['trustProxy'];
}

/**
 * The real HTTP server on a free loopback port, over real SQLite files in a fresh temporary
 * directory, with an injectable clock. `close` removes everything it made.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'activenow-test-'));
  const region = options.region ?? 'eu1';
  const horizonSeconds = options.horizonSeconds ?? 1800;
  const accounts = new SqliteAccountRegistry(join(dir, 'activenow.db'));
  const account = await accounts.create({ name: 'test', region });
  const store = new EmbeddedStore({
    horizonSeconds,
    valueCap: options.valueCap ?? 256,
    database: new ActivityDatabase(join(dir, 'activity.db'), 'process'),
  });
  await store.recover();
  const clock = { now: options.startAt ?? 1_764_145_200 };
  const app = buildApp({
    store,
    accounts,
    region,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    maxInFlight: options.maxInFlight ?? 15,
    maxHitsPerSecond: options.maxHitsPerSecond,
    nowStream: options.nowStream,
    maxRequestsPerSecond: options.maxRequestsPerSecond,
    connectionLimits: options.connectionLimits,
    metrics: options.metrics,
    trustProxy: options.trustProxy,
    // As `serve` does: the IP database the package ships.
    countryOfIp: loadCountryOfIp(),
    horizonSeconds,
    clock: () => clock.now,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('server has no address');
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    account,
    accounts,
    store,
    clock,
    async close() {
      // As `serve` stops: a request the client never finished (the fuzzer sends some) is cut after
      // the shutdown timeout instead of holding close until the request timeout.
      await closeWithin(app, DEFAULT_SHUTDOWN_TIMEOUT_MS);
      await store.close();
      await accounts.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The credential headers of an account, spelled as curl users write them. */
export function credentials(account: AccountCredentials): Record<string, string> {
  return { 'X-CleverTap-Account-Id': account.id, 'X-CleverTap-Passcode': account.passcode };
}

/** POSTs JSON (or raw text) and returns status, headers and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
    text,
  };
}
