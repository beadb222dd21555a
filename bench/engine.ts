import os from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ActiveUsersEngine } from '../src/engine/active-users-engine.js';
import type { FirstSeenRegistry } from '../src/engine/first-seen-registry.js';
import { InMemoryFirstSeenRegistry } from '../src/engine/in-memory-first-seen-registry.js';
import type { Activity } from '../src/model/activity.js';
import type { NowQuery, NowResult } from '../src/model/now-query.js';
import { CLEVERTAP_DIMENSIONS, DIMENSIONS } from '../src/protocol/dimensions.js';
import { NaiveLastSeen } from './naive-last-seen.js';
import { pinToOneCore } from './support/pin-to-core.js';
import { markdownTable, mergeResults, writeResultsSection } from './support/results.js';
import { TARGETS } from './support/targets.js';
import { type MutableActivity, PAGE_COUNT, T0, Workload } from './support/workload.js';

const COMMAND = 'npm run bench:engine';
const NODE_COMMAND = 'node --expose-gc --max-old-space-size=4096 --import tsx bench/engine.ts';
const _PIN_CORE = Math.max(0, os.cpus().length - 1);

const pinnedCore = pinToOneCore(['--expose-gc', '--max-old-space-size=4096']);

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
const BATCH = 1000;
/** Simulated time the activities spread over; under the 300 s window, so every user is active at the end. */
const SPAN_SECONDS = 288;
const WINDOW = 300;
const ENGINE_QUERIES = 20_000;
const ENGINE_WARMUP_QUERIES = 2_000;
const NAIVE_QUERIES = 20;
const SEED = 0x5eed_2024;

const TARGET_INGEST = TARGETS.engine.ingestPerSecond;
const TARGET_BYTES = TARGETS.engine.bytesPerUser;
const TARGET_QUERY_MICROS = TARGETS.engine.queryMicros;

// ---------------------------------------------------------------------------------------------
// Measurement helpers.

interface Sink {
  record(activities: readonly Activity[], now: number): void;
  query(query: NowQuery, now: number): NowResult;
}

const nullRegistry: FirstSeenRegistry = { observe: (_user, ts) => ts };

let workload: Workload;
const endNow = () => workload.batchNow(workload.batches - 1);

const QUERY: NowQuery = { window: WINDOW, userType: true, splits: [...DIMENSIONS], timeline: false };
const CLEVERTAP_QUERY: NowQuery = { ...QUERY, splits: [...CLEVERTAP_DIMENSIONS] };
const PAGE_QUERY: NowQuery = { window: WINDOW, userType: false, splits: ['page'], timeline: false };
/** The event split with new users' (docs/api.md#event). */
const EVENT_QUERY: NowQuery = { window: WINDOW, userType: true, splits: ['event'], timeline: false };
const FILTERED_QUERIES = 200;
const FILTERED_WARMUP_QUERIES = 20;
/**
 * Filtered queries (docs/api.md#filter), every split + user_type + new: one country (the largest),
 * two dimensions at once, and a filter that keeps most users (with the timeline too).
 */
const FILTERED: readonly (readonly [label: string, query: NowQuery])[] = [
  ['country US', { ...QUERY, filter: { country: ['US'] } }],
  [
    'event Charged, event split too',
    { ...QUERY, splits: [...DIMENSIONS, 'event'], filter: { event: ['Charged'] } },
  ],
  [
    'country IN or BR, and device Mobile',
    { ...QUERY, filter: { country: ['IN', 'BR'], device: ['Mobile'] } },
  ],
  [
    'device Desktop or Mobile (most users), timeline too',
    { ...QUERY, timeline: true, filter: { device: ['Desktop', 'Mobile'] } },
  ],
];
/** The value cap of the seven-dimension runs: every one of the PAGE_COUNT pages keeps its name. */
const PAGE_VALUE_CAP = 1024;
const fmtRate = (n: number) => Math.round(n).toLocaleString('en');

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

/** A sink and the batch objects it is fed; `activenow`: with page, country and app_version. */
interface Feed {
  readonly sink: Sink;
  readonly batch: MutableActivity[];
  readonly activenow?: boolean;
}

/**
 * Feeds every activity to each sink in batches of BATCH, `now` = the batch's time; with several
 * sinks, each batch goes to all of them in turn (the first one rotating), so that noise from other
 * processes falls on all alike. Each batch's objects are filled from the pre-generated arrays before
 * the record() calls, outside the timed part; user ids are new strings for each batch (as a request
 * parser makes them) unless `pooledIds` are given (then the same string object for every activity of
 * a user); value strings come from the pools. Feeds sharing one batch share its filling.
 */
function ingest(feeds: readonly Feed[], pooledIds?: readonly string[]): Ingest {
  const recorded = feeds.map(() => 0n);
  let filling = 0n;
  const batches = [...new Set(feeds.map((feed) => feed.batch))];
  for (let b = 0; b < workload.batches; b++) {
    const now = workload.batchNow(b);
    const fillStart = process.hrtime.bigint();
    for (const batch of batches) {
      const activenow = feeds.find((feed) => feed.batch === batch)?.activenow === true;
      workload.fillBatch(b, batch, pooledIds, activenow);
    }
    filling += process.hrtime.bigint() - fillStart;
    for (let j = 0; j < feeds.length; j++) {
      const which = (b + j) % feeds.length;
      const t = process.hrtime.bigint();
      feeds[which].sink.record(feeds[which].batch, now);
      recorded[which] += process.hrtime.bigint() - t;
    }
  }
  for (const batch of batches) for (const activity of batch) activity.user = '';
  return { recordSeconds: recorded.map((ns) => Number(ns) / 1e9), fillSeconds: Number(filling) / 1e9 };
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly n: number;
}

let checksum = 0;

/** Runs `n` queries; `now` moves 1 s forward every `advanceEvery` queries (0: never). */
function queries(sink: Sink, n: number, now: number, advanceEvery: number, query = QUERY): Latency {
  const micros = new Float64Array(n);
  let at = now;
  for (let i = 0; i < n; i++) {
    if (advanceEvery > 0 && i > 0 && i % advanceEvery === 0) at++;
    const t = process.hrtime.bigint();
    const result = sink.query(query, at);
    micros[i] = Number(process.hrtime.bigint() - t) / 1000;
    checksum += result.count;
  }
  micros.sort();
  const rank = (p: number) => micros[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  return { p50: rank(0.5), p99: rank(0.99), p999: rank(0.999), max: micros[n - 1], n };
}

function seedRegistry(seed: (user: string, ts: number) => void): void {
  for (let u = 0; u < USERS; u++) {
    const first = workload.pastFirstSeen(u);
    if (first !== 0) seed(workload.userId(u), first);
  }
}

function log(message: string): void {
  process.stderr.write(`[bench:engine] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Run.

async function main(): Promise<void> {
  const generationStart = performance.now();
  workload = new Workload({
    users: USERS,
    activities: ACTIVITIES,
    batchSize: BATCH,
    spanSeconds: SPAN_SECONDS,
    seed: SEED,
  });
  const batch = workload.newBatch();
  log(
    `generated ${USERS.toLocaleString('en')} users, ${ACTIVITIES.toLocaleString('en')} activities in ${((performance.now() - generationStart) / 1000).toFixed(1)} s`,
  );

  // 1. Engine with the in-memory registry and naive baseline with its first-seen Map (70% of users
  // known to both beforehand), fed the same batches in turn: ingest, then queries.
  let registry: InMemoryFirstSeenRegistry | undefined = new InMemoryFirstSeenRegistry();
  seedRegistry((user, ts) => registry?.observe(user, ts));
  let engine: ActiveUsersEngine | undefined = new ActiveUsersEngine({ registry });
  let naive: NaiveLastSeen | undefined = new NaiveLastSeen();
  seedRegistry((user, ts) => naive?.seedFirstSeen(user, ts));
  const together = ingest([
    { sink: engine, batch },
    { sink: naive, batch },
  ]);
  const [engineSeconds, naiveSeconds] = together.recordSeconds;
  log(`ingest: engine ${engineSeconds.toFixed(2)} s, naive ${naiveSeconds.toFixed(2)} s in record()`);
  const engineAnswer = engine.query(QUERY, endNow());
  const engineActive = engineAnswer.count;
  const engineTracked = engine.trackedUsers;
  const naiveAnswer = naive.query(QUERY, endNow());
  const identical = JSON.stringify(naiveAnswer) === JSON.stringify(engineAnswer);
  queries(engine, ENGINE_WARMUP_QUERIES, endNow(), 0);
  const engineQuery = queries(engine, ENGINE_QUERIES, endNow(), 0);
  const engineQueryAdvancing = queries(engine, ENGINE_QUERIES, endNow(), 1000);
  log(`engine queries: p50 ${engineQuery.p50.toFixed(2)} µs`);
  queries(naive, 2, endNow(), 0);
  const naiveQuery = queries(naive, NAIVE_QUERIES, endNow(), 0);
  log(`naive queries: p50 ${naiveQuery.p50.toFixed(0)} µs`);
  engine = undefined;
  naive = undefined;
  registry = undefined;
  await settledHeap();

  // 2. The engine again, but every activity of a user carries the same id string object.
  let pooledIds: string[] | undefined = Array.from({ length: USERS }, (_, u) => workload.userId(u));
  registry = new InMemoryFirstSeenRegistry();
  seedRegistry((user, ts) => registry?.observe(user, ts));
  engine = new ActiveUsersEngine({ registry });
  const [pooledSeconds] = ingest([{ sink: engine, batch }], pooledIds).recordSeconds;
  log(`engine ingest, pooled ids: ${pooledSeconds.toFixed(2)} s in record()`);
  engine = undefined;
  registry = undefined;
  pooledIds = undefined;

  // 3. Heap of the engine alone: registry that stores nothing; fresh id strings retained are counted.
  const engineBase = await settledHeap();
  let bareEngine: ActiveUsersEngine | undefined = new ActiveUsersEngine({ registry: nullRegistry });
  const [bareEngineSeconds] = ingest([{ sink: bareEngine, batch }]).recordSeconds;
  const bareEngineActive = bareEngine.query(QUERY, endNow()).count;
  const bareEngineTracked = bareEngine.trackedUsers;
  const engineBytes = (await settledHeap()) - engineBase;
  checksum += bareEngine.trackedUsers; // keeps it alive through the measurement
  bareEngine = undefined;
  log(`engine heap: ${(engineBytes / bareEngineActive).toFixed(1)} B/user`);

  // 4. Heap of the naive latest-seen Map alone (no first-seen Map), for the same comparison.
  const naiveBase = await settledHeap();
  let bareNaive: NaiveLastSeen | undefined = new NaiveLastSeen({ firstSeen: false });
  const [bareNaiveSeconds] = ingest([{ sink: bareNaive, batch }]).recordSeconds;
  const bareNaiveActive = bareNaive.query(QUERY, endNow()).count;
  const naiveBytes = (await settledHeap()) - naiveBase;
  checksum += bareNaive.size;
  bareNaive = undefined;
  log(`naive heap: ${(naiveBytes / bareNaiveActive).toFixed(1)} B/user`);

  // 5. The in-memory registry on its own (one entry per user, its own id strings), and an id alone.
  const registryBase = await settledHeap();
  let soloRegistry: InMemoryFirstSeenRegistry | undefined = new InMemoryFirstSeenRegistry();
  for (let u = 0; u < USERS; u++) soloRegistry.observe(workload.userId(u), T0);
  const registryBytes = (await settledHeap()) - registryBase;
  checksum += soloRegistry.size;
  soloRegistry = undefined;
  let ids: string[] | undefined = Array.from({ length: USERS }, () => '');
  const idsBase = await settledHeap();
  for (let u = 0; u < USERS; u++) ids[u] = workload.userId(u);
  const idBytes = ((await settledHeap()) - idsBase) / USERS;
  checksum += ids.length + workload.data.user.length; // keeps the data alive through every measurement
  ids = undefined;

  // 6. activenow's dimensions (issue 16): the same activities with page (PAGE_COUNT pages), country
  // and app_version filled, against CleverTap's four alone, fed in turn to two engines whose value
  // cap keeps every page; then queries of every split on the seven-dimension engine.
  const sevenBatch = workload.newBatch();
  const fourRegistry = new InMemoryFirstSeenRegistry();
  const sevenRegistry = new InMemoryFirstSeenRegistry();
  seedRegistry((user, ts) => {
    fourRegistry.observe(user, ts);
    sevenRegistry.observe(user, ts);
  });
  let fourEngine: ActiveUsersEngine | undefined = new ActiveUsersEngine({
    registry: fourRegistry,
    valueCap: PAGE_VALUE_CAP,
  });
  let sevenEngine: ActiveUsersEngine | undefined = new ActiveUsersEngine({
    registry: sevenRegistry,
    valueCap: PAGE_VALUE_CAP,
  });
  const [fourSeconds, sevenSeconds] = ingest([
    { sink: fourEngine, batch },
    { sink: sevenEngine, batch: sevenBatch, activenow: true },
  ]).recordSeconds;
  fourEngine = undefined;
  const sevenAnswer = sevenEngine.query(QUERY, endNow());
  const distinctPages = sevenAnswer.splits.page?.length ?? 0;
  queries(sevenEngine, ENGINE_WARMUP_QUERIES, endNow(), 0);
  const sevenQuery = queries(sevenEngine, ENGINE_QUERIES, endNow(), 0);
  const clevertapQuery = queries(sevenEngine, ENGINE_QUERIES, endNow(), 0, CLEVERTAP_QUERY);
  const pageQuery = queries(sevenEngine, ENGINE_QUERIES, endNow(), 0, PAGE_QUERY);
  const eventQuery = queries(sevenEngine, ENGINE_QUERIES, endNow(), 0, EVENT_QUERY);
  const sevenTracked = sevenEngine.trackedUsers;
  const filtered = FILTERED.map(([label, query]) => {
    const engine = sevenEngine as ActiveUsersEngine;
    queries(engine, FILTERED_WARMUP_QUERIES, endNow(), 0, query);
    return {
      label,
      query,
      answer: engine.query(query, endNow()),
      latency: queries(engine, FILTERED_QUERIES, endNow(), 0, query),
    };
  });
  // A filter on one dimension keeps exactly the users its value counts in the unfiltered split.
  const usInSplit = sevenAnswer.splits.country?.find(([value]) => value === 'US')?.[1];
  if (filtered[0].answer.count !== usInSplit)
    console.log(`WARNING: filtered US count ${filtered[0].answer.count}, unfiltered split says ${usInSplit}`);
  sevenEngine = undefined;
  log(
    `seven dimensions: ingest ${fmtRate(ACTIVITIES / sevenSeconds)}/s vs four ${fmtRate(ACTIVITIES / fourSeconds)}/s; query p99 ${sevenQuery.p99.toFixed(2)} µs (${distinctPages} pages)`,
  );

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
      `Query p50, µs (${DIMENSIONS.length} splits + user_type + newSplits, 300 s)`,
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
      : 'not pinned (taskset unavailable or BENCH_NO_PIN=1)';
  const notes = [
    `Data: ${workload.describe()} (\`now\` = batch time).`,
    `Ingest: time inside record() only; engine (with InMemoryFirstSeenRegistry) and naive (with its first-seen Map) get each batch in turn, the first one alternating, so that noise from other processes falls on both. Activities are pre-generated into typed arrays; each batch's ${BATCH} objects are filled before the record() calls, outside the timing (${((together.fillSeconds / ACTIVITIES) * 1e9).toFixed(0)} ns per activity), with a new id string per activity as a request parser would make (value strings come from constant pools). With one id string object per user reused by all its activities (pointer-equal Map keys, unlike a parser's output) the engine alone records ${fmtInt(ACTIVITIES / pooledSeconds)}/s.`,
    `Heap: (heapUsed + arrayBuffers) after minus before ingesting all activities, each after gc(), divided by active users (${fmtInt(bareEngineActive)}; engine tracks ${fmtInt(bareEngineTracked)}). The engine is measured with a first-seen registry that stores nothing (observe returns the time it is given), so the figure is the engine alone; the naive figure is likewise its latest-seen Map without its first-seen Map. Ingest with those: engine ${fmtInt(ACTIVITIES / bareEngineSeconds)}/s, naive ${fmtInt(ACTIVITIES / bareNaiveSeconds)}/s.`,
    `InMemoryFirstSeenRegistry on its own: ${fmt1(registryBpu)} B per user with its own id strings (a 16-character id string measures ${fmt1(idBytes)} B, so ${fmt1(registryBpu - idBytes)} B when it shares the engine's id strings).`,
    `Queries: engine ${fmtInt(ENGINE_QUERIES)} timed (after ${fmtInt(ENGINE_WARMUP_QUERIES)} warm-up) at a fixed \`now\`, then ${fmtInt(ENGINE_QUERIES)} with \`now\` +1 s every 1000; naive ${NAIVE_QUERIES} (each scans every user). Timed one by one with process.hrtime.bigint(). Engine and naive answers at the end are ${identical ? 'identical' : 'DIFFERENT'}.`,
  ];

  const sevenRate = ACTIVITIES / sevenSeconds;
  const fourRate = ACTIVITIES / fourSeconds;
  const latencyCells = (latency: Latency) =>
    `${fmtUs(latency.p50)} / ${fmtUs(latency.p99)} / ${fmtUs(latency.p999)} / ${fmtUs(latency.max)}`;
  const dimensionTable = markdownTable(
    [
      ['activenow dimensions (issue 16)', 'Measured', 'Target', 'Status'],
      [
        `Ingest, activities/s, seven dimensions (${distinctPages} pages) and events vs CleverTap's four, same run`,
        `${fmtInt(sevenRate)} vs ${fmtInt(fourRate)} (${ratio(sevenRate / fourRate)})`,
        '>= 0.75×',
        sevenRate >= 0.75 * fourRate ? 'met' : 'NOT met',
      ],
      [
        `Query, all ${DIMENSIONS.length} splits + user_type + new, µs p50 / p99 / p99.9 / max`,
        latencyCells(sevenQuery),
        `p99 <= ${TARGETS.engine.dimensionsQueryMicros}`,
        sevenQuery.p99 <= TARGETS.engine.dimensionsQueryMicros ? 'met' : 'NOT met',
      ],
      [`Query, page split alone, µs p50 / p99 / p99.9 / max`, latencyCells(pageQuery), '', ''],
      [`Query, event split + user_type + new, µs p50 / p99 / p99.9 / max`, latencyCells(eventQuery), '', ''],
      ...filtered.map(({ label, answer, latency }): [string, string, string, string] => [
        `Filtered query (${label}; keeps ${fmtInt(answer.count)}), µs p50 / p99 / p99.9 / max`,
        latencyCells(latency),
        `p99 <= ${fmtInt(TARGETS.engine.filteredQueryMicros)}`,
        latency.p99 <= TARGETS.engine.filteredQueryMicros ? 'met' : 'NOT met',
      ]),
      [
        `Query, CleverTap's 4 splits + user_type + new, same engine, µs p50 / p99 / p99.9 / max`,
        latencyCells(clevertapQuery),
        '',
        '',
      ],
    ],
    [false, true, true, false],
  );
  notes.push(
    `Filtered queries read every user the engine holds (${fmtInt(sevenTracked)} at the end: the users active within the 1800 s horizon), ${FILTERED_QUERIES} of each after ${FILTERED_WARMUP_QUERIES} to warm up; per user held, p50: ${filtered.map(({ latency }) => `${((latency.p50 * 1000) / sevenTracked).toFixed(1)}`).join(' / ')} ns. The US filter's count is checked against the unfiltered country split.`,
  );
  notes.push(
    `activenow dimensions: the same activities, and besides CleverTap's four a page per activity (Zipf(1) over ${PAGE_COUNT} paths), a country per user (40 codes, power law, 3% none), an app version per app user (5 versions) and an event name per activity (Zipf(1) over 30), into an engine with --value-cap ${PAGE_VALUE_CAP} (so every page keeps its name), each batch fed in turn with an engine of the same cap given CleverTap's four values only; both with an InMemoryFirstSeenRegistry seeded alike. Queries as above, on the seven-dimension engine at the end (${fmtInt(sevenAnswer.count)} active users).`,
  );

  const measuredAt = new Date().toISOString();
  const md = [
    `Measured ${measuredAt} with \`${COMMAND}\` (\`${NODE_COMMAND}\`, ${pinning}).`,
    `Machine: ${machine}; shared and noisy, so expect some variation between runs.`,
    '',
    figureTable,
    '',
    targetTable,
    '',
    dimensionTable,
    '',
    ...notes.map((note) => `- ${note}`),
    '',
  ].join('\n');

  console.log(`\n${figureTable}\n\n${targetTable}\n\n${dimensionTable}\n`);
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
  const entry = (rate: number, bytes: number, latency: Latency) => ({
    activitiesPerSecond: Math.round(rate),
    bytesPerActiveUser: Number(bytes.toFixed(1)),
    queryMicrosP50: Number(latency.p50.toFixed(2)),
    queryMicrosP99: Number(latency.p99.toFixed(2)),
    measuredAt,
    command: COMMAND,
  });
  const jsonPath = mergeResults({
    engine: entry(engineRate, engineBpu, engineQuery),
    engineNaive: entry(naiveRate, naiveBpu, naiveQuery),
  });
  const mdPath = writeResultsSection('Engine (bench:engine)', md);
  console.log(`\nWrote ${jsonPath} (engine, engineNaive) and ${mdPath}.`);
}

await main();
