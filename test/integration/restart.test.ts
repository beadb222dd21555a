import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../../src/backends/embedded/embedded-store.js';
import { SqliteAccountRegistry } from '../../src/backends/embedded/sqlite-account-registry.js';
import { type Activity, VALUE_KEY_OF } from '../../src/model/activity.js';
import type { NowQuery, NowResult } from '../../src/model/now-query.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { untilOutput } from '../../support/cli-process.js';
import { freePort } from '../../support/free-port.js';
import { getJson, postJson } from '../../support/json-requests.js';
import { cliScope } from '../support/cli-scope.js';
import { NaiveOracle } from '../support/naive-oracle.js';

/**
 * The embedded store across restarts, in process, with explicit times: what a restart brings back
 * (the log replayed at the times it was applied, first-seen times from their table), what
 * retention deletes and what it must keep, and readiness while the log is replayed.
 *
 * Three ways to restart: `close` (an orderly shutdown), `crash` (the store is abandoned without
 * closing and a new one opens a copy of its files taken then: what `kill -9` leaves on disk, first-
 * seen times not yet committed included) and `abandon` (a new store opens the very same file while
 * the abandoned one is still open).
 */

const HORIZON = 1800;
const VALUE_CAP = 256;
const T0 = 1_764_000_000;
const ACTIVITY_FILE = 'activity.db';

type RestartKind = 'close' | 'crash' | 'abandon';
const RESTARTS: readonly RestartKind[] = ['close', 'crash', 'abandon'];

const QUERIES: readonly NowQuery[] = [
  { window: 300, userType: true, splits: DIMENSIONS, timeline: true },
  { window: 1800, userType: true, splits: DIMENSIONS, timeline: false },
  { window: 300, userType: false, splits: [], timeline: false },
  { window: 1800, userType: true, splits: ['browser'], timeline: true },
];

const stores: EmbeddedStore[] = [];
const { processes, dir } = cliScope('restart');

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function newStore(file: string, valueCap = VALUE_CAP): EmbeddedStore {
  const store = new EmbeddedStore({
    horizonSeconds: HORIZON,
    valueCap,
    database: new ActivityDatabase(file, 'process'),
  });
  stores.push(store);
  return store;
}

async function openStore(file: string, valueCap = VALUE_CAP): Promise<EmbeddedStore> {
  const store = newStore(file, valueCap);
  await store.recover();
  return store;
}

/** Lets commits scheduled for the next turn of the event loop (maintenance's) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Restarts the store of `file` the given way; returns the new store and the file it uses. */
async function restart(
  kind: RestartKind,
  store: EmbeddedStore,
  file: string,
  valueCap = VALUE_CAP,
): Promise<{ store: EmbeddedStore; file: string }> {
  if (kind === 'close') {
    await store.close();
    return { store: await openStore(file, valueCap), file };
  }
  if (kind === 'abandon') return { store: await openStore(file, valueCap), file };
  const copyDir = join(dir(), `crash-${stores.length}`);
  mkdirSync(copyDir);
  const copy = join(copyDir, ACTIVITY_FILE);
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) copyFileSync(file + suffix, copy + suffix);
  }
  return { store: await openStore(copy, valueCap), file: copy };
}

/** Counts rows of a table straight from the file, read-only, as another process would. */
function countRows(file: string, table: 'activity_batch' | 'first_seen'): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * Every query of QUERIES for every account at every time of `times`, time by time (the store has one
 * clock for all accounts, which never goes back).
 */
async function answers(
  store: EmbeddedStore,
  accounts: readonly string[],
  times: readonly number[],
): Promise<NowResult[]> {
  const results: NowResult[] = [];
  for (const at of times)
    for (const account of accounts)
      for (const query of QUERIES) results.push(await store.now(account, query, at));
  return results;
}

function oracleAnswers(oracles: readonly NaiveOracle[], times: readonly number[]): NowResult[] {
  const results: NowResult[] = [];
  for (const at of times)
    for (const oracle of oracles) for (const query of QUERIES) results.push(oracle.query(query, at));
  return results;
}

const SOURCES = ['Direct', 'Push', 'Email', undefined];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', undefined];
const OSES = ['Android', 'iOS', undefined];
const DEVICES = ['Mobile', 'Desktop', undefined];

describe.each(RESTARTS)('restart by %s', (kind) => {
  it('brings back every count of a mixed workload, equal to before and to the naive oracle', async () => {
    const random = seededRandom(20_251_126);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    const file = join(dir(), ACTIVITY_FILE);
    const store = await openStore(file);
    const accounts = ['acct-a', 'acct-b'];
    const oracles = new Map(
      accounts.map((a) => [a, new NaiveOracle({ horizonSeconds: HORIZON, valueCap: VALUE_CAP })]),
    );
    let t = T0;
    let logged = 0;
    // About 2700 simulated seconds: longer than the horizon, so retention deletes early log rows.
    for (let step = 0; step < 60; step++) {
      t += Math.floor(random() * 90);
      // One to three uploads at the same moment share one commit (group commit).
      const uploads = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const activities: Activity[] = Array.from({ length: 1 + Math.floor(random() * 10) }, () => {
          const r = random();
          // Mostly now; some late (up to 700 s old); a few in the future (counted as now).
          const ts =
            r < 0.7 ? t : r < 0.9 ? t - Math.floor(random() * 700) : t + 1 + Math.floor(random() * 60);
          return {
            user: `u${Math.floor(random() * 40)}`,
            ts,
            sessionSource: pick(SOURCES),
            browser: pick(BROWSERS),
            os: pick(OSES),
            device: pick(DEVICES),
          };
        });
        return { account: pick(accounts), activities };
      });
      await Promise.all(uploads.map((u) => store.record(u.account, u.activities, t)));
      logged += uploads.length;
      for (const u of uploads) oracles.get(u.account)?.record(u.activities, t);
      if (random() < 0.3) {
        t += Math.floor(random() * 30);
        store.maintain(t);
        for (const oracle of oracles.values()) oracle.maintain(t);
        await settle();
      }
    }
    const times = [t + 1, t + 120, t + 900];
    const before = await answers(store, accounts, times);
    expect(before, 'before the restart').toEqual(oracleAnswers([...oracles.values()], times));
    // The scenario means something: users of both accounts are counted, retention deleted rows.
    expect(before[0].count).toBeGreaterThan(0);
    expect(before[QUERIES.length].count).toBeGreaterThan(0);
    const kept = countRows(file, 'activity_batch');
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(logged);

    const reopened = await restart(kind, store, file);
    expect(await answers(reopened.store, accounts, times), 'after the restart').toEqual(before);
  });

  it('forgets activity once the window has passed, but not first-seen times, after the log rows are deleted', async () => {
    const file = join(dir(), ACTIVITY_FILE);
    const store = await openStore(file);
    const oracle = new NaiveOracle({ horizonSeconds: HORIZON, valueCap: VALUE_CAP });
    const early: Activity[] = ['old-1', 'old-2', 'old-3'].map((user) => ({
      user,
      ts: T0,
      browser: 'Chrome',
    }));
    await store.record('acc', early, T0);
    oracle.record(early, T0);
    expect((await store.now('acc', QUERIES[0], T0)).userType).toEqual({ new: 3, returning: 0 });
    expect(countRows(file, 'activity_batch')).toBe(1);

    // Maintenance runs on: idle commits apply retention, so the log row expires and is deleted.
    for (const at of [T0 + 60, T0 + 600, T0 + 1200, T0 + 1799, T0 + 1800, T0 + 1801, T0 + 2400, T0 + 3599]) {
      store.maintain(at);
      oracle.maintain(at);
      await settle();
    }
    expect(countRows(file, 'activity_batch')).toBe(0);
    expect(countRows(file, 'first_seen')).toBe(3);

    const reopened = await restart(kind, store, file);
    const at = T0 + 3600;
    const empty = await answers(reopened.store, ['acc'], [at]);
    expect(empty).toEqual(oracleAnswers([oracle], [at]));
    for (const result of empty) expect(result.count).toBe(0);
    expect(empty[0].timeline?.every((point) => point.count === 0)).toBe(true);

    const comeback: Activity[] = [
      { user: 'old-1', ts: at, browser: 'Firefox' },
      { user: 'brand-new', ts: at, browser: 'Safari' },
    ];
    await reopened.store.record('acc', comeback, at);
    oracle.record(comeback, at);
    const after = await answers(reopened.store, ['acc'], [at]);
    expect(after).toEqual(oracleAnswers([oracle], [at]));
    expect(after[0].count).toBe(2);
    // old-1 is returning: only the first_seen table can say so, the log row is gone.
    expect(after[0].userType).toEqual({ new: 1, returning: 1 });
    expect(after[0].newSplits?.browser).toEqual([['Safari', 1]]);
    expect(countRows(reopened.file, 'activity_batch')).toBe(1);
  });
});

describe('retention under steady traffic', () => {
  it('keeps the log at one horizon of batches, the file bounded, and the counts right, over 3 simulated hours', async () => {
    const file = join(dir(), ACTIVITY_FILE);
    const store = await openStore(file);
    const INTERVAL = 5;
    const BATCHES = (3 * 3600) / INTERVAL;
    const POOL = 300;
    const BROWSER_OF = ['Chrome', 'Safari', 'Firefox', 'Edge', 'App'];
    const browserOf = (user: string) => BROWSER_OF[Number(user.slice(1)) % BROWSER_OF.length];
    const latest = new Map<string, number>();
    const firstSeen = new Map<string, number>();
    const batchTimes: number[] = [];
    const sizes = new Map<number, { db: number; total: number }>();

    /** Distinct users in (at - window, at], from the test's own bookkeeping (ts = receive time). */
    const expected = (at: number, window: number) => {
      const active = [...latest].filter(([, ts]) => ts > at - window && ts <= at).map(([user]) => user);
      const fresh = active.filter((user) => (firstSeen.get(user) ?? 0) > at - window);
      const browsers = new Map<string, number>();
      for (const user of active) browsers.set(browserOf(user), (browsers.get(browserOf(user)) ?? 0) + 1);
      return {
        count: active.length,
        userType: { new: fresh.length, returning: active.length - fresh.length },
        browsers,
      };
    };
    const check = async (s: EmbeddedStore, at: number) => {
      for (const window of [300, 1800]) {
        const got = await s.now('acc', { window, userType: true, splits: ['browser'], timeline: false }, at);
        const want = expected(at, window);
        expect(got.count, `t+${at - T0}, window ${window}`).toBe(want.count);
        expect(got.userType, `t+${at - T0}, window ${window}`).toEqual(want.userType);
        expect(Object.fromEntries(got.splits.browser ?? []), `t+${at - T0}, window ${window}`).toEqual(
          Object.fromEntries(want.browsers),
        );
      }
    };

    let user = 0;
    for (let b = 0; b < BATCHES; b++) {
      const at = T0 + b * INTERVAL;
      const users = Array.from({ length: 20 }, () => `u${user++ % POOL}`);
      // Now and then someone never seen before.
      if (b % 10 === 0) users.push(`n${b}`);
      await store.record(
        'acc',
        users.map((u) => ({ user: u, ts: at, browser: browserOf(u) })),
        at,
      );
      store.maintain(at);
      batchTimes.push(at);
      for (const u of users) {
        latest.set(u, at);
        if (!firstSeen.has(u)) firstSeen.set(u, at);
      }
      const elapsed = at - T0 + INTERVAL;
      if (elapsed % 600 === 0) {
        // Exactly the batches of the last horizon are kept: enough to replay, nothing more.
        const live = batchTimes.filter((time) => time > at - HORIZON).length;
        expect(countRows(file, 'activity_batch'), `t+${elapsed}`).toBe(live);
        expect(live).toBeLessThanOrEqual(HORIZON / INTERVAL);
        await check(store, at);
      }
      if (elapsed === 3600 || elapsed === 3 * 3600) {
        const db = statSync(file).size;
        const wal = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
        sizes.set(elapsed, { db, total: db + wal });
      }
    }
    const hour1 = sizes.get(3600);
    const hour3 = sizes.get(3 * 3600);
    if (hour1 === undefined || hour3 === undefined) throw new Error('sizes not taken');
    console.log(
      `retention: activity.db ${hour1.db} B at 1 h, ${hour3.db} B at 3 h; with WAL ${hour1.total} B, ${hour3.total} B`,
    );
    // The log holds one horizon both times; without retention it would hold three times as much.
    expect(hour3.db).toBeLessThanOrEqual(1.5 * hour1.db);
    expect(hour3.total).toBeLessThanOrEqual(1.5 * hour1.total);

    const end = T0 + (BATCHES - 1) * INTERVAL;
    const before = await answers(store, ['acc'], [end, end + 60]);
    await store.close();
    const reopened = await openStore(file);
    expect(await answers(reopened, ['acc'], [end, end + 60])).toEqual(before);
    await check(reopened, end + 60);
  });
});

describe('while the log is replayed', () => {
  it('is not ready, refuses now() and record() with StoreUnavailableError, then answers in full', async () => {
    const file = join(dir(), ACTIVITY_FILE);
    const first = await openStore(file);
    // Many more batches than one replay step takes, so replay spans many turns of the event loop.
    const BATCHES = 2000;
    for (let b = 0; b < BATCHES; b += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => first.record('acc', [{ user: `u${b + i}`, ts: T0 }], T0)),
      );
    }
    await first.close();

    const store = newStore(file);
    expect(store.readiness()).toBe('starting');
    const recovering = store.recover();
    expect(store.readiness()).toBe('starting');
    await expect(store.now('acc', QUERIES[2], T0)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.record('acc', [{ user: 'during-replay', ts: T0 }], T0)).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    store.maintain(T0 + 10);
    expect(store.readiness()).toBe('starting');
    await recovering;
    expect(store.readiness()).toBe('ready');
    const result = await store.now('acc', QUERIES[0], T0 + 10);
    // Every logged user and nothing of the refused record.
    expect(result.count).toBe(BATCHES);
    expect(result.userType).toEqual({ new: BATCHES, returning: 0 });
  });

  it('answers /readyz and the API with 503 "Server is starting" until the log is replayed (real CLI)', async () => {
    const dataDir = join(dir(), 'data');
    mkdirSync(dataDir);
    const registry = new SqliteAccountRegistry(join(dataDir, 'activenow.db'));
    const account = await registry.create({ name: 'big', region: 'eu1' });
    await registry.close();
    // ~200k activities in 2000 batches, at the real time: the server replays them on start.
    const BATCHES = 2000;
    const PER_BATCH = 100;
    const at = Math.floor(Date.now() / 1000);
    const prepared = await openStore(join(dataDir, ACTIVITY_FILE));
    for (let b = 0; b < BATCHES; b += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          prepared.record(
            account.id,
            Array.from({ length: PER_BATCH }, (_, j) => ({
              user: `u${b + i}-${j}`,
              ts: at,
              browser: 'Chrome',
            })),
            at,
          ),
        ),
      );
    }
    await prepared.close();
    const total = BATCHES * PER_BATCH;

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = processes.launch([
      'serve',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
    ]);
    const starting = { status: 'fail', error: 'Server is starting; retry later', code: 503 };
    const readyz: { status: number; body: unknown }[] = [];
    const api: { status: number; body: unknown }[] = [];
    for (;;) {
      if (server.child.exitCode !== null) throw new Error(`serve exited: ${server.stderr()}`);
      try {
        const ready = await getJson(`${url}/readyz`);
        readyz.push({ status: ready.status, body: ready.body });
        const now = await postJson(`${url}/1/now.json`, account, {});
        api.push({ status: now.status, body: now.body });
        if (ready.status === 200) break;
      } catch {
        // Not listening yet.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    console.log(
      `readiness: ${readyz.filter((r) => r.status === 503).length} × 503 from /readyz, then ready (${total} activities replayed)`,
    );
    expect(readyz.filter((r) => r.status === 503).length, JSON.stringify(readyz.slice(0, 3))).toBeGreaterThan(
      0,
    );
    for (const r of readyz) {
      expect(r).toEqual(
        r.status === 503 ? { status: 503, body: starting } : { status: 200, body: { status: 'ready' } },
      );
    }
    expect(readyz.at(-1)).toEqual({ status: 200, body: { status: 'ready' } });
    // The API answers 503 or everything: never a count of a partly replayed log.
    expect(api.some((r) => r.status === 503)).toBe(true);
    for (const r of api) {
      expect(r).toEqual(
        r.status === 503
          ? { status: 503, body: starting }
          : { status: 200, body: { status: 'success', count: total } },
      );
    }

    await untilOutput(server, () => server.stdout().includes('listening on'));
    expect(server.stdout()).toContain(`listening on ${url}`);
    expect(await getJson(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await postJson(`${url}/1/now.json`, account, { user_type: true })).body).toEqual({
      status: 'success',
      count: total,
      user_type: { new: total, returning: 0 },
    });
  });
});

describe('value cap after retention', () => {
  /*
   * At T+1700 the cap (2 here) is full with A and B, held by users seen at T, so C folds into Other.
   * Retention then deletes the row of T; replaying C's row must still fold C, although nobody holds
   * A or B on replay: the store logs the batch as it was applied (C written as Other).
   */
  it.each(DIMENSIONS)('gives the same %s split after a restart as before it', async (dimension) => {
    const key = VALUE_KEY_OF[dimension];
    const file = join(dir(), ACTIVITY_FILE);
    const store = await openStore(file, 2);
    await store.record(
      'acc',
      [
        { user: 'a', ts: T0, [key]: 'A' },
        { user: 'b', ts: T0, [key]: 'B' },
      ],
      T0,
    );
    await store.record('acc', [{ user: 'c', ts: T0 + 1700, [key]: 'C' }], T0 + 1700);
    for (const at of [T0 + 1750, T0 + 1800, T0 + 1801, T0 + 1810]) {
      store.maintain(at);
      await settle();
    }
    const query: NowQuery = { window: 300, userType: true, splits: [dimension], timeline: false };
    const before = await store.now('acc', query, T0 + 1810);
    expect(before.splits[dimension]).toEqual([['Other', 1]]);
    expect(countRows(file, 'activity_batch')).toBe(1);
    await store.close();
    const reopened = await openStore(file, 2);
    expect(await reopened.now('acc', query, T0 + 1810)).toEqual(before);
  });
});
