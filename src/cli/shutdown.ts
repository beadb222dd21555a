import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/** Extra time the whole shutdown may take beyond the request drain before the process gives up. */
const SHUTDOWN_MARGIN_MS = 5_000;

/**
 * SIGTERM / SIGINT run `shutdown` once, then exit 0 (1 if it failed); a second signal, or a
 * shutdown still running `timeoutMs` + 5 s later, exits at once with status 1.
 */
export function exitOnSignals(
  shutdown: () => Promise<void>,
  timeoutMs: number,
  log: FastifyBaseLogger,
): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error({ ms: timeoutMs + SHUTDOWN_MARGIN_MS }, 'shutdown is taking too long: exiting');
      process.exit(1);
    }, timeoutMs + SHUTDOWN_MARGIN_MS).unref();
    shutdown().then(
      () => {
        log.info('shut down');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Stops accepting connections and lets requests in flight finish, for at most `timeoutMs`; then
 * closes the connections still open (their requests get no answer, so none was acknowledged).
 */
export async function closeWithin(app: FastifyInstance, timeoutMs: number): Promise<void> {
  const closed = app.close();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<true>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const late = await Promise.race([closed.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    app.log.warn(
      { timeoutMs },
      'requests still in flight at the shutdown timeout: closing their connections',
    );
    app.server.closeAllConnections();
    await closed;
  }
}
