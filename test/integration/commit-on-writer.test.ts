import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../../src/backends/embedded/embedded-store.js';
import type { NowQuery } from '../../src/model/now-query.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';
import { StoreUnavailableError } from '../../src/store/store.js';

/**
 * The embedded store committing batches on the writer thread: the event loop runs on while a
 * commit is in flight, and nothing that happens meanwhile may make the log replay differently from
 * what was applied, or lose what was acknowledged.
 */

const HORIZON = 1800;
/** 10 s before a minute starts. */
const T1 = 1_764_000_050;
const QUERY: NowQuery = { window: 60, userType: true, splits: DIMENSIONS, timeline: true };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'activenow-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function open(file: string): EmbeddedStore {
  return new EmbeddedStore({
    horizonSeconds: HORIZON,
    valueCap: 256,
    database: new ActivityDatabase(file, 'process'),
  });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function loggedTimes(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT at FROM activity_batch ORDER BY id').pluck().all() as number[];
  } finally {
    db.close();
  }
}

describe('commits on the writer thread', () => {
  it('starts another writer thread once the one it had stopped, and loses nothing acknowledged', async () => {
    const file = join(dir, 'activity.db');
    const database = new ActivityDatabase(file, 'process');
    const store = new EmbeddedStore({ horizonSeconds: HORIZON, valueCap: 256, database });
    await store.recover();
    await store.record('acc', [{ user: 'u1', ts: T1, browser: 'Chrome' }], T1);
    // The thread ends as a crash would end it (its own object: the database keeps it private).
    const thread = (database as unknown as { logWriter: { worker: Worker } }).logWriter.worker;
    await thread.terminate();
    await store.record('acc', [{ user: 'u2', ts: T1, browser: 'Safari' }], T1);
    const before = await store.now('acc', QUERY, T1);
    expect(before.count).toBe(2);
    await store.close();
    expect(loggedTimes(file)).toEqual([T1, T1]);
    const again = open(file);
    await again.recover();
    expect(await again.now('acc', QUERY, T1)).toEqual(before);
    await again.close();
  });

  it('logs a batch at the later time a query moved the clock to while it was committed', async () => {
    const file = join(dir, 'activity.db');
    const store = open(file);
    await store.recover();
    // Received at T1 with a time 30 s ahead: applied at T1 it would count at T1 (a time later than
    // the receive time counts as the receive time), applied at T1 + 40 it counts at T1 + 30.
    const recorded = store.record('acc', [{ user: 'u', ts: T1 + 30, browser: 'Chrome' }], T1);
    await turn(); // the flush has run: the commit is on the writer thread
    await store.now('acc', QUERY, T1 + 40);
    await recorded;
    const live = await store.now('acc', QUERY, T1 + 89);
    expect(live.count).toBe(1);
    await store.close();
    expect(loggedTimes(file)).toEqual([T1 + 40]);

    const reopened = open(file);
    await reopened.recover();
    expect(await reopened.now('acc', QUERY, T1 + 89)).toEqual(live);
    await reopened.close();
  });

  it('close waits for every batch asked for, and refuses batches once closed', async () => {
    const file = join(dir, 'activity.db');
    const store = open(file);
    await store.recover();
    const recorded: Promise<void>[] = [];
    for (let b = 0; b < 20; b++) {
      recorded.push(store.record('acc', [{ user: `u${b}`, ts: T1 }], T1));
      if (b % 5 === 4) await turn();
    }
    await store.close();
    await Promise.all(recorded);
    await expect(store.record('acc', [{ user: 'late', ts: T1 }], T1)).rejects.toThrow(StoreUnavailableError);
    expect(loggedTimes(file)).toHaveLength(20);

    const reopened = open(file);
    await reopened.recover();
    expect((await reopened.now('acc', QUERY, T1)).count).toBe(20);
    await reopened.close();
  });

  it('fails a commit once closed with StoreUnavailableError, the writer thread started or not', async () => {
    const nothing = { batches: [], rewrites: [], retimes: [], firstSeen: [], expireUpTo: 0 };
    for (const used of [false, true]) {
      const database = new ActivityDatabase(join(dir, `${used}.db`), 'process');
      if (used) await database.commitOnWriter(nothing);
      await database.close();
      const refused = database.commitOnWriter(nothing);
      await expect(refused).rejects.toThrow(StoreUnavailableError);
      await expect(refused).rejects.toThrow(/is closed/);
    }
  });
});
