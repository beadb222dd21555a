import Database from 'better-sqlite3';
import { DEFAULT_PAGE_CACHE_MIB } from '../../defaults.js';
import { StoreUnavailableError } from '../../store/store.js';
import { logTransaction } from './log-transaction.js';
import { LogWriter, type LogWriterOptions } from './log-writer.js';
import { attempt } from './storage-errors.js';

export type Durability = 'process' | 'full';

export interface LoggedBatch {
  readonly id: number;
  readonly account: string;
  /** Engine time the batch was applied at, epoch seconds. */
  readonly at: number;
  readonly payload: Buffer;
}

/** A logged batch to be replaced by the form it was applied in (values folded into Other). */
export interface BatchRewrite {
  readonly id: number;
  readonly payload: Buffer;
}

/** A logged batch applied later than the time it was logged with (see EmbeddedStore's `apply`). */
export interface BatchRetime {
  readonly id: number;
  readonly at: number;
}

export interface FirstSeenRow {
  readonly account: string;
  readonly user: string;
  readonly ts: number;
}

export interface LogChanges {
  readonly batches: readonly Omit<LoggedBatch, 'id'>[];
  readonly rewrites: readonly BatchRewrite[];
  readonly retimes: readonly BatchRetime[];
  readonly firstSeen: readonly FirstSeenRow[];
  readonly expireUpTo: number;
}

/** Most users looked up per query by `firstSeenMany`. */
const LOOKUP_CHUNK = 512;
/**
 * The SQLite file of the embedded store: the log of accepted batches (replayed on start) and the
 * first-seen registry. WAL mode; `process` durability survives the process being killed
 * (synchronous=NORMAL), `full` also survives power loss (synchronous=FULL: fsync on commit).
 * Commits of batches can run on a worker thread's connection (log-writer.ts), overlapping the event
 * loop's other work; everything else runs on this thread's connection. The caller never has both
 * write at once. Every SQLite failure surfaces as StoreUnavailableError.
 */
export class ActivityDatabase {
  private readonly db: Database.Database;
  private readonly writerOptions: LogWriterOptions;
  /** Started by `startWriter` or the first commit on it: a replay commits nothing. */
  private logWriter: LogWriter | undefined;
  private readonly commitHere: (changes: LogChanges) => number[];
  private readonly selectFirstSeen: Database.Statement<[string, string], number>;
  /**
   * By n: the query of 2^n users. A batch usually has few users the engines do not hold; padding
   * each query to the largest size made a replay look up ~20 keys for each one asked (half its time).
   */
  private readonly selectFirstSeenChunks: Database.Statement<string[], [string, number]>[] = [];
  private readonly selectBatches: Database.Statement<[number, number], LoggedBatch>;

  constructor(
    private readonly path: string,
    durability: Durability,
    pageCacheMiB: number = DEFAULT_PAGE_CACHE_MIB,
  ) {
    this.db = attempt(`cannot open ${path}`, () => {
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('busy_timeout = 5000');
      db.pragma(`cache_size = -${readerCacheKiB(pageCacheMiB)}`);
      db.exec(`
        CREATE TABLE IF NOT EXISTS activity_batch (
          id INTEGER PRIMARY KEY,
          account TEXT NOT NULL,
          at INTEGER NOT NULL,
          payload BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS activity_batch_at ON activity_batch (at);
        CREATE TABLE IF NOT EXISTS first_seen (
          account TEXT NOT NULL,
          user TEXT NOT NULL,
          ts INTEGER NOT NULL,
          PRIMARY KEY (account, user)
        ) WITHOUT ROWID;
      `);
      return db;
    });
    const db = this.db;
    this.selectFirstSeen = db
      .prepare<[string, string], number>('SELECT ts FROM first_seen WHERE account = ? AND user = ?')
      .pluck();
    for (let size = 1; size <= LOOKUP_CHUNK; size *= 2) {
      this.selectFirstSeenChunks.push(
        db
          .prepare<string[], [string, number]>(
            `SELECT user, ts FROM first_seen WHERE account = ? AND user IN (${new Array(size).fill('?').join(',')})`,
          )
          .raw(),
      );
    }
    this.selectBatches = db.prepare<[number, number], LoggedBatch>(
      'SELECT id, account, at, payload FROM activity_batch WHERE id > ? ORDER BY id LIMIT ?',
    );
    this.commitHere = logTransaction(db);
    this.writerOptions = {
      path,
      durability,
      pageCacheKiB: pageCacheMiB * 1024 - readerCacheKiB(pageCacheMiB),
    };
  }

  /**
   * One transaction: rewrites, retimes and appends batches, records first-seen times, and deletes
   * some log rows applied at or before `expireUpTo`. Durable, per the durability mode, when it
   * returns the ids of the appended batches.
   */
  commit(changes: LogChanges): number[] {
    return attempt(`cannot write the activity log ${this.path}`, () => this.commitHere(changes));
  }

  /**
   * `commit` on the writer thread: durable, and visible to this object's reads, once it resolves.
   * Not while a `commit` or `deleteAccount` could run: the caller waits for one before the other.
   */
  commitOnWriter(changes: LogChanges): Promise<number[]> {
    if (!this.db.open)
      return Promise.reject(new StoreUnavailableError(`the activity log ${this.path} is closed`));
    return this.writer().commit(changes);
  }

  /**
   * Starts the writer thread; resolves once it is ready for commits, so that the first upload does
   * not wait for it to start (tens of ms, more from the TypeScript sources).
   */
  async startWriter(): Promise<void> {
    if (this.db.open) await this.writer().ready;
  }

  /**
   * The writer thread, started on first use and again after one stopped (it crashed or ran out of
   * memory): the commits it was running failed, and were answered as storage failures, like any
   * unanswered request (retrying is safe: an activity counted twice counts once); the next commit
   * starts a new thread rather than failing until a restart.
   */
  private writer(): LogWriter {
    if (this.logWriter === undefined || this.logWriter.hasStopped)
      this.logWriter = new LogWriter(this.writerOptions);
    return this.logWriter;
  }

  firstSeen(account: string, user: string): number | undefined {
    return attempt(`cannot read first-seen times from ${this.path}`, () =>
      this.selectFirstSeen.get(account, user),
    );
  }

  /**
   * First-seen times of many users of one account at once: looked up in key order, in chunks,
   * which reads the B-tree far faster than one lookup per user. Users never seen are absent.
   */
  firstSeenMany(account: string, users: readonly string[]): Map<string, number> {
    const found = new Map<string, number>();
    const sorted = [...users].sort();
    attempt(`cannot read first-seen times from ${this.path}`, () => {
      for (let i = 0; i < sorted.length; i += LOOKUP_CHUNK) {
        const chunk = sorted.slice(i, i + LOOKUP_CHUNK);
        const n = Math.ceil(Math.log2(chunk.length));
        // Each statement has a fixed number of parameters: pad with a key already asked for.
        while (chunk.length < 2 ** n) chunk.push(chunk[0]);
        for (const [user, ts] of this.selectFirstSeenChunks[n].all(account, ...chunk)) found.set(user, ts);
      }
    });
    return found;
  }

  /**
   * What a checkpoint of the batches up to `id` must know of the log to be used with it: the latest
   * time among those batches still logged, the first id after `id`, and the last id.
   */
  logAround(id: number): { latestAtUpTo: number | null; firstIdAfter: number | null; lastId: number | null } {
    return attempt(`cannot read the activity log ${this.path}`, () => ({
      lastId: this.db.prepare<[], number | null>('SELECT max(id) FROM activity_batch').pluck().get() ?? null,
      latestAtUpTo:
        this.db
          .prepare<[number], number | null>('SELECT max(at) FROM activity_batch WHERE id <= ?')
          .pluck()
          .get(id) ?? null,
      firstIdAfter:
        this.db
          .prepare<[number], number | null>('SELECT min(id) FROM activity_batch WHERE id > ?')
          .pluck()
          .get(id) ?? null,
    }));
  }

  /** Up to `limit` logged batches after `afterId`, oldest first. */
  batchesAfter(afterId: number, limit: number): LoggedBatch[] {
    return attempt(`cannot read the activity log ${this.path}`, () => this.selectBatches.all(afterId, limit));
  }

  deleteAccount(account: string): void {
    attempt(`cannot delete an account from ${this.path}`, () => {
      this.db.prepare('DELETE FROM activity_batch WHERE account = ?').run(account);
      this.db.prepare('DELETE FROM first_seen WHERE account = ?').run(account);
    });
  }

  /** Finishes the commits asked of the writer thread, then closes both connections. */
  async close(): Promise<void> {
    await this.logWriter?.close();
    if (this.db.open) this.db.close();
  }
}

/**
 * The page cache is shared out between the two connections, so that `--page-cache-mib` bounds the
 * whole: half for reads (first-seen lookups, the replay), half for the writer thread's commits. The
 * reader's pages are dropped whenever the writer commits (another connection changed the file), so
 * it needs no more than that.
 */
function readerCacheKiB(pageCacheMiB: number): number {
  return Math.ceil((pageCacheMiB * 1024) / 2);
}
