import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../store/store.js';
import type { Durability, LogChanges } from './activity-database.js';
import { asStoreUnavailable } from './storage-errors.js';

export interface LogWriterOptions {
  readonly path: string;
  readonly durability: Durability;
  /** Its share of the page cache (activity-database.ts), KiB. */
  readonly pageCacheKiB: number;
}

export type WriterReply =
  | { readonly ids: number[] }
  | {
      readonly error: {
        readonly name: string;
        readonly message: string;
        readonly code: string | undefined;
        readonly stack: string | undefined;
      };
    };

interface Waiting {
  readonly resolve: (ids: number[]) => void;
  readonly reject: (error: unknown) => void;
}

/** The thread's module beside this one: .ts when run from the sources, .js once built. */
const THREAD = new URL(`./log-writer-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Commits to `activity.db` made by a worker thread on a connection of its own, so that a commit (the
 * transaction, and its fsync in `full` durability) does not stop the event loop: uploads are parsed
 * while the previous group commits. Commits run in the order they are asked for; each promise
 * settles once its transaction has committed (durable per the durability mode) or failed, a failure
 * of storage as StoreUnavailableError, as on the main thread.
 */
export class LogWriter {
  private readonly worker: Worker;
  private readonly waiting: Waiting[] = [];
  /** Why the thread stopped, once it has: every request from then on fails with it. */
  private stopped: Error | undefined;
  private readonly exited: Promise<void>;
  /** Settles once the thread has opened its connection (or failed to), or has stopped. */
  readonly ready: Promise<void>;

  constructor(private readonly options: LogWriterOptions) {
    this.worker = startThread(options);
    // The thread keeps the process alive only while a request waits for it.
    this.worker.unref();
    let started = (): void => {};
    this.ready = new Promise((resolve) => {
      started = resolve;
    });
    this.worker.on('message', (reply: WriterReply | 'ready') => {
      if (reply === 'ready') started();
      else this.settle(reply);
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.stop(
          new StoreUnavailableError(`the activity log writer of ${options.path} stopped (exit code ${code})`),
        );
        started();
        resolve();
      });
    });
    this.worker.on('error', (error) =>
      this.stop(
        new StoreUnavailableError(`the activity log writer of ${options.path} failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
  }

  /** Whether the thread has stopped: every commit asked of it from then on fails. */
  get hasStopped(): boolean {
    return this.stopped !== undefined;
  }

  /** Commits `changes` in one transaction; resolves with the ids of the appended batches. */
  commit(changes: LogChanges): Promise<number[]> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) this.worker.ref();
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(changes);
    });
  }

  /** Lets every request made before it finish, then ends the thread and waits for it to exit. */
  async close(): Promise<void> {
    if (this.stopped === undefined) {
      this.worker.ref();
      this.worker.postMessage('close');
    }
    await this.exited;
  }

  private settle(reply: WriterReply): void {
    const waiting = this.waiting.shift();
    if (waiting === undefined) return;
    if (this.waiting.length === 0) this.worker.unref();
    if ('ids' in reply) waiting.resolve(reply.ids);
    else
      waiting.reject(
        asStoreUnavailable(`cannot write the activity log ${this.options.path}`, revive(reply.error)),
      );
  }

  private stop(reason: Error): void {
    this.stopped ??= reason;
    for (const waiting of this.waiting.splice(0)) waiting.reject(reason);
  }
}

/** The error of the thread as the same class, so that it is told apart as on the main thread. */
function revive({ name, message, code, stack }: Extract<WriterReply, { error: unknown }>['error']): Error {
  const error =
    name === 'SqliteError' && code !== undefined
      ? new Database.SqliteError(message, code)
      : Object.assign(new Error(message), code === undefined ? {} : { code });
  if (stack !== undefined) error.stack = stack;
  return error;
}

function startThread(options: LogWriterOptions): Worker {
  if (!THREAD.pathname.endsWith('.ts')) return new Worker(THREAD, { workerData: options });
  // From the TypeScript sources (tests, benchmarks, `node --import tsx`) the thread needs tsx's
  // loader too: a worker does not inherit the loader hooks of its parent. Found from the working
  // directory, as `--import tsx` finds it.
  const script = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD.href)}); })`;
  return new Worker(script, { eval: true, workerData: options });
}
