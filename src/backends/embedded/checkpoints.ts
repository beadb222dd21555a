import { rmSync } from 'node:fs';
import type { ActiveUsersEngine } from '../../engine/active-users-engine.js';
import { BytesPool, StateFormatError, StateReader, StateWriter } from '../../engine/state-stream.js';
import type { StorageEventListener } from '../../store/backend.js';
import type { ActivityDatabase } from './activity-database.js';
import { readCheckpointFile, UnusableCheckpoint, writeCheckpointFile } from './checkpoint-file.js';

/**
 * The engines of a store as they were once every logged batch up to `lastBatchId` was applied and
 * every first-seen time and rewrite learnt from those batches was committed: with the log's batches
 * after `lastBatchId`, replayed at their times, it gives the engines a full replay would.
 */
export interface CheckpointState {
  /** The store's engine time. */
  readonly time: number;
  readonly lastBatchId: number;
  readonly engines: ReadonlyMap<string, ActiveUsersEngine>;
}

/**
 * The checkpoint of an embedded store (docs/architecture.md, "Checkpoints"): taken when due (the
 * store says when its state is whole), written in the background one at a time, read back on start
 * when it still fits the log, and thrown away when an account is dropped.
 */
export class Checkpoints {
  private writing: Promise<void> = Promise.resolve();
  private writes = 0;
  private takenAt = Number.NEGATIVE_INFINITY;
  private takenBatchId = -1;
  private suspended = false;
  /** The memory of the last checkpoint, for the next: one copy of the engines' tables, kept. */
  private readonly pool = new BytesPool();

  constructor(
    private readonly path: string,
    private readonly intervalSeconds: number,
    private readonly onEvent: StorageEventListener = () => {},
  ) {}

  /**
   * Whether to take one at store time `time`: the interval has passed since the last one, batches
   * were applied since, and none is being written (a slow disk gets fewer, not a queue of them).
   */
  due(time: number, lastBatchId: number): boolean {
    return (
      !this.suspended &&
      this.writes === 0 &&
      lastBatchId !== this.takenBatchId &&
      time - this.takenAt >= this.intervalSeconds
    );
  }

  /**
   * Copies the state now (the only part that holds the event loop: one memory copy per table) and
   * writes it in the background, after any write in progress.
   */
  take(state: CheckpointState): void {
    if (this.suspended) return;
    const started = performance.now();
    const out = new StateWriter(this.pool);
    out.number(state.time);
    out.number(state.lastBatchId);
    out.number(state.engines.size);
    for (const [account, engine] of state.engines) {
      out.string(account);
      engine.exportState(out);
    }
    const parts = out.finish();
    const pauseMs = performance.now() - started;
    this.takenAt = state.time;
    this.takenBatchId = state.lastBatchId;
    this.writes++;
    const bytes = parts.reduce((sum, part) => sum + part.length, 0);
    this.writing = this.writing
      .then(() => writeCheckpointFile(this.path, parts))
      .then(
        () =>
          this.onEvent('debug', 'checkpoint written', {
            path: this.path,
            lastBatchId: state.lastBatchId,
            bytes,
            pauseMs: Math.round(pauseMs * 10) / 10,
            ms: Math.round(performance.now() - started),
          }),
        (error: unknown) =>
          this.onEvent('warn', 'cannot write the checkpoint; a restart replays more of the log', {
            path: this.path,
            err: error,
          }),
      )
      .finally(() => {
        this.writes--;
        this.pool.keep(parts);
      });
  }

  /** Resolves once every checkpoint taken is written (or failed to be). */
  idle(): Promise<void> {
    return this.writing;
  }

  /**
   * Deletes the checkpoint and takes none until `resume`: for a change the log alone records (an
   * account dropped), which an older checkpoint would undo on the next start.
   */
  async discard(): Promise<void> {
    this.suspended = true;
    await this.writing;
    rmSync(this.path, { force: true });
    this.takenAt = Number.NEGATIVE_INFINITY;
    this.takenBatchId = -1;
  }

  resume(): void {
    this.suspended = false;
  }

  /**
   * The engines of the checkpoint, made by `newEngine`, if there is one and it fits `log`; else
   * undefined, after a warning saying why (the store then replays the whole log). An unreadable,
   * truncated, corrupt or old-format file, one from another horizon or value cap, one the log has
   * moved past (batches after it deleted, or ids reused since) and one ahead of the log (an older
   * log restored) are all unusable.
   */
  restore(
    log: ActivityDatabase,
    newEngine: (account: string) => ActiveUsersEngine,
  ): (CheckpointState & { readonly engines: Map<string, ActiveUsersEngine> }) | undefined {
    const started = performance.now();
    try {
      const payload = readCheckpointFile(this.path);
      if (payload === undefined) return undefined;
      const input = new StateReader(payload);
      const time = input.number();
      const lastBatchId = input.count();
      const engines = new Map<string, ActiveUsersEngine>();
      for (let count = input.count(); count > 0; count--) {
        const account = input.string();
        const engine = newEngine(account);
        engine.importState(input);
        engines.set(account, engine);
      }
      input.end();
      const { latestAtUpTo, firstIdAfter, lastId } = log.logAround(lastBatchId);
      if (latestAtUpTo !== null && latestAtUpTo > time)
        throw new UnusableCheckpoint('the log was emptied and started again since (batch ids reused)');
      if (lastId !== null && lastId < lastBatchId)
        throw new UnusableCheckpoint(
          `the log ends at batch ${lastId}, before it (batch ${lastBatchId}): an older activity.db restored?`,
        );
      if (firstIdAfter !== null && firstIdAfter !== lastBatchId + 1)
        throw new UnusableCheckpoint(
          `the log no longer holds the batches after it (next logged batch ${firstIdAfter}, expected ${lastBatchId + 1})`,
        );
      this.takenAt = time;
      this.takenBatchId = lastBatchId;
      this.onEvent('info', 'checkpoint loaded; replaying the log after it', {
        path: this.path,
        lastBatchId,
        accounts: engines.size,
        ms: Math.round(performance.now() - started),
      });
      return { time, lastBatchId, engines };
    } catch (error) {
      if (!(error instanceof UnusableCheckpoint || error instanceof StateFormatError)) throw error;
      this.onEvent('warn', `checkpoint unusable (${error.message}); replaying the whole log`, {
        path: this.path,
      });
      return undefined;
    }
  }
}
