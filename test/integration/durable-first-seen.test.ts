import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { DurableFirstSeen } from '../../src/backends/embedded/durable-first-seen.js';

/**
 * First-seen times while their commit runs on the writer thread: the database does not show them
 * yet, so they must still be answered from memory, or a returning user would be counted as new.
 */

let dir: string;
let database: ActivityDatabase;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'activenow-first-seen-'));
  database = new ActivityDatabase(join(dir, 'activity.db'), 'process');
});
afterEach(async () => {
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

const commitOf = (rows: ReturnType<DurableFirstSeen['drain']>) =>
  database.commitOnWriter({ batches: [], rewrites: [], retimes: [], firstSeen: rows, expireUpTo: 0 });

describe('DurableFirstSeen', () => {
  it('answers times being committed from memory, then from the database once committed', async () => {
    const firstSeen = new DurableFirstSeen(database);
    const registry = firstSeen.registryFor('acc');
    expect(registry.observe('x', 100)).toBe(100);
    const rows = firstSeen.drain();
    expect(rows).toEqual([{ account: 'acc', user: 'x', ts: 100 }]);
    const commit = commitOf(rows);
    // In flight: not in the database yet, not pending any more.
    expect(database.firstSeen('acc', 'x')).toBeUndefined();
    expect(registry.observe('x', 200)).toBe(100);
    expect(firstSeen.hasPending).toBe(false);
    await commit;
    firstSeen.committed();
    expect(database.firstSeen('acc', 'x')).toBe(100);
    expect(registry.observe('x', 300)).toBe(100);
    // An earlier time learnt while the commit ran waits for the next one.
    expect(registry.observe('x', 50)).toBe(50);
    expect(firstSeen.drain()).toEqual([{ account: 'acc', user: 'x', ts: 50 }]);
  });

  it('keeps the times of a failed commit for the next one', () => {
    const firstSeen = new DurableFirstSeen(database);
    const registry = firstSeen.registryFor('acc');
    registry.observe('x', 100);
    const rows = firstSeen.drain();
    registry.observe('x', 90);
    firstSeen.restore(rows);
    expect(registry.observe('x', 200)).toBe(90);
    expect(firstSeen.drain()).toEqual([{ account: 'acc', user: 'x', ts: 90 }]);
  });
});
