import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { CliProcesses } from '../../support/cli-process.js';

export interface CliScope {
  readonly processes: CliProcesses;
  /** The current test's own temporary directory. */
  dir(): string;
}

/**
 * What a test file running the command line needs: one CliProcesses whose children are ended after
 * each test, and a fresh temporary directory per test (`activenow-<name>-…`), removed after it.
 * A file's own afterEach hooks, registered later, run before this cleanup. `killAfterMs`: how long
 * a child may take to end after SIGTERM before it is killed.
 */
export function cliScope(name: string, options: { readonly killAfterMs?: number } = {}): CliScope {
  const processes = new CliProcesses();
  let current: string | undefined;
  beforeEach(async () => {
    current = await mkdtemp(join(tmpdir(), `activenow-${name}-`));
  });
  afterEach(async () => {
    await processes.stopAll(options.killAfterMs);
    if (current !== undefined) await rm(current, { recursive: true, force: true });
    current = undefined;
  });
  return {
    processes,
    dir() {
      if (current === undefined) throw new Error('no test is running');
      return current;
    },
  };
}
