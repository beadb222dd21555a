import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../../src/backends/embedded/embedded-store.js';
import type { Activity } from '../../src/model/activity.js';
import type { NowQuery } from '../../src/model/now-query.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';
import { encodeBatchV1 } from '../../support/batch-codec-v1-encoder.js';
import { encodeBatchV2 } from '../support/batch-codec-v2.js';

/**
 * A data directory written by versions that logged format 1 and format 2 records, opened by this
 * one: the old rows replay as they were, new rows are written in format 3 beside them, and the
 * mixed log replays to the same answers as a store that was given every batch in memory.
 */

const HORIZON = 1800;
const VALUE_CAP = 4;
const T0 = 1_764_000_000;
const QUERY: NowQuery = { window: 1800, userType: true, splits: DIMENSIONS, timeline: true };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'activenow-log-upgrade-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Batches of CleverTap's four dimensions, and of page and country too when `later`. */
function batches(
  seed: number,
  count: number,
  from: number,
  later = false,
): { at: number; activities: Activity[] }[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, b) => {
    const at = from + 7 * b;
    return {
      at,
      activities: Array.from({ length: 40 }, () => ({
        user: `u${Math.floor(random() * 300)}`,
        ts: at - Math.floor(random() * 90),
        // More browsers than the value cap: some fold into Other.
        browser: `b${Math.floor(random() * 7)}`,
        os: random() < 0.5 ? 'Android' : undefined,
        ...(later ? { page: `/p${Math.floor(random() * 5)}`, country: random() < 0.5 ? 'IN' : 'US' } : {}),
      })),
    };
  });
}

function payloadVersions(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT payload FROM activity_batch ORDER BY id').pluck().all() as Buffer[];
    return rows.map((payload) => payload[0]);
  } finally {
    db.close();
  }
}

describe('a log of format 1 and 2 records', () => {
  it('replays, takes format 3 records beside them, and replays mixed', async () => {
    const file = join(dir, 'activity.db');
    const old = batches(1, 30, T0);
    const later = batches(2, 30, T0 + 7 * 30, true);
    const memory = new EmbeddedStore({ horizonSeconds: HORIZON, valueCap: VALUE_CAP });

    // What earlier versions left: their schema (unchanged), rows of format 1 then of format 2 at
    // their applied times.
    new ActivityDatabase(file, 'process').close();
    const legacy = new Database(file);
    const insert = legacy.prepare('INSERT INTO activity_batch (account, at, payload) VALUES (?, ?, ?)');
    for (const [k, batch] of old.entries()) {
      await memory.record('acct', batch.activities, batch.at);
      const encode = k < old.length / 2 ? encodeBatchV1 : encodeBatchV2;
      insert.run('acct', batch.at, encode(batch.activities));
    }
    legacy.close();

    const upgraded = new EmbeddedStore({
      horizonSeconds: HORIZON,
      valueCap: VALUE_CAP,
      database: new ActivityDatabase(file, 'process'),
    });
    await upgraded.recover();
    const end = old[old.length - 1].at;
    expect(await upgraded.now('acct', QUERY, end)).toEqual(await memory.now('acct', QUERY, end));

    for (const batch of later) {
      await memory.record('acct', batch.activities, batch.at);
      await upgraded.record('acct', batch.activities, batch.at);
    }
    await upgraded.close();
    const versions = payloadVersions(file);
    // Old rows are kept as written, or rewritten in the current format.
    for (const [k, v] of versions.slice(0, old.length).entries()) {
      expect([k < old.length / 2 ? 1 : 2, 3]).toContain(v);
    }
    expect(versions.slice(old.length)).toEqual(later.map(() => 3));

    const reopened = new EmbeddedStore({
      horizonSeconds: HORIZON,
      valueCap: VALUE_CAP,
      database: new ActivityDatabase(file, 'process'),
    });
    await reopened.recover();
    const last = later[later.length - 1].at;
    const expected = await memory.now('acct', QUERY, last);
    expect(expected.splits.browser?.map(([value]) => value)).toContain('Other');
    expect(expected.splits.page?.length).toBeGreaterThan(1);
    expect(await reopened.now('acct', QUERY, last)).toEqual(expected);
    await reopened.close();
  });
});
