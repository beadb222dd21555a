/**
 * Re-runs the current command under `taskset -c <last core>` (where taskset exists) so the code
 * measured gets one core of its own and the rest of the machine's noise falls elsewhere. Returns
 * the core pinned to, or undefined when running unpinned.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';

const PINNED_ENV = 'BENCH_PINNED_CORE';

export function pinToOneCore(extraNodeFlags: readonly string[] = []): string | undefined {
  if (process.env[PINNED_ENV] !== undefined) return process.env[PINNED_ENV];
  if (process.env.BENCH_NO_PIN === '1') return undefined;
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));
  if (taskset === undefined) return undefined;
  const core = String(Math.max(0, os.cpus().length - 1));
  const execArgv = [
    ...extraNodeFlags.filter((flag) => !process.execArgv.includes(flag)),
    ...process.execArgv,
  ];
  const child = spawnSync(taskset, ['-c', core, process.execPath, ...execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [PINNED_ENV]: core },
  });
  process.exit(child.status ?? 1);
}

/**
 * Moves a running process, all its threads included, to the first core, away from a client pinned
 * to the last one by {@link pinToOneCore}. Returns the core, or undefined when nothing was pinned.
 */
export function pinOtherProcess(pid: number | string): string | undefined {
  if (process.env[PINNED_ENV] === undefined || os.cpus().length < 2) return undefined;
  execFileSync('taskset', ['-a', '-cp', '0', String(pid)], { stdio: 'ignore' });
  return '0';
}
