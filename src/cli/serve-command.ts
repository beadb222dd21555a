import type { Command } from 'commander';
import { type Backend, openBackend } from '../composition-root.js';
import { loadServeConfig, type ServeConfig } from '../config.js';
import { buildApp, systemClock } from '../http/app.js';
import { type Demo, startDemo } from './demo.js';
import { addStorageOptions } from './storage-options.js';

/** How often the backend's housekeeping runs (embedded: forgetting users that left the horizon). */
const MAINTENANCE_INTERVAL_MS = 1000;

export function registerServeCommand(program: Command): void {
  addStorageOptions(program.command('serve').description('serve the API'))
    .option('--port <port>', 'port to listen on (default 8080)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--durability <mode>', 'process | full (default process)')
    .option('--demo', 'also run a demo account with simulated traffic')
    .option('--max-body-bytes <n>', 'largest request body (default 1048576)')
    .option('--max-in-flight <n>', 'requests in flight per account before 429 (default 15)')
    .option('--max-hits-per-second <n>', 'browser hits per second and account before 429 (default 1000)')
    .option('--max-streams <n>', 'open /1/now/stream streams per account before 429 (default 10)')
    .option('--horizon-seconds <n>', 'seconds of activity kept, 1800-3600 (default 1800)')
    .option('--value-cap <n>', 'distinct values per dimension and account (default 256)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent (default info)')
    .action(async (flags: Record<string, unknown>) => {
      await serve(loadServeConfig({ flags, env: process.env }));
    });
}

async function serve(config: ServeConfig): Promise<void> {
  let log: ((error: Error) => void) | undefined;
  const backend = openBackend(config, { onStorageError: (error) => log?.(error) });
  const app = buildApp({
    store: backend.store,
    accounts: backend.accounts,
    region: config.region,
    maxBodyBytes: config.maxBodyBytes,
    maxInFlight: config.maxInFlight,
    maxHitsPerSecond: config.maxHitsPerSecond,
    nowStream: { maxStreams: config.maxStreams },
    horizonSeconds: config.horizonSeconds,
    logger: { level: config.logLevel },
  });
  log = (error) => app.log.warn({ err: error }, 'storage connection problem');
  const maintenance = setInterval(() => backend.maintain(systemClock()), MAINTENANCE_INTERVAL_MS);
  maintenance.unref();
  let demo: Demo | undefined;
  const stop = async () => {
    await demo?.stop();
    clearInterval(maintenance);
    await app.close();
    await backend.close();
  };
  // Listen first so /healthz and /readyz answer while the backend recovers; API routes answer 503.
  await app.listen({ port: config.port, host: config.host });
  const started = Date.now();
  try {
    await backend.recover();
    await announceFirstAccount(backend, config);
  } catch (error) {
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
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
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
