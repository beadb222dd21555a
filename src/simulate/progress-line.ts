import type { SimulatorStats } from './simulator.js';

/** One progress line: `events sent 1234  rate 20.1/s  errors 0  (12 s)`, with the last error if any. */
export function formatProgress(stats: SimulatorStats): string {
  const line = `events sent ${stats.sent}  rate ${stats.rate.toFixed(1)}/s  errors ${stats.errors}  (${Math.floor(stats.elapsedSeconds)} s)`;
  return stats.lastError === undefined ? line : `${line}  last error: ${stats.lastError}`;
}

export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Prints progress: on a terminal one line rewritten in place every `ttyIntervalMs`; otherwise
 * (a log, a pipe) one line every `plainIntervalMs`.
 */
export function startProgress(
  output: ProgressOutput,
  stats: () => SimulatorStats,
  { ttyIntervalMs = 500, plainIntervalMs = 5_000 } = {},
): { stop(): void } {
  const tty = output.isTTY === true;
  const print = () =>
    output.write(tty ? `\r${formatProgress(stats())}\x1b[K` : `${formatProgress(stats())}\n`);
  const timer = setInterval(print, tty ? ttyIntervalMs : plainIntervalMs);
  return {
    /** Prints the final figures on their own line. */
    stop() {
      clearInterval(timer);
      output.write(tty ? `\r${formatProgress(stats())}\x1b[K\n` : `${formatProgress(stats())}\n`);
    },
  };
}
