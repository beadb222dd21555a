/**
 * Benchmark of the exact active-users engine against a naive latest-seen Map: ingest rate, heap per
 * active user and query latency, on 1M users and 10M activities of deterministic synthetic traffic.
 *
 *   npm run bench:engine
 *
 * Writes bench/results.json (keys `engine` and `engineNaive`) and the `## Engine (bench:engine)`
 * section of bench/RESULTS.md. Env: BENCH_ENGINE_USERS / BENCH_ENGINE_ACTIVITIES shrink the run for a
 * quick try (results are then not written), BENCH_ENGINE_NO_PIN=1 skips the taskset re-exec.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ActiveUsersEngine } from '../src/engine/active-users-engine.js';
import type { FirstSeenRegistry } from '../src/engine/first-seen-registry.js';
import { InMemoryFirstSeenRegistry } from '../src/engine/in-memory-first-seen-registry.js';
import type { Activity } from '../src/model/activity.js';
import { APP_BROWSER, DIMENSIONS } from '../src/model/dimensions.js';
import type { NowQuery, NowResult } from '../src/model/now-query.js';
import { NaiveLastSeen } from './naive-last-seen.js';

const COMMAND = 'npm run bench:engine';
const NODE_COMMAND = 'node --expose-gc --max-old-space-size=4096 --import tsx bench/engine.ts';
const PIN_CORE = Math.max(0, os.cpus().length - 1);

// ---------------------------------------------------------------------------------------------
// Pinning: re-run this very command under `taskset -c <core>` so the engine gets one core.

if (process.env.BENCH_ENGINE_PINNED === undefined && process.env.BENCH_ENGINE_NO_PIN !== '1') {
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));
  if (taskset !== undefined) {
    const execArgv = process.execArgv.includes('--expose-gc')
      ? process.execArgv
      : ['--expose-gc', ...process.execArgv];
    const child = spawnSync(
      taskset,
      ['-c', String(PIN_CORE), process.execPath, ...execArgv, ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, BENCH_ENGINE_PINNED: String(PIN_CORE) } },
    );
    process.exit(child.status ?? 1);
  }
}
const pinnedCore = process.env.BENCH_ENGINE_PINNED;

const gc: () => void =
  globalThis.gc ??
  (() => {
    v8.setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

// ---------------------------------------------------------------------------------------------
// Parameters.

const FULL_USERS = 1_000_000;
const FULL_ACTIVITIES = 10_000_000;
const USERS = Number(process.env.BENCH_ENGINE_USERS ?? FULL_USERS);
const ACTIVITIES = Number(process.env.BENCH_ENGINE_ACTIVITIES ?? FULL_ACTIVITIES);
const FULL_RUN = USERS === FULL_USERS && ACTIVITIES === FULL_ACTIVITIES;
const ID_LENGTH = 16;
const BATCH = 1000;
const BATCHES = Math.ceil(ACTIVITIES / BATCH);
/** Simulated time the activities spread over; under the 300 s window, so every user is active at the end. */
const SPAN_SECONDS = 288;
const T0 = 1_700_000_000;
const WINDOW = 300;
const OUT_OF_ORDER_SHARE = 0.02;
const MAX_LATENESS_SECONDS = 10;
/** Share of users a persisted registry already knows (first seen 1..90 days ago). */
const RETURNING_SHARE = 0.7;
const ZIPF_EXPONENT = 0.8;
const SOURCE_SWITCH_SHARE = 0.03;
const OTHER_DEVICE_SHARE = 0.005;
const ENGINE_QUERIES = 20_000;
const ENGINE_WARMUP_QUERIES = 2_000;
const NAIVE_QUERIES = 20;
const SEED = 0x5eed_2024;

const TARGET_INGEST = 3_000_000;
const TARGET_BYTES = 100;
const TARGET_QUERY_MICROS = 20;

// ---------------------------------------------------------------------------------------------
// Deterministic data.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);

/** Weighted choice among value strings; `undefined` stands for a missing attribute. */
class Weighted {
  readonly values: (string | undefined)[];
  private readonly cumulative: number[];
  constructor(entries: readonly (readonly [string | undefined, number])[]) {
    this.values = entries.map(([value]) => value);
    let sum = 0;
    this.cumulative = entries.map(([, weight]) => {
      sum += weight;
      return sum;
    });
    this.cumulative = this.cumulative.map((c) => c / sum);
  }
  pick(): number {
    const r = random();
    const cumulative = this.cumulative;
    for (let i = 0; i < cumulative.length - 1; i++) if (r < cumulative[i]) return i;
    return cumulative.length - 1;
  }
}

const SOURCE = new Weighted([
  ['Direct', 34],
  ['Organic Search', 24],
  ['Social', 12],
  ['Referral', 8],
  ['Paid Search', 8],
  ['Email', 5],
  ['Push', 4],
  ['Deep Link', 2],
  ['SMS', 1],
  [undefined, 2],
]);
const BROWSER = new Weighted([
  ['Chrome', 60],
  ['Safari', 20],
  [APP_BROWSER, 6],
  ['Edge', 5],
  ['Samsung Internet', 4],
  ['Firefox', 3],
  ['Opera', 1.5],
  [undefined, 0.5],
]);
const OS_VALUES = ['Android', 'iOS', 'Windows', 'macOS', 'Linux', 'ChromeOS'] as const;
type Os = (typeof OS_VALUES)[number];
const OS_BY_BROWSER = new Map<string | undefined, Weighted>([
  [
    'Chrome',
    new Weighted([
      ['Android', 55],
      ['Windows', 30],
      ['macOS', 7],
      ['Linux', 3],
      ['ChromeOS', 3],
      ['iOS', 2],
    ]),
  ],
  [
    'Safari',
    new Weighted([
      ['iOS', 75],
      ['macOS', 25],
    ]),
  ],
  [
    APP_BROWSER,
    new Weighted([
      ['Android', 65],
      ['iOS', 35],
    ]),
  ],
  [
    'Edge',
    new Weighted([
      ['Windows', 93],
      ['macOS', 5],
      ['Android', 2],
    ]),
  ],
  ['Samsung Internet', new Weighted([['Android', 1]])],
  [
    'Firefox',
    new Weighted([
      ['Windows', 60],
      ['Linux', 20],
      ['macOS', 15],
      ['Android', 5],
    ]),
  ],
  [
    'Opera',
    new Weighted([
      ['Windows', 60],
      ['Android', 40],
    ]),
  ],
  [
    undefined,
    new Weighted([
      ['Android', 50],
      ['Windows', 30],
      [undefined, 20],
    ]),
  ],
]);
const DEVICE_BY_OS = new Map<string | undefined, Weighted>([
  [
    'Android',
    new Weighted([
      ['Mobile', 88],
      ['Tablet', 8],
      ['TV', 3],
      [undefined, 1],
    ]),
  ],
  [
    'iOS',
    new Weighted([
      ['Mobile', 85],
      ['Tablet', 15],
    ]),
  ],
  ['Windows', new Weighted([['Desktop', 1]])],
  ['macOS', new Weighted([['Desktop', 1]])],
  [
    'Linux',
    new Weighted([
      ['Desktop', 90],
      ['TV', 10],
    ]),
  ],
  ['ChromeOS', new Weighted([['Desktop', 1]])],
  [
    undefined,
    new Weighted([
      ['Desktop', 50],
      [undefined, 50],
    ]),
  ],
]);

/** The constant pools activity values are drawn from; code NONE stands for a missing value. */
const SOURCES = SOURCE.values;
const BROWSERS = BROWSER.values;
const OSES: (string | undefined)[] = [...OS_VALUES, undefined];
const DEVICE_VALUES: (string | undefined)[] = ['Mobile', 'Desktop', 'Tablet', 'TV', undefined];
const NONE = 255;

function code(pool: readonly (string | undefined)[], value: string | undefined): number {
  const i = pool.indexOf(value);
  if (i < 0) throw new Error(`no pool value ${value}`);
  return value === undefined ? NONE : i;
}
function poolValue(pool: readonly (string | undefined)[], c: number): string | undefined {
  return c === NONE ? undefined : pool[c];
}

/** A browser/os/device triple drawn with the skew above, as pool codes. */
function drawProfile(out: Uint8Array): void {
  const browser = BROWSER.values[BROWSER.pick()];
  const osTable = OS_BY_BROWSER.get(browser) as Weighted;
  const osValue = osTable.values[osTable.pick()] as Os | undefined;
  const deviceTable = DEVICE_BY_OS.get(osValue) as Weighted;
  out[0] = code(BROWSERS, browser);
  out[1] = code(OSES, osValue);
  out[2] = code(DEVICE_VALUES, deviceTable.values[deviceTable.pick()]);
}

interface Data {
  /** ID_LENGTH latin1 bytes per user; `freshId` makes a new string of them, as a parser would. */
  readonly idBytes: Buffer;
  /** Users a registry already knows: first-seen epoch second, 0 for a user never seen before. */
  readonly pastFirstSeen: Uint32Array;
  readonly user: Int32Array;
  /** Seconds an activity is older than its batch's `now` (0 for in-order ones). */
  readonly lateness: Uint8Array;
  readonly source: Uint8Array;
  readonly browser: Uint8Array;
  readonly os: Uint8Array;
  readonly device: Uint8Array;
}

function batchNow(b: number): number {
  return T0 + Math.floor((b * SPAN_SECONDS) / BATCHES);
}

function generate(): Data {
  const alphabet = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
  const idBytes = Buffer.alloc(USERS * ID_LENGTH);
  const seen = new Set<string>();
  for (let u = 0; u < USERS; u++) {
    for (;;) {
      for (let i = 0; i < ID_LENGTH; i++)
        idBytes[u * ID_LENGTH + i] = alphabet[Math.floor(random() * alphabet.length)];
      const id = idBytes.toString('latin1', u * ID_LENGTH, (u + 1) * ID_LENGTH);
      if (!seen.has(id)) {
        seen.add(id);
        break;
      }
    }
  }
  seen.clear();

  const pastFirstSeen = new Uint32Array(USERS);
  const profileSource = new Uint8Array(USERS);
  const profile = new Uint8Array(USERS * 3);
  const triple = new Uint8Array(3);
  for (let u = 0; u < USERS; u++) {
    if (random() < RETURNING_SHARE) pastFirstSeen[u] = T0 - 86_400 - Math.floor(random() * 89 * 86_400);
    profileSource[u] = code(SOURCES, SOURCES[SOURCE.pick()]);
    drawProfile(triple);
    profile.set(triple, u * 3);
  }

  // Every user once, the rest Zipf-distributed over users (user u has rank u), then shuffled.
  const user = new Int32Array(ACTIVITIES);
  const cdf = new Float64Array(USERS);
  let sum = 0;
  for (let u = 0; u < USERS; u++) {
    sum += (u + 1) ** -ZIPF_EXPONENT;
    cdf[u] = sum;
  }
  for (let i = 0; i < ACTIVITIES; i++) {
    if (i < USERS) {
      user[i] = i;
      continue;
    }
    const r = random() * sum;
    let lo = 0;
    let hi = USERS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    user[i] = lo;
  }
  for (let i = ACTIVITIES - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = user[i];
    user[i] = user[j];
    user[j] = t;
  }

  const lateness = new Uint8Array(ACTIVITIES);
  const source = new Uint8Array(ACTIVITIES);
  const browser = new Uint8Array(ACTIVITIES);
  const osCodes = new Uint8Array(ACTIVITIES);
  const device = new Uint8Array(ACTIVITIES);
  for (let i = 0; i < ACTIVITIES; i++) {
    const u = user[i];
    if (random() < OUT_OF_ORDER_SHARE) lateness[i] = 1 + Math.floor(random() * MAX_LATENESS_SECONDS);
    source[i] = random() < SOURCE_SWITCH_SHARE ? code(SOURCES, SOURCES[SOURCE.pick()]) : profileSource[u];
    if (random() < OTHER_DEVICE_SHARE) drawProfile(triple);
    else triple.set(profile.subarray(u * 3, u * 3 + 3));
    browser[i] = triple[0];
    osCodes[i] = triple[1];
    device[i] = triple[2];
  }
  return { idBytes, pastFirstSeen, user, lateness, source, browser, os: osCodes, device };
}

function freshId(data: Data, u: number): string {
  return data.idBytes.toString('latin1', u * ID_LENGTH, (u + 1) * ID_LENGTH);
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers.

interface Sink {
  record(activities: readonly Activity[], now: number): void;
  query(query: NowQuery, now: number): NowResult;
}

interface MutableActivity {
  user: string;
  ts: number;
  sessionSource: string | undefined;
  browser: string | undefined;
  os: string | undefined;
  device: string | undefined;
}

const nullRegistry: FirstSeenRegistry = { observe: (_user, ts) => ts };

const QUERY: NowQuery = { window: WINDOW, userType: true, splits: [...DIMENSIONS], timeline: false };
const END_NOW = batchNow(BATCHES - 1);

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const usage = process.memoryUsage();
  if (process.env.BENCH_ENGINE_DEBUG)
    log(
      `heap ${usage.heapUsed} arrayBuffers ${usage.arrayBuffers} external ${usage.external} ${JSON.stringify(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]))}`,
    );
  return usage.heapUsed + usage.arrayBuffers;
}

interface Ingest {
  /** Seconds spent inside each sink's record() calls. */
  readonly recordSeconds: number[];
  /** Seconds spent filling the batches' activity objects (not part of any figure). */
  readonly fillSeconds: number;
}

/**
 * Feeds every activity to each of `sinks` in batches of BATCH, `now` = the batch's time; with several
 * sinks, each batch goes to all of them in turn (the first one rotating), so that noise from other
 * processes falls on all alike. Each batch's objects are filled from the pre-generated arrays before
 * the record() calls, outside the timed part; user ids are new strings for each batch (as a request
 * parser makes them) unless `pooledIds` are given (then the same string object for every activity of
 * a user); value strings come from the pools.
 */
function ingest(
  sinks: readonly Sink[],
  data: Data,
  batch: MutableActivity[],
  pooledIds?: readonly string[],
): Ingest {
  const recorded = sinks.map(() => 0n);
  let filling = 0n;
  for (let b = 0; b < BATCHES; b++) {
    const now = batchNow(b);
    const from = b * BATCH;
    const n = Math.min(BATCH, ACTIVITIES - from);
    const fillStart = process.hrtime.bigint();
    if (n !== batch.length) batch.length = n;
    for (let k = 0; k < n; k++) {
      const i = from + k;
      const activity = batch[k];
      activity.user = pooledIds === undefined ? freshId(data, data.user[i]) : pooledIds[data.user[i]];
      activity.ts = now - data.lateness[i];
      activity.sessionSource = poolValue(SOURCES, data.source[i]);
      activity.browser = poolValue(BROWSERS, data.browser[i]);
      activity.os = poolValue(OSES, data.os[i]);
      activity.device = poolValue(DEVICE_VALUES, data.device[i]);
    }
    filling += process.hrtime.bigint() - fillStart;
    for (let j = 0; j < sinks.length; j++) {
      const which = (b + j) % sinks.length;
      const t = process.hrtime.bigint();
      sinks[which].record(batch, now);
      recorded[which] += process.hrtime.bigint() - t;
    }
  }
  for (const activity of batch) activity.user = '';
  return { recordSeconds: recorded.map((ns) => Number(ns) / 1e9), fillSeconds: Number(filling) / 1e9 };
}

function newBatch(): MutableActivity[] {
  return Array.from({ length: BATCH }, () => ({
    user: '',
    ts: 0,
    sessionSource: undefined,
    browser: undefined,
    os: undefined,
    device: undefined,
  }));
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

let checksum = 0;

/** Runs `n` queries; `now` moves 1 s forward every `advanceEvery` queries (0: never). */
function queries(sink: Sink, n: number, now: number, advanceEvery: number): Latency {
  const micros = new Float64Array(n);
  let at = now;
  for (let i = 0; i < n; i++) {
    if (advanceEvery > 0 && i > 0 && i % advanceEvery === 0) at++;
    const t = process.hrtime.bigint();
    const result = sink.query(QUERY, at);
    micros[i] = Number(process.hrtime.bigint() - t) / 1000;
    checksum += result.count;
  }
  micros.sort();
  const rank = (p: number) => micros[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  return { p50: rank(0.5), p99: rank(0.99), max: micros[n - 1], n };
}

/** A Markdown table laid out as biome formats it (padded cells), so bench/RESULTS.md stays lint-clean. */
function markdownTable(rows: readonly (readonly string[])[], rightAligned: readonly boolean[]): string {
  const widths = rightAligned.map((_, c) => Math.max(3, ...rows.map((row) => row[c].length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (rightAligned[c] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

function seedRegistry(data: Data, seed: (user: string, ts: number) => void): void {
  for (let u = 0; u < USERS; u++)
    if (data.pastFirstSeen[u] !== 0) seed(freshId(data, u), data.pastFirstSeen[u]);
}

function log(message: string): void {
  process.stderr.write(`[bench:engine] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Run.

async function main(): Promise<void> {
  const generationStart = performance.now();
  const data = generate();
  const batch = newBatch();
  log(
    `generated ${USERS.toLocaleString('en')} users, ${ACTIVITIES.toLocaleString('en')} activities in ${((performance.now() - generationStart) / 1000).toFixed(1)} s`,
  );

  // 1. Engine with the in-memory registry and naive baseline with its first-seen Map (70% of users
  // known to both beforehand), fed the same batches in turn: ingest, then queries.
  let registry: InMemoryFirstSeenRegistry | undefined = new InMemoryFirstSeenRegistry();
  seedRegistry(data, (user, ts) => registry?.observe(user, ts));
  let engine: ActiveUsersEngine | undefined = new ActiveUsersEngine({ registry });
  let naive: NaiveLastSeen | undefined = new NaiveLastSeen();
  seedRegistry(data, (user, ts) => naive?.seedFirstSeen(user, ts));
  const together = ingest([engine, naive], data, batch);
  const [engineSeconds, naiveSeconds] = together.recordSeconds;
  log(`ingest: engine ${engineSeconds.toFixed(2)} s, naive ${naiveSeconds.toFixed(2)} s in record()`);
  const engineAnswer = engine.query(QUERY, END_NOW);
  const engineActive = engineAnswer.count;
  const engineTracked = engine.trackedUsers;
  const naiveAnswer = naive.query(QUERY, END_NOW);
  const identical = JSON.stringify(naiveAnswer) === JSON.stringify(engineAnswer);
  queries(engine, ENGINE_WARMUP_QUERIES, END_NOW, 0);
  const engineQuery = queries(engine, ENGINE_QUERIES, END_NOW, 0);
  const engineQueryAdvancing = queries(engine, ENGINE_QUERIES, END_NOW, 1000);
  log(`engine queries: p50 ${engineQuery.p50.toFixed(2)} µs`);
  queries(naive, 2, END_NOW, 0);
  const naiveQuery = queries(naive, NAIVE_QUERIES, END_NOW, 0);
  log(`naive queries: p50 ${naiveQuery.p50.toFixed(0)} µs`);
  engine = undefined;
  naive = undefined;
  registry = undefined;
  await settledHeap();

  // 2. The engine again, but every activity of a user carries the same id string object.
  let pooledIds: string[] | undefined = Array.from({ length: USERS }, (_, u) => freshId(data, u));
  registry = new InMemoryFirstSeenRegistry();
  seedRegistry(data, (user, ts) => registry?.observe(user, ts));
  engine = new ActiveUsersEngine({ registry });
  const [pooledSeconds] = ingest([engine], data, batch, pooledIds).recordSeconds;
  log(`engine ingest, pooled ids: ${pooledSeconds.toFixed(2)} s in record()`);
  engine = undefined;
  registry = undefined;
  pooledIds = undefined;

  // 3. Heap of the engine alone: registry that stores nothing; fresh id strings retained are counted.
  const engineBase = await settledHeap();
  let bareEngine: ActiveUsersEngine | undefined = new ActiveUsersEngine({ registry: nullRegistry });
  const [bareEngineSeconds] = ingest([bareEngine], data, batch).recordSeconds;
  const bareEngineActive = bareEngine.query(QUERY, END_NOW).count;
  const bareEngineTracked = bareEngine.trackedUsers;
  const engineBytes = (await settledHeap()) - engineBase;
  checksum += bareEngine.trackedUsers; // keeps it alive through the measurement
  bareEngine = undefined;
  log(`engine heap: ${(engineBytes / bareEngineActive).toFixed(1)} B/user`);

  // 4. Heap of the naive latest-seen Map alone (no first-seen Map), for the same comparison.
  const naiveBase = await settledHeap();
  let bareNaive: NaiveLastSeen | undefined = new NaiveLastSeen({ firstSeen: false });
  const [bareNaiveSeconds] = ingest([bareNaive], data, batch).recordSeconds;
  const bareNaiveActive = bareNaive.query(QUERY, END_NOW).count;
  const naiveBytes = (await settledHeap()) - naiveBase;
  checksum += bareNaive.size;
  bareNaive = undefined;
  log(`naive heap: ${(naiveBytes / bareNaiveActive).toFixed(1)} B/user`);

  // 5. The in-memory registry on its own (one entry per user, its own id strings), and an id alone.
  const registryBase = await settledHeap();
  let soloRegistry: InMemoryFirstSeenRegistry | undefined = new InMemoryFirstSeenRegistry();
  for (let u = 0; u < USERS; u++) soloRegistry.observe(freshId(data, u), T0);
  const registryBytes = (await settledHeap()) - registryBase;
  checksum += soloRegistry.size;
  soloRegistry = undefined;
  let ids: string[] | undefined = Array.from({ length: USERS }, () => '');
  const idsBase = await settledHeap();
  for (let u = 0; u < USERS; u++) ids[u] = freshId(data, u);
  const idBytes = ((await settledHeap()) - idsBase) / USERS;
  checksum += ids.length + data.user.length; // keeps the data alive through every measurement
  ids = undefined;

  // ------------------------------------------------------------------------------------------
  // Report.

  const engineRate = ACTIVITIES / engineSeconds;
  const naiveRate = ACTIVITIES / naiveSeconds;
  const engineBpu = engineBytes / bareEngineActive;
  const naiveBpu = naiveBytes / bareNaiveActive;
  const registryBpu = registryBytes / USERS;

  const fmtInt = (n: number) => Math.round(n).toLocaleString('en');
  const fmt1 = (n: number) => n.toFixed(1);
  const fmtUs = (n: number) => (n >= 1000 ? fmtInt(n) : n.toFixed(2));
  const ratio = (n: number) => `${n >= 10 ? n.toFixed(0) : n.toFixed(2)}×`;
  const rows: [string, string, string, string][] = [
    ['Figure', 'Engine', 'Naive Map', 'Engine vs naive'],
    [
      `Ingest, activities/s (record of ${ACTIVITIES / 1e6}M, 1 core)`,
      fmtInt(engineRate),
      fmtInt(naiveRate),
      `${ratio(engineRate / naiveRate)} the rate`,
    ],
    [
      'Heap per active user, bytes (ids included, no first-seen store)',
      fmt1(engineBpu),
      fmt1(naiveBpu),
      `${ratio(engineBpu / naiveBpu)} the bytes`,
    ],
    [
      'Query p50, µs (4 splits + user_type + newSplits, 300 s)',
      fmtUs(engineQuery.p50),
      fmtUs(naiveQuery.p50),
      `${ratio(naiveQuery.p50 / engineQuery.p50)} faster`,
    ],
    [
      'Query p99, µs',
      fmtUs(engineQuery.p99),
      fmtUs(naiveQuery.p99),
      `${ratio(naiveQuery.p99 / engineQuery.p99)} faster`,
    ],
    [
      'Query p50 / p99, µs, `now` +1 s every 1000 queries',
      `${fmtUs(engineQueryAdvancing.p50)} / ${fmtUs(engineQueryAdvancing.p99)}`,
      'n/a',
      '',
    ],
  ];
  const figureTable = markdownTable(rows, [false, true, true, true]);

  const queryMet = engineQuery.p50 <= TARGET_QUERY_MICROS;
  const queryP99Met = engineQuery.p99 <= TARGET_QUERY_MICROS;
  const targets: [string, string, string][] = [
    [
      `Ingest >= ${fmtInt(TARGET_INGEST)} activities/s on one core`,
      fmtInt(engineRate),
      engineRate >= TARGET_INGEST ? 'met' : 'NOT met',
    ],
    [
      `<= ${TARGET_BYTES} bytes of heap per active user, ids included`,
      fmt1(engineBpu),
      engineBpu <= TARGET_BYTES ? 'met' : 'NOT met',
    ],
    [
      `Query, all splits + new breakdown, <= ${TARGET_QUERY_MICROS} µs at 1M active users`,
      `p50 ${fmtUs(engineQuery.p50)}, p99 ${fmtUs(engineQuery.p99)}`,
      queryMet && queryP99Met ? 'met (p50 and p99)' : queryMet ? 'met at p50, not at p99' : 'NOT met',
    ],
  ];
  const targetTable = markdownTable([['Target', 'Measured', 'Status'], ...targets], [false, true, false]);

  const cpus = os.cpus();
  const machine = `${cpus.length} cores (${cpus[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
  const pinning =
    pinnedCore !== undefined
      ? `re-executed under \`taskset -c ${pinnedCore}\` (one core, GC threads included)`
      : 'not pinned (taskset unavailable or BENCH_ENGINE_NO_PIN=1)';
  const notes = [
    `Data: ${fmtInt(USERS)} users (16-character ids), ${fmtInt(ACTIVITIES)} activities over ${SPAN_SECONDS} s of simulated time in batches of ${BATCH} (\`now\` = batch time), ${OUT_OF_ORDER_SHARE * 100}% up to ${MAX_LATENESS_SECONDS} s late, Zipf(${ZIPF_EXPONENT}) activity per user (every user at least once), ${RETURNING_SHARE * 100}% of users known to the first-seen store beforehand; seed 0x${SEED.toString(16)}.`,
    `Ingest: time inside record() only; engine (with InMemoryFirstSeenRegistry) and naive (with its first-seen Map) get each batch in turn, the first one alternating, so that noise from other processes falls on both. Activities are pre-generated into typed arrays; each batch's ${BATCH} objects are filled before the record() calls, outside the timing (${((together.fillSeconds / ACTIVITIES) * 1e9).toFixed(0)} ns per activity), with a new id string per activity as a request parser would make (value strings come from constant pools). With one id string object per user reused by all its activities (pointer-equal Map keys, unlike a parser's output) the engine alone records ${fmtInt(ACTIVITIES / pooledSeconds)}/s.`,
    `Heap: (heapUsed + arrayBuffers) after minus before ingesting all activities, each after gc(), divided by active users (${fmtInt(bareEngineActive)}; engine tracks ${fmtInt(bareEngineTracked)}). The engine is measured with a first-seen registry that stores nothing (observe returns the time it is given), so the figure is the engine alone; the naive figure is likewise its latest-seen Map without its first-seen Map. Ingest with those: engine ${fmtInt(ACTIVITIES / bareEngineSeconds)}/s, naive ${fmtInt(ACTIVITIES / bareNaiveSeconds)}/s.`,
    `InMemoryFirstSeenRegistry on its own: ${fmt1(registryBpu)} B per user with its own id strings (a 16-character id string measures ${fmt1(idBytes)} B, so ${fmt1(registryBpu - idBytes)} B when it shares the engine's id strings).`,
    `Queries: engine ${fmtInt(ENGINE_QUERIES)} timed (after ${fmtInt(ENGINE_WARMUP_QUERIES)} warm-up) at a fixed \`now\`, then ${fmtInt(ENGINE_QUERIES)} with \`now\` +1 s every 1000; naive ${NAIVE_QUERIES} (each scans every user). Timed one by one with process.hrtime.bigint(). Engine and naive answers at the end are ${identical ? 'identical' : 'DIFFERENT'}.`,
  ];

  const measuredAt = new Date().toISOString();
  const md = [
    '## Engine (bench:engine)',
    '',
    `Measured ${measuredAt} with \`${COMMAND}\` (\`${NODE_COMMAND}\`, ${pinning}).`,
    `Machine: ${machine}; shared and noisy, so expect some variation between runs.`,
    '',
    figureTable,
    '',
    targetTable,
    '',
    ...notes.map((note) => `- ${note}`),
    '',
  ].join('\n');

  console.log(`\n${figureTable}\n\n${targetTable}\n`);
  for (const note of notes) console.log(`- ${note}`);
  console.log(`\nMachine: ${machine}; ${pinning}.`);
  console.log(`Reproduce: ${COMMAND}   (= ${NODE_COMMAND})`);

  if (!identical) {
    console.log(
      `\nengine answer: ${JSON.stringify(engineAnswer)}\nnaive answer:  ${JSON.stringify(naiveAnswer)}`,
    );
  }
  if (engineActive !== USERS || bareEngineActive !== USERS || bareNaiveActive !== USERS) {
    console.log(
      `\nWARNING: active users ${engineActive}/${bareEngineActive}/${bareNaiveActive}, expected ${USERS}`,
    );
  }
  console.log(`(tracked users at the end: ${fmtInt(engineTracked)}; checksum ${checksum})`);

  if (!FULL_RUN) {
    console.log('\nReduced run (BENCH_ENGINE_USERS / BENCH_ENGINE_ACTIVITIES): results files left alone.');
    return;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const jsonPath = join(here, 'results.json');
  const results: Record<string, unknown> = existsSync(jsonPath)
    ? JSON.parse(readFileSync(jsonPath, 'utf8'))
    : {};
  const entry = (rate: number, bytes: number, latency: Latency) => ({
    activitiesPerSecond: Math.round(rate),
    bytesPerActiveUser: Number(bytes.toFixed(1)),
    queryMicrosP50: Number(latency.p50.toFixed(2)),
    queryMicrosP99: Number(latency.p99.toFixed(2)),
    measuredAt,
    command: COMMAND,
  });
  results.engine = entry(engineRate, engineBpu, engineQuery);
  results.engineNaive = entry(naiveRate, naiveBpu, naiveQuery);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);

  const mdPath = join(here, 'RESULTS.md');
  const existing = existsSync(mdPath)
    ? readFileSync(mdPath, 'utf8')
    : '# Benchmark results\n\nFigures measured by the scripts in bench/; each section is rewritten by its script.\n';
  const section = /^## Engine \(bench:engine\)\n[\s\S]*?(?=^## |(?![\s\S]))/m;
  const updated = section.test(existing)
    ? existing.replace(section, `${md}\n`)
    : `${existing.replace(/\n*$/, '\n')}\n${md}`;
  writeFileSync(mdPath, updated.replace(/\n*$/, '\n'));
  console.log(`\nWrote ${jsonPath} (engine, engineNaive) and ${mdPath}.`);
}

await main();
