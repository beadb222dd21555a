import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT } from './repo-root.js';

/**
 * The real command line as child processes (`node --import tsx src/cli/main.ts …`), as an operator
 * runs it: no ACTIVENOW_* variable inherited from the environment running the tests or benchmarks.
 * Every child started through one `CliProcesses` is tracked so that a test's cleanup can end them all.
 */

export interface Credentials {
  readonly id: string;
  readonly passcode: string;
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child with everything it printed so far. */
export interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
}

export interface ServerProcess extends Running {
  /** e.g. http://127.0.0.1:41234, from the `listening on` line. */
  readonly url: string;
  /** Everything printed on stdout up to the chunk holding the `listening on` line. */
  readonly startup: string;
  /** The first account, when this start created it (parsed from `startup`). */
  readonly created: Credentials | undefined;
}

export interface LaunchOptions {
  readonly env?: Record<string, string>;
  /**
   * Runs the command under `bash -c PREFIX; exec node …` (e.g. `trap '' XFSZ; ulimit -f 512`), so
   * the limits set by PREFIX apply to the server process itself.
   */
  readonly shellPrefix?: string;
}

export class CliProcesses {
  private readonly children = new Set<ChildProcess>();

  launch(args: readonly string[], options: LaunchOptions = {}): Running {
    const nodeArgs = ['--import', 'tsx', 'src/cli/main.ts', ...args];
    const [command, argv] =
      options.shellPrefix === undefined
        ? [process.execPath, nodeArgs]
        : ['bash', ['-c', `${options.shellPrefix}; exec "$0" "$@"`, process.execPath, ...nodeArgs]];
    const child = spawn(command, argv, {
      cwd: ROOT,
      env: environment(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    // 'close' rather than 'exit': by then stdout and stderr have been read to the end.
    const exited = new Promise<Exit>((resolve) =>
      child.once('close', (code, signal) => {
        this.children.delete(child);
        resolve({ code, signal });
      }),
    );
    return { child, stdout: () => stdout, stderr: () => stderr, exited };
  }

  /** Runs a command to completion. */
  async run(args: readonly string[], options: LaunchOptions = {}): Promise<Finished> {
    const running = this.launch(args, options);
    const { code, signal } = await running.exited;
    return { code, signal, stdout: running.stdout(), stderr: running.stderr() };
  }

  /** Starts `serve` and resolves once it prints `listening on http://HOST:PORT`. */
  serve(args: readonly string[], options: LaunchOptions = {}): Promise<ServerProcess> {
    const running = this.launch(['serve', ...args], options);
    return new Promise((resolve, reject) => {
      const look = () => {
        const out = running.stdout();
        const listening = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
        if (listening === null) return;
        running.child.stdout?.off('data', look);
        const id = /^\s*account id:\s*(\S+)$/m.exec(out)?.[1];
        const passcode = /^\s*passcode:\s*(\S+)$/m.exec(out)?.[1];
        resolve({
          ...running,
          url: listening[1],
          startup: out,
          created: id !== undefined && passcode !== undefined ? { id, passcode } : undefined,
        });
      };
      // Registered after launch's own listener, so `stdout()` already holds the chunk.
      running.child.stdout?.on('data', look);
      void running.exited.then(({ code, signal }) =>
        reject(
          new Error(
            `serve exited (${code ?? signal}) before listening:\n${running.stdout()}\n${running.stderr()}`,
          ),
        ),
      );
    });
  }

  /**
   * Ends one child: SIGTERM, then SIGKILL if it has not gone after `killAfterMs`. Resolves with how
   * it ended (at once if it had already exited).
   */
  async stop(running: Running, killAfterMs = 5_000): Promise<Exit> {
    await end(running.child, killAfterMs);
    return running.exited;
  }

  /** Ends every child still running: SIGTERM, then SIGKILL if it lingers (cleanup only). */
  async stopAll(killAfterMs = 5_000): Promise<void> {
    await Promise.all([...this.children].map((child) => end(child, killAfterMs)));
  }
}

async function end(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await gone;
  clearTimeout(timer);
}

function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('ACTIVENOW_'));
  return { ...Object.fromEntries(inherited), ...extra };
}

/** Creates an account with `activenow accounts create --json`. */
export async function createAccount(
  processes: CliProcesses,
  dataDir: string,
  name: string,
): Promise<Credentials> {
  const finished = await processes.run([
    'accounts',
    'create',
    '--name',
    name,
    '--json',
    '--data-dir',
    dataDir,
  ]);
  if (finished.code !== 0) throw new Error(`accounts create failed (${finished.code}): ${finished.stderr}`);
  const parsed = JSON.parse(finished.stdout) as { id: string; passcode: string };
  return { id: parsed.id, passcode: parsed.passcode };
}

/**
 * Resolves once `done()` holds, checked whenever the child prints something and when it exits;
 * resolves at exit in any case (the caller then looks at what it printed and how it ended).
 */
export function untilOutput(running: Running, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const look = () => {
      if (!done()) return;
      stop();
      resolve();
    };
    const stop = () => {
      running.child.stdout?.off('data', look);
      running.child.stderr?.off('data', look);
    };
    running.child.stdout?.on('data', look);
    running.child.stderr?.on('data', look);
    void running.exited.then(() => {
      stop();
      resolve();
    });
    look();
  });
}
