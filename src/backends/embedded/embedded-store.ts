import { ActiveUsersEngine, type FoldListener } from '../../engine/active-users-engine.js';
import type { FirstSeenRegistry } from '../../engine/first-seen-registry.js';
import { InMemoryFirstSeenRegistry } from '../../engine/in-memory-first-seen-registry.js';
import type { Activity } from '../../model/activity.js';
import type { NowQuery, NowResult } from '../../model/now-query.js';
import { SPLIT_NAMES, type SplitName } from '../../protocol/dimensions.js';
import { type Store, type StoreReadiness, StoreUnavailableError } from '../../store/store.js';
import type { ActivityDatabase, BatchRetime, BatchRewrite, LogChanges } from './activity-database.js';
import { decodeBatch, encodeBatch } from './batch-codec.js';
import type { CheckpointState, Checkpoints } from './checkpoints.js';
import { DurableFirstSeen } from './durable-first-seen.js';
import { withFoldedValues } from './folded-batch.js';

export interface EmbeddedStoreOptions {
  readonly horizonSeconds: number;
  readonly valueCap: number;
  /**
   * Where accepted batches and first-seen times are made durable before they are acknowledged.
   * Without one, everything lives in memory only (tests, benchmarks' baseline).
   */
  readonly database?: ActivityDatabase;
  /** With a database: the engines saved now and then, so that a start replays only the log after. */
  readonly checkpoints?: Checkpoints;
}

/** Users looked at per account and per maintenance pass: enough to keep up, small enough not to pause. */
const SWEEP_BUDGET = 10_000;
/** Logged batches replayed between two turns of the event loop, so health checks answer meanwhile. */
const REPLAY_CHUNK = 64;
/** How long first-seen times learnt while applying a batch may wait for a commit of their own. */
const FIRST_SEEN_COMMIT_DELAY_MS = 200;
/** Seconds without traffic after which maintenance commits anyway, to run retention. */
const IDLE_COMMIT_SECONDS = 5;

interface PendingBatch {
  readonly account: string;
  readonly activities: readonly Activity[];
  readonly at: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One in-memory engine per account, made on first use and dropped when it holds no user. With a
 * database, batches are group-committed to its log (all requests waiting at one turn of the event
 * loop share one transaction) and applied to the engines only once durable; on start the log is
 * replayed in order, at the times it was applied, so the engines come back exactly as they were:
 * the whole log, or with checkpoints only the batches after the last one (checkpoints.ts).
 *
 * Engine time is one monotonic clock for the whole store, the latest of every time it was given,
 * so that replaying the log with its recorded times reproduces every decision.
 */
export class EmbeddedStore implements Store {
  private readonly engines = new Map<string, ActiveUsersEngine>();
  private readonly memoryFirstSeen = new Map<string, InMemoryFirstSeenRegistry>();
  private readonly firstSeen: DurableFirstSeen | undefined;
  /** Answers queries of accounts without an engine; never records anything. */
  private readonly emptyEngine: ActiveUsersEngine;
  private queue: PendingBatch[] = [];
  /** Logged batches to be rewritten as they were applied, with the next commit. */
  private rewrites: BatchRewrite[] = [];
  /** Logged batches to be given the later time they were applied at, with the next commit. */
  private retimes: BatchRetime[] = [];
  /** The commit running on the writer thread, settled once its batches are applied. */
  private commitInFlight: Promise<void> | undefined;
  private flushScheduled: 'now' | 'later' | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private time = 0;
  /** Counts changes that may alter answers; see answerStamp. */
  private changes = 0;
  /** The latest change that may alter every account's answers: the clock moved, an engine went. */
  private changedForAll = 0;
  /** Per account, the latest change of its engine. */
  private readonly changedAccounts = new Map<string, number>();
  private lastCommitAt = 0;
  /** Id of the last logged batch applied to the engines. */
  private lastBatchId = 0;
  private ready: boolean;
  private closed = false;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.firstSeen = options.database && new DurableFirstSeen(options.database);
    this.ready = options.database === undefined;
    this.emptyEngine = this.newEngine({ observe: (_user, ts) => ts });
  }

  /** Rebuilds the engines from the log; the store is ready once it returns. */
  async recover(): Promise<void> {
    const database = this.options.database;
    if (database === undefined || this.ready) return;
    const restored = this.options.checkpoints?.restore(database, (account) => this.newEngineFor(account));
    if (restored !== undefined) {
      for (const [account, engine] of restored.engines) this.engines.set(account, engine);
      this.time = restored.time;
      this.lastBatchId = restored.lastBatchId;
    }
    let afterId = this.lastBatchId;
    for (;;) {
      const batches = database.batchesAfter(afterId, REPLAY_CHUNK);
      if (batches.length === 0) break;
      for (const batch of batches) {
        this.apply(batch.account, decodeBatch(batch.payload), this.advance(batch.at), batch.id);
        afterId = batch.id;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.lastCommitAt = this.time;
    this.ready = true;
    if (this.hasDeferredWrites()) this.scheduleFlush('later');
  }

  async record(account: string, activities: readonly Activity[], at: number): Promise<void> {
    this.refuseWhileRecovering();
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    if (this.options.database === undefined) {
      this.recordInto(account, activities, this.advance(at));
      return;
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ account, activities, at, resolve, reject });
      this.scheduleFlush('now');
    });
  }

  readonly splitNames: readonly SplitName[] = SPLIT_NAMES;

  async now(account: string, query: NowQuery, at: number): Promise<NowResult> {
    this.refuseWhileRecovering();
    return (this.engines.get(account) ?? this.emptyEngine).query(query, this.advance(at));
  }

  answerStamp(account: string, at: number): number | undefined {
    if (!this.ready || at > this.time) return undefined;
    return Math.max(this.changedAccounts.get(account) ?? 0, this.changedForAll);
  }

  async dropAccount(account: string): Promise<void> {
    // A checkpoint holding the account would bring it back on the next start: gone first.
    await this.options.checkpoints?.discard();
    try {
      // After the commit running: it may hold batches of the account, which it applies on return.
      while (this.commitInFlight !== undefined) await this.commitInFlight;
      this.dropEngine(account);
      this.memoryFirstSeen.delete(account);
      this.firstSeen?.forgetAccount(account);
      this.options.database?.deleteAccount(account);
    } finally {
      this.options.checkpoints?.resume();
    }
  }

  /**
   * Forgets users that left the horizon and drops engines left empty, which changes no answer: an
   * engine with no user has nothing in any window or in the timeline. With a database, also commits
   * when traffic is idle, so retention keeps running. Called periodically.
   */
  maintain(at: number): void {
    if (!this.ready) return;
    const now = this.advance(at);
    for (const [account, engine] of this.engines) {
      engine.maintain(now, SWEEP_BUDGET);
      if (engine.trackedUsers === 0) this.dropEngine(account);
    }
    if (this.options.database && now - this.lastCommitAt >= IDLE_COMMIT_SECONDS) this.scheduleFlush('now');
  }

  readiness(): StoreReadiness {
    return this.ready ? 'ready' : 'starting';
  }

  async close(): Promise<void> {
    await this.finishCommits();
    const checkpoints = this.options.checkpoints;
    if (checkpoints && this.ready) {
      // A last checkpoint, so that the next start replays nothing; it may be taken only once the
      // first-seen times learnt from the batches just applied are committed too.
      if (this.hasDeferredWrites()) await this.finishCommits();
      if (!this.hasDeferredWrites()) checkpoints.take(this.checkpointState());
      await checkpoints.idle();
    }
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.closed = true;
    await this.options.database?.close();
    this.engines.clear();
  }

  private scheduleFlush(when: 'now' | 'later'): void {
    if (this.flushScheduled === 'now' || this.flushScheduled === when) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushScheduled = when;
    if (when === 'now') setImmediate(this.flush);
    else this.flushTimer = setTimeout(this.flush, FIRST_SEEN_COMMIT_DELAY_MS);
  }

  /**
   * Commits everything waiting in one transaction, then applies it and acknowledges it. Batches are
   * committed on the writer thread, one commit at a time: batches that arrive meanwhile are parsed
   * and queued, and go in the next, which starts as soon as it returns. A commit without batches
   * (first-seen times, rewrites, retention) keeps no one waiting, and runs here at once.
   */
  private readonly flush = (): void => {
    this.flushScheduled = undefined;
    this.flushTimer = undefined;
    const database = this.options.database;
    if (database === undefined || this.closed || this.commitInFlight !== undefined) return;
    const batches = this.queue;
    this.queue = [];
    let at = this.time;
    for (const batch of batches) at = Math.max(at, batch.at);
    at = this.advance(at);
    const firstSeen = this.firstSeen?.drain() ?? [];
    const rewrites = this.rewrites;
    const retimes = this.retimes;
    this.rewrites = [];
    this.retimes = [];
    const fail = (error: unknown): void => {
      this.firstSeen?.restore(firstSeen);
      this.rewrites = [...rewrites, ...this.rewrites];
      this.retimes = [...retimes, ...this.retimes];
      for (const batch of batches) batch.reject(error);
    };
    let changes: LogChanges;
    try {
      changes = {
        batches: batches.map((batch) => ({
          account: batch.account,
          at,
          payload: encodeBatch(batch.activities),
        })),
        rewrites,
        retimes,
        firstSeen,
        expireUpTo: at - this.options.horizonSeconds,
      };
      if (batches.length === 0) database.commit(changes);
    } catch (error) {
      fail(error);
      return;
    }
    if (batches.length === 0) {
      this.committed(at);
      return;
    }
    this.commitInFlight = database.commitOnWriter(changes).then(
      (ids) => {
        this.committed(at);
        // Queries while the commit ran may have moved the clock on: apply at that time, as a replay
        // will once the log row is retimed.
        const appliedAt = this.advance(at);
        batches.forEach((batch, i) => {
          if (appliedAt > at) this.retimes.push({ id: ids[i], at: appliedAt });
          try {
            this.apply(batch.account, batch.activities, appliedAt, ids[i]);
            batch.resolve();
          } catch (error) {
            batch.reject(error);
          }
        });
        this.afterCommit();
      },
      (error: unknown) => {
        fail(error);
        this.afterCommit();
      },
    );
  };

  /**
   * After a commit, before the batches it carried are applied: everything applied so far, and all
   * it taught (first-seen times, rewrites, retimes: the commit carried them), is durable now, the
   * moment for a checkpoint.
   */
  private committed(at: number): void {
    this.firstSeen?.committed();
    this.lastCommitAt = at;
    if (this.options.checkpoints?.due(at, this.lastBatchId))
      this.options.checkpoints.take(this.checkpointState());
  }

  private checkpointState(): CheckpointState {
    return { time: this.time, lastBatchId: this.lastBatchId, engines: this.engines };
  }

  /** Starts the next commit at once if batches wait for one. */
  private afterCommit(): void {
    this.commitInFlight = undefined;
    if (this.queue.length > 0) this.flush();
    else if (this.hasDeferredWrites()) this.scheduleFlush('later');
  }

  /** Waits for the commit running, and those it starts, then commits what may still wait. */
  private async finishCommits(): Promise<void> {
    while (this.commitInFlight !== undefined) await this.commitInFlight;
    if (!this.ready || (this.queue.length === 0 && !this.hasDeferredWrites())) return;
    this.flush();
    while (this.commitInFlight !== undefined) await this.commitInFlight;
  }

  /** Applies a logged batch; values the engine folds into Other are logged that way next commit. */
  private apply(account: string, activities: readonly Activity[], at: number, logId: number): void {
    this.lastBatchId = logId;
    const folds: number[] = [];
    this.recordInto(account, activities, at, (activity, dimension) => folds.push(activity, dimension));
    if (folds.length > 0)
      this.rewrites.push({ id: logId, payload: encodeBatch(withFoldedValues(activities, folds)) });
  }

  private recordInto(
    account: string,
    activities: readonly Activity[],
    at: number,
    onFold?: FoldListener,
  ): void {
    this.changedAccounts.set(account, ++this.changes);
    this.engine(account).record(activities, at, onFold);
  }

  /** First-seen times, rewrites and retimes that may wait for a later commit (see their comments). */
  private hasDeferredWrites(): boolean {
    return this.rewrites.length > 0 || this.retimes.length > 0 || this.firstSeen?.hasPending === true;
  }

  private advance(at: number): number {
    if (at > this.time) {
      this.time = at;
      this.changedForAll = ++this.changes;
    }
    return this.time;
  }

  private dropEngine(account: string): void {
    this.engines.delete(account);
    this.changedAccounts.delete(account);
    this.changedForAll = ++this.changes;
  }

  private refuseWhileRecovering(): void {
    if (!this.ready) throw new StoreUnavailableError('the activity log is being replayed');
  }

  private engine(account: string): ActiveUsersEngine {
    let engine = this.engines.get(account);
    if (engine === undefined) {
      engine = this.newEngineFor(account);
      this.engines.set(account, engine);
    }
    return engine;
  }

  private newEngineFor(account: string): ActiveUsersEngine {
    return this.newEngine(this.firstSeen?.registryFor(account) ?? this.memoryRegistry(account));
  }

  /** Without a database, first-seen times still outlive an account's engine being dropped. */
  private memoryRegistry(account: string): FirstSeenRegistry {
    let registry = this.memoryFirstSeen.get(account);
    if (registry === undefined) {
      registry = new InMemoryFirstSeenRegistry();
      this.memoryFirstSeen.set(account, registry);
    }
    return registry;
  }

  private newEngine(registry: FirstSeenRegistry): ActiveUsersEngine {
    return new ActiveUsersEngine({
      registry,
      horizonSeconds: this.options.horizonSeconds,
      valueCap: this.options.valueCap,
    });
  }
}
