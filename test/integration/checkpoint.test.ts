import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { Checkpoints } from '../../src/backends/embedded/checkpoints.js';
import { ACTIVITY_FILE, CHECKPOINT_FILE } from '../../src/backends/embedded/embedded-backend.js';
import { EmbeddedStore } from '../../src/backends/embedded/embedded-store.js';
import { DEFAULT_VALUE_CAP } from '../../src/defaults.js';
import type { Activity } from '../../src/model/activity.js';
import type { NowQuery, NowResult } from '../../src/model/now-query.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';
import { createAccount, type ServerProcess, untilOutput } from '../../support/cli-process.js';
import { postJson } from '../../support/json-requests.js';
import { cliScope } from '../support/cli-scope.js';
import { NaiveOracle } from '../support/naive-oracle.js';

/**
 * The embedded store's checkpoint, in process, with explicit times and real files: a start from a
 * checkpoint and the log after it must give the engines a full replay of the log gives (every
 * split, the new/returning breakdown, the timeline, and what later batches do to them), and any
 * checkpoint that cannot be trusted must be refused with a warning, falling back to that replay.
 * A crash is a copy of the data directory taken while the store is running (what `kill -9`
 * leaves), a checkpoint being written included.
 */

const HORIZON = 1800;
/** Small, so that values fold into Other and logged batches are rewritten. */
const VALUE_CAP = 3;
const T0 = 1_764_000_000;
/** Engine seconds between checkpoints: several in a workload of a simulated hour. */
const INTERVAL = 300;

const QUERIES: readonly NowQuery[] = [
  { window: 300, userType: true, splits: DIMENSIONS, timeline: true },
  { window: 1800, userType: true, splits: DIMENSIONS, timeline: true },
  { window: 60, userType: false, splits: ['browser'], timeline: false },
];

const SOURCES = ['Direct', 'Push', 'Email', 'Social', undefined];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Opera', undefined];
const OSES = ['Android', 'iOS', 'Windows', 'Linux', undefined];
const DEVICES = ['Mobile', 'Desktop', 'Tablet', undefined];
const ACCOUNTS = ['acct-a', 'acct-b', 'acct-c'];

interface Event {
  readonly level: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

const stores: EmbeddedStore[] = [];
const { processes, dir } = cliScope('checkpoint');

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

interface Opened {
  readonly store: EmbeddedStore;
  readonly events: Event[];
  /** Resolves once every checkpoint taken is on disk. */
  written(): Promise<void>;
}

/** A store on the data directory `dataDir`, with checkpoints unless `checkpoints` is false; recovered. */
async function openStore(
  dataDir: string,
  options: { checkpoints?: boolean; valueCap?: number } = {},
): Promise<Opened> {
  const events: Event[] = [];
  const checkpoints =
    options.checkpoints === false
      ? undefined
      : new Checkpoints(join(dataDir, CHECKPOINT_FILE), INTERVAL, (level, message, details) =>
          events.push({ level, message, details }),
        );
  const store = new EmbeddedStore({
    horizonSeconds: HORIZON,
    valueCap: options.valueCap ?? VALUE_CAP,
    database: new ActivityDatabase(join(dataDir, ACTIVITY_FILE), 'process'),
    checkpoints,
  });
  stores.push(store);
  await store.recover();
  return { store, events, written: async () => checkpoints?.idle() };
}

/** What `kill -9` leaves: every file of the data directory as it is now, in a new directory. */
function crashCopy(dataDir: string, name: string): string {
  const copy = join(dir(), name);
  mkdirSync(copy);
  for (const file of [ACTIVITY_FILE, CHECKPOINT_FILE]) {
    for (const suffix of ['', '-wal', '-shm', '.tmp']) {
      if (existsSync(join(dataDir, file + suffix)))
        copyFileSync(join(dataDir, file + suffix), join(copy, file + suffix));
    }
  }
  return copy;
}

/** Lets commits scheduled for the next turn of the event loop run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

function logIds(dataDir: string): { min: number; max: number; rows: number } {
  const db = new Database(join(dataDir, ACTIVITY_FILE), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT min(id) AS min, max(id) AS max, count(*) AS rows FROM activity_batch')
      .get() as {
      min: number;
      max: number;
      rows: number;
    };
  } finally {
    db.close();
  }
}

/** Every query for every account at each of `times`, in order (the store's clock never goes back). */
async function answers(store: EmbeddedStore, times: readonly number[]): Promise<NowResult[]> {
  const results: NowResult[] = [];
  for (const at of times)
    for (const account of ACCOUNTS)
      for (const query of QUERIES) results.push(await store.now(account, query, at));
  return results;
}

function oracleAnswers(oracles: ReadonlyMap<string, NaiveOracle>, times: readonly number[]): NowResult[] {
  const results: NowResult[] = [];
  for (const at of times)
    for (const account of ACCOUNTS)
      for (const query of QUERIES) results.push(oracles.get(account)?.query(query, at) as NowResult);
  return results;
}

/**
 * Random uploads to `targets` (and the oracles) from `t` for `steps` steps; returns the time reached.
 * Ids of every kind the user table keeps: short, longer than a record holds (kept apart), and with
 * characters beyond Latin-1 (two per word).
 */
async function traffic(
  random: () => number,
  targets: readonly Opened[],
  oracles: ReadonlyMap<string, NaiveOracle>,
  from: number,
  steps: number,
): Promise<number> {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  let t = from;
  for (let step = 0; step < steps; step++) {
    t += Math.floor(random() * 40);
    const uploads = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      const activities: Activity[] = Array.from({ length: 1 + Math.floor(random() * 12) }, () => {
        const r = random();
        const ts = r < 0.7 ? t : r < 0.9 ? t - Math.floor(random() * 900) : t + 1 + Math.floor(random() * 60);
        const n = Math.floor(random() * 120);
        const kind = random();
        const user =
          kind < 0.6 ? `u${n}` : kind < 0.85 ? `a-rather-long-user-identifier-${n}` : `ユーザー${n}`;
        return {
          user,
          ts,
          sessionSource: pick(SOURCES),
          browser: pick(BROWSERS),
          os: pick(OSES),
          device: pick(DEVICES),
        };
      });
      return { account: pick(ACCOUNTS), activities };
    });
    for (const { store } of targets)
      await Promise.all(
        uploads.map((u) =>
          store.record(
            u.account,
            u.activities.map((a) => ({ ...a })),
            t,
          ),
        ),
      );
    for (const u of uploads) oracles.get(u.account)?.record(u.activities, t);
    if (random() < 0.3) {
      t += Math.floor(random() * 30);
      for (const { store } of targets) store.maintain(t);
      for (const oracle of oracles.values()) oracle.maintain(t);
      await settle();
    }
    // Checkpoints are written in the background: waiting for them keeps the test independent of
    // the disk's speed (a checkpoint not yet written when due would delay the next one).
    for (const target of targets) await target.written();
  }
  return t;
}

function newOracles(valueCap = VALUE_CAP): Map<string, NaiveOracle> {
  return new Map(ACCOUNTS.map((a) => [a, new NaiveOracle({ horizonSeconds: HORIZON, valueCap })]));
}

function loaded(events: readonly Event[]): Event | undefined {
  return events.find((e) => e.message.startsWith('checkpoint loaded'));
}

function warnings(events: readonly Event[]): Event[] {
  return events.filter((e) => e.level === 'warn');
}

describe('a start from a checkpoint', () => {
  // At a value cap of 3, values fold into Other all the time, and a full replay of a log that
  // retention has shortened may fold differently from the live run: a user whose latest activity
  // (in a deleted batch) held one value and whose late activity (kept) another holds the latter on
  // replay, so different values are live. That limitation of replay is the log's, not the
  // checkpoint's, which keeps the live decisions: the full replay is compared at the default cap,
  // where nothing folds.
  it.each([
    { valueCap: 3, withFullReplay: false },
    { valueCap: DEFAULT_VALUE_CAP, withFullReplay: true },
  ])(
    'after a crash: the last checkpoint plus the log after it gives the answers of before, of the oracle (and of a full replay), then and after more traffic, at value cap $valueCap',
    async ({ valueCap, withFullReplay }) => {
      const random = seededRandom(20_261_203);
      const dataDir = join(dir(), 'data');
      mkdirSync(dataDir);
      const first = await openStore(dataDir, { valueCap });
      const { store } = first;
      const oracles = newOracles(valueCap);
      // About an hour: checkpoints every five minutes, retention deleting the oldest batches.
      let t = await traffic(random, [first], oracles, T0, 150);
      const crashed = crashCopy(dataDir, 'crashed');
      const ids = logIds(crashed);
      const times = [t + 1, t + 200];
      const before = await answers(store, times);
      expect(before, 'before the crash').toEqual(oracleAnswers(oracles, times));
      expect(before[0].count).toBeGreaterThan(0);
      expect(ids.min, 'retention deleted early batches').toBeGreaterThan(1);

      const replayed = await openStore(crashCopy(crashed, 'replayed'), { checkpoints: false, valueCap });
      const restarted = await openStore(crashed, { valueCap });
      const used = loaded(restarted.events);
      expect(warnings(restarted.events)).toEqual([]);
      expect(used?.level).toBe('info');
      // A tail to replay: the checkpoint is not of the last batch (else this tests a close).
      const covered = used?.details.lastBatchId as number;
      expect(covered).toBeGreaterThanOrEqual(ids.min);
      expect(covered).toBeLessThan(ids.max);
      expect(await answers(restarted.store, times), 'checkpoint + tail').toEqual(before);
      if (withFullReplay) expect(await answers(replayed.store, times), 'full replay').toEqual(before);

      // The restored engines keep working as the original ones: more traffic, to all three.
      t = await traffic(random, [first, restarted, replayed], oracles, times[1], 60);
      const later = [t + 1, t + 100];
      const expected = oracleAnswers(oracles, later);
      expect(await answers(store, later), 'the store that never stopped').toEqual(expected);
      expect(await answers(restarted.store, later), 'restarted from the checkpoint').toEqual(expected);
      if (withFullReplay)
        expect(await answers(replayed.store, later), 'restarted by a full replay').toEqual(expected);
    },
  );

  it('after close: the checkpoint covers every logged batch, so no batch is replayed', async () => {
    const { dataDir, oracles, t } = await closedAfterTraffic(7, 40);
    const restarted = await openStore(dataDir);
    expect(loaded(restarted.events)?.details.lastBatchId).toBe(logIds(dataDir).max);
    const times = [t + 1, t + 300];
    expect(await answers(restarted.store, times)).toEqual(oracleAnswers(oracles, times));
  });
});

/**
 * A fresh data directory whose store took `batches` of seeded traffic from T0, then closed (leaving
 * a checkpoint of everything logged): the rest of the traffic is `random`'s, `t` where it stopped.
 */
async function closedAfterTraffic(
  seed: number,
  batches: number,
  valueCap = VALUE_CAP,
): Promise<{ random: () => number; dataDir: string; oracles: Map<string, NaiveOracle>; t: number }> {
  const random = seededRandom(seed);
  const dataDir = join(dir(), 'data');
  mkdirSync(dataDir);
  const opened = await openStore(dataDir, { valueCap });
  const oracles = newOracles(valueCap);
  const t = await traffic(random, [opened], oracles, T0, batches);
  await opened.store.close();
  return { random, dataDir, oracles, t };
}

/** A data directory with a checkpoint and a log after it, and the answers of its store. */
async function checkpointedDirectory(
  seed: number,
): Promise<{ dataDir: string; times: number[]; expected: NowResult[] }> {
  const { dataDir, oracles, t } = await closedAfterTraffic(seed, 40);
  const times = [t + 1, t + 300];
  return { dataDir, times, expected: oracleAnswers(oracles, times) };
}

describe('a checkpoint that cannot be used: a warning saying why, then a full replay', () => {
  const damages: [string, (bytes: Buffer) => Buffer, RegExp][] = [
    [
      'one byte flipped in the payload',
      (bytes) => {
        bytes[Math.floor(bytes.length / 2)] ^= 0x40;
        return bytes;
      },
      /checksum mismatch/,
    ],
    ['truncated', (bytes) => bytes.subarray(0, bytes.length - 100), /truncated/],
    [
      'another format version',
      (bytes) => {
        bytes.writeUInt32LE(99, 8);
        return bytes;
      },
      /format version 99/,
    ],
    ['empty', () => Buffer.alloc(0), /not a checkpoint file/],
  ];

  it.each(damages)('%s', async (_name, damage, reason) => {
    const { dataDir, times, expected } = await checkpointedDirectory(11);
    const path = join(dataDir, CHECKPOINT_FILE);
    writeFileSync(path, damage(readFileSync(path)));
    const restarted = await openStore(dataDir);
    expect(loaded(restarted.events)).toBeUndefined();
    const [warning, ...more] = warnings(restarted.events);
    expect(more).toEqual([]);
    expect(warning.message).toMatch(reason);
    expect(warning.message).toMatch(/replaying the whole log$/);
    expect(await answers(restarted.store, times)).toEqual(expected);
  });

  it('another value cap', async () => {
    const { dataDir } = await checkpointedDirectory(12);
    const replayed = await openStore(crashCopy(dataDir, 'replayed'), { checkpoints: false, valueCap: 5 });
    const restarted = await openStore(dataDir, { valueCap: 5 });
    expect(warnings(restarted.events).map((e) => e.message)).toEqual([
      'checkpoint unusable (slots of another value cap); replaying the whole log',
    ]);
    const times = [T0 + 5000];
    expect(await answers(restarted.store, times)).toEqual(await answers(replayed.store, times));
  });

  it('older than the log it would continue: batches after it deleted by retention', async () => {
    // The default cap: a full replay of a log shortened by retention is exact only where nothing folds.
    const valueCap = DEFAULT_VALUE_CAP;
    const closed = await closedAfterTraffic(13, 20, valueCap);
    const { random, dataDir, oracles } = closed;
    let t = closed.t;
    const old = readFileSync(join(dataDir, CHECKPOINT_FILE));
    // Its own checkpoints would be overwritten below: none taken.
    const reopened = await openStore(dataDir, { valueCap, checkpoints: false });
    // Beyond the horizon: retention deletes the batches the old checkpoint was followed by.
    t = await traffic(random, [reopened], oracles, t, 120);
    await reopened.store.close();
    writeFileSync(join(dataDir, CHECKPOINT_FILE), old);
    const restarted = await openStore(dataDir, { valueCap });
    expect(warnings(restarted.events).map((e) => e.message)).toEqual([
      expect.stringMatching(/^checkpoint unusable \(the log no longer holds the batches after it/),
    ]);
    const times = [t + 1, t + 300];
    expect(await answers(restarted.store, times)).toEqual(oracleAnswers(oracles, times));
  });

  it('older than the log it would continue: the log emptied by retention, then batch ids reused', async () => {
    const closed = await closedAfterTraffic(14, 20);
    const { dataDir, oracles } = closed;
    let t = closed.t;
    const reopened = await openStore(dataDir);
    expect(loaded(reopened.events)).toBeDefined();
    const covered = logIds(dataDir).max;
    // Idle past the horizon: retention deletes the whole log, 500 rows per idle commit.
    for (let i = 0; i < 10; i++) {
      t += HORIZON;
      reopened.store.maintain(t);
      for (const oracle of oracles.values()) oracle.maintain(t);
      await settle();
    }
    expect(logIds(dataDir).rows).toBe(0);
    // One batch, and a crash before the next commit could take a checkpoint of it.
    t += 10;
    const batch: Activity[] = [{ user: 'back', ts: t, browser: 'Chrome' }];
    await reopened.store.record('acct-a', batch, t);
    oracles.get('acct-a')?.record(batch, t);
    const crashed = crashCopy(dataDir, 'crashed');
    expect(logIds(crashed).max, 'ids start again from 1').toBeLessThanOrEqual(covered);
    const restarted = await openStore(crashed);
    expect(warnings(restarted.events).map((e) => e.message)).toEqual([
      'checkpoint unusable (the log was emptied and started again since (batch ids reused)); replaying the whole log',
    ]);
    const times = [t + 1, t + 60];
    const expected = oracleAnswers(oracles, times);
    expect(expected[0].count).toBeGreaterThan(0);
    expect(await answers(restarted.store, times)).toEqual(expected);
  });

  it('ahead of the log: an older activity.db restored from a backup beside a newer checkpoint', async () => {
    const closed = await closedAfterTraffic(16, 20);
    const { random, dataDir } = closed;
    let t = closed.t;
    const backup = crashCopy(dataDir, 'backup');
    const reopened = await openStore(dataDir);
    t = await traffic(random, [reopened], newOracles(), t, 20);
    await reopened.store.close();
    copyFileSync(join(backup, ACTIVITY_FILE), join(dataDir, ACTIVITY_FILE));
    const replayed = await openStore(crashCopy(dataDir, 'replayed'), { checkpoints: false });
    const restored = await openStore(dataDir);
    expect(warnings(restored.events).map((e) => e.message)).toEqual([
      expect.stringMatching(/^checkpoint unusable \(the log ends at batch \d+, before it/),
    ]);
    const times = [t + 1];
    expect(await answers(restored.store, times)).toEqual(await answers(replayed.store, times));
  });
});

describe('dropping an account', () => {
  it('deletes the checkpoint, so that the account does not come back on the next start', async () => {
    const random = seededRandom(15);
    const dataDir = join(dir(), 'data');
    mkdirSync(dataDir);
    const opened = await openStore(dataDir);
    const { store } = opened;
    const t = await traffic(random, [opened], newOracles(), T0, 40);
    const query = QUERIES[0];
    expect((await store.now('acct-a', query, t)).count).toBeGreaterThan(0);
    await store.close();
    const reopened = await openStore(dataDir);
    expect(loaded(reopened.events)).toBeDefined();
    await reopened.store.dropAccount('acct-a');
    expect(existsSync(join(dataDir, CHECKPOINT_FILE))).toBe(false);
    const crashed = await openStore(crashCopy(dataDir, 'crashed'));
    expect(loaded(crashed.events)).toBeUndefined();
    expect((await crashed.store.now('acct-a', query, t)).count).toBe(0);
    expect((await crashed.store.now('acct-b', query, t)).count).toBeGreaterThan(0);
  });
});

describe('serve', () => {
  /** A server on `dataDir`, once its `storage ready` line is out (log lines may follow `listening on`). */
  async function serve(dataDir: string): Promise<ServerProcess> {
    const server = await processes.serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'info']);
    await untilOutput(server, () => server.stdout().includes('"storage ready"'));
    return server;
  }

  /** The JSON log lines of `text` whose message starts with `start`. */
  function logLines(text: string, start: string): { level: number; msg: string; lastBatchId?: number }[] {
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((line) => typeof line.msg === 'string' && line.msg.startsWith(start));
  }

  it('writes one on SIGTERM, starts from it after SIGTERM and after kill -9, and logs a damaged one before replaying the log', async () => {
    const dataDir = join(dir(), 'data');
    const account = await createAccount(processes, dataDir, 'checkpointed');
    const upload = async (server: ServerProcess, prefix: string, users: number) => {
      const body = {
        d: Array.from({ length: users }, (_, i) => ({
          identity: `${prefix}-${i}`,
          type: 'event',
          evtName: 'Checkpoint Test',
          session: { browser: prefix },
        })),
      };
      const answer = await postJson(`${server.url}/1/upload`, account, body);
      expect(answer.status, answer.text).toBe(200);
    };
    const counts = async (server: ServerProcess) =>
      (await postJson(`${server.url}/1/now.json`, account, { browser: true })).body;
    const expected = (browsers: Record<string, number>) => ({
      status: 'success',
      count: Object.values(browsers).reduce((a, b) => a + b, 0),
      browser: browsers,
    });

    const first = await serve(dataDir);
    expect(logLines(first.stdout(), 'checkpoint')).toEqual([]);
    await upload(first, 'Alpha', 30);
    expect((await processes.stop(first)).code).toBe(0);
    expect(existsSync(join(dataDir, CHECKPOINT_FILE))).toBe(true);

    const second = await serve(dataDir);
    expect(logLines(second.stdout(), 'checkpoint')).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'checkpoint loaded; replaying the log after it',
        lastBatchId: 1,
      }),
    ]);
    expect(await counts(second)).toEqual(expected({ Alpha: 30 }));
    await upload(second, 'Beta', 20);
    second.child.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');

    const third = await serve(dataDir);
    // The checkpoint of the SIGTERM (or a later one), and Beta from the log after it.
    expect(logLines(third.stdout(), 'checkpoint').map((line) => line.msg)).toEqual([
      'checkpoint loaded; replaying the log after it',
    ]);
    expect(await counts(third)).toEqual(expected({ Alpha: 30, Beta: 20 }));
    expect((await processes.stop(third)).code).toBe(0);

    const path = join(dataDir, CHECKPOINT_FILE);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    const fourth = await serve(dataDir);
    expect(logLines(fourth.stdout(), 'checkpoint')).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'checkpoint unusable (checksum mismatch); replaying the whole log',
      }),
    ]);
    expect(await counts(fourth)).toEqual(expected({ Alpha: 30, Beta: 20 }));
  });
});
