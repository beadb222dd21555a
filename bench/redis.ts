/**
 * The Redis backend (RedisStore: one Lua script per batch, one per query) against the naive
 * "sorted set per key" pattern of popular analytics tools (bench/naive-redis-zsets.ts), on the same
 * generated traffic, each in its own redis-server started here:
 *   1. ingest: every group of IN_FLIGHT batches goes to both servers in turn (the first one
 *      alternating), so that noise from other processes falls on both alike;
 *   2. Redis memory per active user, Redis CPU per event, and the answers checked against the truth
 *      computed from the generated data;
 *   3. now.json latency (all splits + user_type) at 1M active users, both interleaved.
 *
 *   npm run bench:redis
 *
 * Env: BENCH_REDIS_USERS / BENCH_REDIS_ACTIVITIES shrink the run (results files are then left alone),
 * BENCH_REDIS_QUERIES / BENCH_REDIS_NAIVE_QUERIES the queries timed; BENCH_NO_PIN=1 skips pinning.
 * Never touches any other Redis: both servers are started here on free ports, in temporary
 * directories, and stopped (directories removed) at the end, also on failure.
 */
import { execFile, execFileSync } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { RedisConnection } from '../src/backends/redis/redis-connection.js';
import { RedisStore } from '../src/backends/redis/redis-store.js';
import type { Activity } from '../src/model/activity.js';
import type { NowQuery, NowResult } from '../src/model/now-query.js';
import { DIMENSIONS } from '../src/protocol/dimensions.js';
import { type RedisServer, redisCommand, startRedisServer } from '../support/redis-servers.js';
import { NaiveLastSeen } from './naive-last-seen.js';
import { NaiveRedisZsets } from './naive-redis-zsets.js';
import { pinOtherProcess, pinToOneCore } from './support/pin-to-core.js';
import { formatInt, markdownTable, mergeResults, writeResultsSection } from './support/results.js';
import { TARGETS } from './support/targets.js';
import { type MutableActivity, Workload } from './support/workload.js';

const COMMAND = 'npm run bench:redis';
const NODE_COMMAND = 'node --max-old-space-size=4096 --import tsx bench/redis.ts';

const pinnedCore = pinToOneCore(['--max-old-space-size=4096']);
// Ctrl-C: exit through 'exit' hooks, where support/redis-servers.ts kills our servers and
// removes their directories (a failure inside main() stops them in its `finally`).
process.once('SIGINT', () => process.exit(130));

// ---------------------------------------------------------------------------------------------
// Parameters.

const FULL_USERS = 1_000_000;
const FULL_ACTIVITIES = 3_000_000;
const USERS = Number(process.env.BENCH_REDIS_USERS ?? FULL_USERS);
const ACTIVITIES = Number(process.env.BENCH_REDIS_ACTIVITIES ?? FULL_ACTIVITIES);
const FULL_RUN = USERS === FULL_USERS && ACTIVITIES === FULL_ACTIVITIES;
const BATCH = 1000;
/** Upload requests in flight at once, as several concurrent clients would have them. */
const IN_FLIGHT = 8;
/** Simulated time the activities spread over; under the window, so every user is active at the end. */
const SPAN_SECONDS = 288;
const WINDOW = 300;
const HORIZON = 1800;
const VALUE_CAP = 256;
const QUERIES = Number(process.env.BENCH_REDIS_QUERIES ?? 2000);
const NAIVE_QUERIES = Number(process.env.BENCH_REDIS_NAIVE_QUERIES ?? 2000);
const WARMUP_QUERIES = 100;
const NEW_SPLIT_QUERIES = 3;
const SEED = 0x5eed_2024;
const ACCOUNT = 'bench';
/** First-seen times written per HSET while seeding. */
const SEED_CHUNK = 1000;

const TARGET_INGEST = TARGETS.redis.ingestPerSecond;
const TARGET_RATIO = TARGETS.redis.ratioToNaive;
const TARGET_QUERY_P99_MICROS = TARGETS.redis.queryP99Micros;

const QUERY: NowQuery = { window: WINDOW, userType: true, splits: [...DIMENSIONS], timeline: false };

function log(message: string): void {
  process.stderr.write(`[bench:redis] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Our redis-servers: introspection.

/** A `name:value` line of an INFO reply. */
function infoField(info: string, name: string): string {
  const value = new RegExp(`^${name}:(.*?)\\r?$`, 'm').exec(info)?.[1];
  if (value === undefined) throw new Error(`INFO has no ${name}`);
  return value;
}

async function info(server: RedisServer, section: string): Promise<string> {
  return String(await redisCommand(server, 'INFO', section));
}

async function usedMemory(server: RedisServer): Promise<number> {
  return Number(infoField(await info(server, 'memory'), 'used_memory'));
}

/** CPU seconds the server has used, user + system, all threads. */
async function cpuSeconds(server: RedisServer): Promise<number> {
  const cpu = await info(server, 'cpu');
  return Number(infoField(cpu, 'used_cpu_user')) + Number(infoField(cpu, 'used_cpu_sys'));
}

interface CommandStat {
  readonly calls: number;
  readonly usec: number;
}

async function commandStats(server: RedisServer): Promise<Map<string, CommandStat>> {
  const stats = new Map<string, CommandStat>();
  for (const match of (await info(server, 'commandstats')).matchAll(
    /^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm,
  )) {
    stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/**
 * "EVALSHA 3,000 calls, 15,000 µs each (15.00 µs per event), of which inside the scripts: HSCAN …",
 * the costliest first. Commands a script calls are counted on their own too, and their time is also
 * in the script's.
 */
function describeStats(stats: Map<string, CommandStat>, per: number, unit: string): string {
  const describe = (entries: [string, CommandStat][]) =>
    entries
      .sort((a, b) => b[1].usec - a[1].usec)
      .map(([name, s]) => {
        const each = s.usec / s.calls;
        return `${name.toUpperCase()} ${formatInt(s.calls)} calls, ${each >= 100 ? formatInt(each) : each.toFixed(2)} µs each (${(s.usec / per).toFixed(2)} µs per ${unit})`;
      })
      .join(', ');
  const total = [...stats.values()].reduce((sum, s) => sum + s.usec, 0);
  const entries = [...stats].filter(([, s]) => s.usec > 0.005 * total);
  const scripts = entries.filter(([name]) => name === 'evalsha' || name === 'eval');
  if (scripts.length === 0) return describe(entries);
  const inside = entries.filter(([name]) => name !== 'evalsha' && name !== 'eval');
  return `${describe(scripts)}, of which inside the script: ${describe(inside)}`;
}

/** Slowest single command (ms) per LATENCY LATEST ('command' and 'fast-command' events). */
async function slowestCommandMs(server: RedisServer): Promise<number> {
  const events = (await redisCommand(server, 'LATENCY', 'LATEST')) as [string, number, number, number][];
  return Math.max(
    0,
    ...events.filter(([event]) => event.endsWith('command')).map(([, , , max]) => Number(max)),
  );
}

/** Commands slower than slowlog-log-slower-than (10 ms), and the slowest of those kept, µs. */
async function slowlog(server: RedisServer): Promise<{ count: number; maxMicros: number }> {
  const count = Number(await redisCommand(server, 'SLOWLOG', 'LEN'));
  const entries = (await redisCommand(server, 'SLOWLOG', 'GET', '-1')) as [number, number, number][];
  return { count, maxMicros: Math.max(0, ...entries.map((entry) => Number(entry[2]))) };
}

/** Clears commandstats, the latency monitor and the slow log (the resets themselves then show in none). */
async function resetStats(server: RedisServer): Promise<void> {
  await redisCommand(server, 'LATENCY', 'RESET');
  await redisCommand(server, 'SLOWLOG', 'RESET');
  await redisCommand(server, 'CONFIG', 'RESETSTAT');
}

/**
 * Server-side time of every script run since the slow log was reset, µs (the slow log logs every
 * command while slowlog-log-slower-than is 0), then resets it.
 */
async function scriptMicros(server: RedisServer): Promise<number[]> {
  const entries = (await redisCommand(server, 'SLOWLOG', 'GET', '-1')) as [
    number,
    number,
    number,
    string[],
  ][];
  await redisCommand(server, 'SLOWLOG', 'RESET');
  return entries
    .filter(([, , , args]) => /^evalsha$/i.test(String(args[0])))
    .map(([, , micros]) => Number(micros));
}

/** Gives the server core 0, all threads (the client runs on the last core). */
async function pinServer(server: RedisServer): Promise<string | undefined> {
  return pinOtherProcess(infoField(await info(server, 'server'), 'process_id'));
}

/**
 * The commit measured, and whether the Redis backend differs from it in the working tree (the
 * scripts are read when this process starts).
 */
function backendVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src/backends/redis', 'src/store/store.ts') !== '';
    return `commit ${commit}${dirty ? ' with uncommitted changes to src/backends/redis' : ''}`;
  } catch {
    return 'commit unknown (no git)';
  }
}

interface PingLatency {
  readonly maxMs: number;
  readonly avgMs: number;
  readonly samples: number;
}

/**
 * `redis-cli --latency` (PING every 10 ms from its own process) against `server`, one second at a
 * time until stopped: how long a request (a now.json query) can wait behind the work going on.
 */
function samplePingLatency(server: RedisServer): { stop(): Promise<PingLatency> } {
  const run = promisify(execFile);
  let running = true;
  let maxMs = 0;
  let sum = 0;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const { stdout } = await run('redis-cli', [
        '-h',
        server.host,
        '-p',
        String(server.port),
        '--latency',
        '--raw',
        '-i',
        '1',
      ]).catch(() => ({ stdout: '' }));
      // min max avg samples (ms)
      const [, max, avg, n] = stdout.trim().split(/\s+/).map(Number);
      if (!(n > 0)) continue;
      maxMs = Math.max(maxMs, max);
      sum += avg * n;
      samples += n;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { maxMs, avgMs: samples > 0 ? sum / samples : 0, samples };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement.

interface Sink {
  record(account: string, activities: readonly Activity[], at: number): Promise<void>;
  now(account: string, query: NowQuery, at: number): Promise<NowResult>;
}

interface Ingest {
  readonly seconds: number[];
  readonly fillSeconds: number;
}

/**
 * Feeds every batch to each sink: each group of IN_FLIGHT batches is sent to one sink at once (all
 * in flight together, as concurrent upload requests), awaited, then to the next sink, the first one
 * alternating. A sink's time is the wall time of its groups, filling the batch objects included
 * (done as each request is sent, so it overlaps Redis working on the earlier ones).
 */
async function ingest(workload: Workload, sinks: readonly Sink[]): Promise<Ingest> {
  const batches: MutableActivity[][] = Array.from({ length: IN_FLIGHT }, () => workload.newBatch());
  const spent = sinks.map(() => 0n);
  let filling = 0n;
  const started = performance.now();
  let reported = started;
  for (let b = 0; b < workload.batches; b += IN_FLIGHT) {
    const last = Math.min(b + IN_FLIGHT, workload.batches);
    for (let j = 0; j < sinks.length; j++) {
      const which = (b / IN_FLIGHT + j) % sinks.length;
      const t = process.hrtime.bigint();
      const pending: Promise<void>[] = [];
      for (let k = b; k < last; k++) {
        const f = process.hrtime.bigint();
        const batch = workload.fillBatch(k, batches[k - b]);
        filling += process.hrtime.bigint() - f;
        pending.push(sinks[which].record(ACCOUNT, batch, workload.batchNow(k)));
      }
      await Promise.all(pending);
      spent[which] += process.hrtime.bigint() - t;
    }
    if (performance.now() - reported > 10_000) {
      reported = performance.now();
      log(
        `ingest: ${formatInt(last * BATCH)} activities sent to each, ${((reported - started) / 1000).toFixed(0)} s`,
      );
    }
  }
  return { seconds: spent.map((ns) => Number(ns) / 1e9), fillSeconds: Number(filling) / 1e9 / sinks.length };
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

function latencyOf(micros: number[]): Latency {
  const sorted = Float64Array.from(micros).sort();
  const n = sorted.length;
  const rank = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  return { p50: rank(0.5), p99: rank(0.99), max: sorted[n - 1], n };
}

interface Timed extends Latency {
  /** Fewest active users any of the queries answered. */
  readonly minActive: number;
}

/**
 * Times queries one at a time, the sinks interleaved: query k goes to every sink with k < its count,
 * at `at` + k × `spreadSeconds` / count (whole seconds), so with a spread of 60 each sink's queries
 * sweep every second of a minute.
 */
async function timeQueries(
  sinks: readonly Sink[],
  counts: readonly number[],
  at: number,
  spreadSeconds = 0,
): Promise<Timed[]> {
  const micros: number[][] = sinks.map(() => []);
  const minActive = sinks.map(() => Number.POSITIVE_INFINITY);
  const rounds = Math.max(...counts);
  for (let k = 0; k < rounds; k++) {
    for (let s = 0; s < sinks.length; s++) {
      if (k >= counts[s]) continue;
      const when = at + Math.floor((k * spreadSeconds) / counts[s]);
      const t = process.hrtime.bigint();
      const result = await sinks[s].now(ACCOUNT, QUERY, when);
      micros[s].push(Number(process.hrtime.bigint() - t) / 1000);
      minActive[s] = Math.min(minActive[s], result.count);
    }
  }
  return micros.map((m, s) => ({ ...latencyOf(m), minActive: minActive[s] }));
}

/** Distinct users with an activity in (end - WINDOW, end], straight from the generated arrays. */
function trueActiveUsers(workload: Workload, end: number): number {
  const { user, lateness } = workload.data;
  const seen = new Uint8Array(USERS);
  let active = 0;
  for (let i = 0; i < ACTIVITIES; i++) {
    const ts = Math.min(workload.batchNow(Math.floor(i / BATCH)) - lateness[i], end);
    if (ts > end - WINDOW && seen[user[i]] === 0) {
      seen[user[i]] = 1;
      active++;
    }
  }
  return active;
}

/** The full expected answer: the in-process reference of bench:engine, fed the same batches. */
function referenceAnswer(workload: Workload, end: number): NowResult {
  const reference = new NaiveLastSeen();
  for (let u = 0; u < USERS; u++) {
    const first = workload.pastFirstSeen(u);
    if (first !== 0) reference.seedFirstSeen(workload.userId(u), first);
  }
  const batch = workload.newBatch();
  for (let b = 0; b < workload.batches; b++)
    reference.record(workload.fillBatch(b, batch), workload.batchNow(b));
  return reference.query(QUERY, end);
}

/** Users the registry knows beforehand, in HSET-sized chunks of [user, first-seen]. */
function firstSeenChunks(workload: Workload): [string, number][][] {
  const chunks: [string, number][][] = [[]];
  for (let u = 0; u < USERS; u++) {
    const first = workload.pastFirstSeen(u);
    if (first === 0) continue;
    if (chunks[chunks.length - 1].length === SEED_CHUNK) chunks.push([]);
    chunks[chunks.length - 1].push([workload.userId(u), first]);
  }
  return chunks;
}

/** Per dimension: sum of the split's counts minus the users counted (> 0: users counted twice). */
function overcount(result: NowResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const dimension of QUERY.splits) {
    out[dimension] = (result.splits[dimension] ?? []).reduce((sum, [, n]) => sum + n, 0) - result.count;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Run.

async function main(): Promise<void> {
  const version = backendVersion();
  const generationStart = performance.now();
  const workload = new Workload({
    users: USERS,
    activities: ACTIVITIES,
    batchSize: BATCH,
    spanSeconds: SPAN_SECONDS,
    seed: SEED,
  });
  const end = workload.batchNow(workload.batches - 1);
  log(
    `generated ${formatInt(USERS)} users, ${formatInt(ACTIVITIES)} activities in ${((performance.now() - generationStart) / 1000).toFixed(1)} s`,
  );
  const truth = trueActiveUsers(workload, end);
  const expected = referenceAnswer(workload, end);
  if (expected.count !== truth) throw new Error(`reference counts ${expected.count}, truth is ${truth}`);
  log(
    `truth: ${formatInt(truth)} users active in the last ${WINDOW} s, ${formatInt(expected.userType?.new ?? 0)} new`,
  );

  const servers: RedisServer[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    // Every command over 1 ms in the latency monitor, and every one over 10 ms in the slow log.
    const serverArgs = ['--latency-monitor-threshold', '1', '--slowlog-max-len', '1000000'];
    const ours = await startRedisServer({ args: serverArgs });
    servers.push(ours);
    const theirs = await startRedisServer({ args: serverArgs });
    servers.push(theirs);
    const serverCore = await pinServer(ours);
    await pinServer(theirs);
    const redisVersion = infoField(await info(ours, 'server'), 'redis_version');
    log(`redis-server ${redisVersion} on ports ${ours.port} (activenow) and ${theirs.port} (naive)`);

    const connection = new RedisConnection(
      { kind: 'redis', url: ours.url },
      { onError: (error) => log(`activenow connection: ${error.message}`) },
    );
    await connection.connect();
    const store = new RedisStore({ connection, horizonSeconds: HORIZON, valueCap: VALUE_CAP });
    closers.push(() => store.close());
    const naive = await NaiveRedisZsets.connect(theirs.url);
    closers.push(() => naive.close());

    // Both servers start empty; both get the first-seen times of returning users, as hashes.
    const memoryBefore = [await usedMemory(ours), await usedMemory(theirs)];
    const chunks = firstSeenChunks(workload);
    const firstKey = `an:{${ACCOUNT}}:first`; // RedisStore's first-seen hash (src/backends/redis/redis-store.ts)
    await Promise.all(
      chunks.map((chunk) => connection.send(firstKey, ['HSET', firstKey, ...chunk.flat().map(String)])),
    );
    await Promise.all(chunks.map((chunk) => naive.seedFirstSeen(ACCOUNT, chunk)));
    const known = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    log(`seeded ${formatInt(known)} first-seen times into each`);

    // 1. Ingest, both in turn.
    for (const server of servers) await resetStats(server);
    const cpuBefore = [await cpuSeconds(ours), await cpuSeconds(theirs)];
    const pings = [samplePingLatency(ours), samplePingLatency(theirs)];
    let together: Ingest;
    let ping: PingLatency[];
    try {
      together = await ingest(workload, [store, naive]);
    } finally {
      // Stopped whatever happened, so that no redis-cli outlives the run.
      ping = await Promise.all(pings.map((sampler) => sampler.stop()));
    }
    const cpu = [(await cpuSeconds(ours)) - cpuBefore[0], (await cpuSeconds(theirs)) - cpuBefore[1]];
    const [storeSeconds, naiveSeconds] = together.seconds;
    log(`ingest: activenow ${storeSeconds.toFixed(2)} s, naive ${naiveSeconds.toFixed(2)} s`);
    const ingestStats = [await commandStats(ours), await commandStats(theirs)];
    const slowest = [await slowestCommandMs(ours), await slowestCommandMs(theirs)];
    const slow = [await slowlog(ours), await slowlog(theirs)];
    const scripts = ['evalsha', 'eval'].map((name) => ingestStats[0].get(name) ?? { calls: 0, usec: 0 });
    const scriptCalls = scripts[0].calls + scripts[1].calls;
    const scriptMs = (scripts[0].usec + scripts[1].usec) / scriptCalls / 1000;

    // 2. Memory and answers.
    const memoryAfter = [await usedMemory(ours), await usedMemory(theirs)];
    const memoryOf = async (server: RedisServer, key: string) =>
      Number(await redisCommand(server, 'MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    const ourFirstBytes = await memoryOf(ours, firstKey);
    const ourUsersBytes = await memoryOf(ours, `an:{${ACCOUNT}}:users`);
    const ourCountsBytes = await memoryOf(ours, `an:{${ACCOUNT}}:counts`);
    const theirFirstBytes = await memoryOf(theirs, `{${ACCOUNT}}:first`);
    const theirActiveBytes = await memoryOf(theirs, `{${ACCOUNT}}:active`);
    const theirKeys = Number(await redisCommand(theirs, 'DBSIZE'));

    const answer = await store.now(ACCOUNT, QUERY, end);
    const exact = JSON.stringify(answer) === JSON.stringify(expected);
    const naiveAnswer = await naive.now(ACCOUNT, QUERY, end);
    const naiveOver = overcount(naiveAnswer);
    const naiveOverTotal = Object.values(naiveOver).reduce((sum, n) => sum + n, 0);
    const naiveSplitsExact =
      JSON.stringify(naiveAnswer.splits) === JSON.stringify(expected.splits) &&
      naiveAnswer.userType?.new === expected.userType?.new;
    log(
      `answers: activenow count ${formatInt(answer.count)} (truth ${formatInt(truth)}), ${exact ? 'identical to' : 'DIFFERENT from'} the reference; naive count ${formatInt(naiveAnswer.count)}, splits over by ${JSON.stringify(naiveOver)}`,
    );

    // 3. Queries, interleaved, then the naive pattern's new-by-value (ZINTERCARD) a few times.
    await timeQueries([store, naive], [WARMUP_QUERIES, WARMUP_QUERIES], end);
    for (const server of servers) await resetStats(server);
    await redisCommand(ours, 'CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    const [storeQuery, naiveQuery] = await timeQueries([store, naive], [QUERIES, NAIVE_QUERIES], end);
    const queryStats = [await commandStats(ours), await commandStats(theirs)];
    const storeScript = latencyOf(await scriptMicros(ours));
    log(`queries: activenow p50 ${storeQuery.p50.toFixed(0)} µs, naive p50 ${naiveQuery.p50.toFixed(0)} µs`);
    const newSplitMicros: number[] = [];
    let naiveNewSplitsExact = true;
    for (let k = 0; k < NEW_SPLIT_QUERIES; k++) {
      const t = process.hrtime.bigint();
      const newSplits = await naive.newSplits(ACCOUNT, QUERY);
      newSplitMicros.push(Number(process.hrtime.bigint() - t) / 1000);
      naiveNewSplitsExact &&= JSON.stringify(newSplits) === JSON.stringify(expected.newSplits);
    }
    const newSplitLatency = latencyOf(newSplitMicros);
    // Last, as it moves activenow's clock: `now` through every second of the next minute, since the
    // rows a query reads depend on where `now` falls in its minute.
    const [storeMinute, naiveMinute] = await timeQueries(
      [store, naive],
      [QUERIES, NAIVE_QUERIES],
      end + 1,
      60,
    );
    const storeMinuteScript = latencyOf(await scriptMicros(ours));
    log(
      `queries over a minute: activenow p99 ${storeMinute.p99.toFixed(0)} µs, naive ${naiveMinute.p99.toFixed(0)} µs`,
    );

    // ------------------------------------------------------------------------------------------
    // Report.

    const naiveScriptMicros =
      [...queryStats[1].values()].reduce((sum, stat) => sum + stat.usec, 0) / NAIVE_QUERIES;
    const storeRate = ACTIVITIES / storeSeconds;
    const naiveRate = ACTIVITIES / naiveSeconds;
    const storeBpu = (memoryAfter[0] - memoryBefore[0]) / truth;
    const naiveBpu = (memoryAfter[1] - memoryBefore[1]) / truth;
    const storeCpu = (cpu[0] / ACTIVITIES) * 1e6;
    const naiveCpu = (cpu[1] / ACTIVITIES) * 1e6;

    const fmt1 = (n: number) => n.toFixed(1);
    const fmtUs = (n: number) => formatInt(n);
    const ratio = (n: number) => `${n >= 10 ? n.toFixed(0) : n.toFixed(2)}×`;
    const rows: [string, string, string, string][] = [
      ['Figure', 'activenow (RedisStore)', 'Naive ZSETs', 'activenow vs naive'],
      [
        `Ingest, events/s into one Redis (${ACTIVITIES / 1e6}M, ${IN_FLIGHT} batches of ${BATCH} in flight)`,
        formatInt(storeRate),
        formatInt(naiveRate),
        `${ratio(storeRate / naiveRate)} the rate`,
      ],
      [
        'Redis CPU per event, µs (used_cpu_user + used_cpu_sys)',
        storeCpu.toFixed(2),
        naiveCpu.toFixed(2),
        `${ratio(storeCpu / naiveCpu)} the CPU`,
      ],
      [
        'Redis memory per active user, bytes (used_memory delta, first-seen included)',
        fmt1(storeBpu),
        fmt1(naiveBpu),
        `${ratio(storeBpu / naiveBpu)} the bytes`,
      ],
      [
        `now.json p50, µs (4 splits + user_type, ${formatInt(truth)} active users)`,
        fmtUs(storeQuery.p50),
        fmtUs(naiveQuery.p50),
        `${ratio(naiveQuery.p50 / storeQuery.p50)} faster`,
      ],
      [
        'now.json p99, µs',
        fmtUs(storeQuery.p99),
        fmtUs(naiveQuery.p99),
        `${ratio(naiveQuery.p99 / storeQuery.p99)} faster`,
      ],
      [
        `now.json p50 / p99, µs, \`now\` +1 s every ${formatInt(QUERIES / 60)} queries over a minute`,
        `${fmtUs(storeMinute.p50)} / ${fmtUs(storeMinute.p99)}`,
        `${fmtUs(naiveMinute.p50)} / ${fmtUs(naiveMinute.p99)}`,
        `${ratio(naiveMinute.p99 / storeMinute.p99)} faster (p99)`,
      ],
      [
        'New users per value (newSplits), µs per query',
        'in the above',
        `${fmtUs(newSplitLatency.p50)} (ZINTERCARD)`,
        '',
      ],
      [
        'Answer vs truth (count, new, splits, newSplits)',
        exact ? 'exact' : 'DIFFERENT',
        naiveSplitsExact ? 'exact' : `splits over by ${formatInt(naiveOverTotal)}`,
        '',
      ],
    ];
    const figureTable = markdownTable(rows, [false, true, true, true]);

    const targets: [string, string, string][] = [
      [
        `Ingest >= ${formatInt(TARGET_INGEST)} events/s into one Redis`,
        formatInt(storeRate),
        storeRate >= TARGET_INGEST ? 'met' : 'NOT met',
      ],
      [
        `Ingest >= ${TARGET_RATIO}× the naive pattern's events/s`,
        ratio(storeRate / naiveRate),
        storeRate >= TARGET_RATIO * naiveRate ? 'met' : 'NOT met',
      ],
      [
        `now.json p99 <= ${TARGET_QUERY_P99_MICROS / 1000} ms at ${formatInt(truth)} active users`,
        `${(storeQuery.p99 / 1000).toFixed(2)} ms fixed \`now\`, ${(storeMinute.p99 / 1000).toFixed(2)} ms over a minute`,
        storeQuery.p99 <= TARGET_QUERY_P99_MICROS && storeMinute.p99 <= TARGET_QUERY_P99_MICROS
          ? 'met'
          : storeQuery.p99 <= TARGET_QUERY_P99_MICROS
            ? 'met at a fixed `now` only'
            : 'NOT met',
      ],
    ];
    const targetTable = markdownTable([['Target', 'Measured', 'Status'], ...targets], [false, true, false]);

    const cpus = os.cpus();
    const machine = `${cpus.length} cores (${cpus[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}, redis-server ${redisVersion}`;
    const pinning =
      pinnedCore !== undefined
        ? `client re-executed under \`taskset -c ${pinnedCore}\`${serverCore !== undefined ? `, both redis-servers moved to core ${serverCore}` : ''}`
        : 'not pinned (taskset unavailable or BENCH_NO_PIN=1)';
    const notes = [
      `Data: ${workload.describe()} (\`now\` = batch time). All ${formatInt(truth)} users are active at the end.`,
      `Design: two fresh redis-servers started by the bench (\`--save '' --appendonly no\`, loopback, free ports, temporary directories), one per system, so that memory and CPU are each system's alone; each group of ${IN_FLIGHT} batches goes to one, then the other (the first one alternating), so that noise from other processes on this shared machine falls on both alike, and only one server works at a time. Both get the same ${formatInt(known)} first-seen times of returning users beforehand (HSET, not timed).`,
      `activenow: \`RedisStore.record\` = one EVALSHA of record-5.lua per batch over one connection (${IN_FLIGHT} in flight, as concurrent upload requests). Naive (bench/naive-redis-zsets.ts): per event \`ZADD {acct}:active\`, \`ZADD {acct}:<dimension>:<value>\` ×4 and \`HSETNX {acct}:first\`, one SADD of the batch's values per dimension, all pipelined per batch with node-redis, then \`ZADD {acct}:new\` of the users HSETNX set (second round trip); ${formatInt(theirKeys)} keys at the end. Events/s = activities / wall time of the system's groups, filling the activity objects included (${((together.fillSeconds / ACTIVITIES) * 1e9).toFixed(0)} ns per activity, overlapping Redis).`,
      `Where Redis spends its time while ingesting (INFO commandstats): activenow ${describeStats(ingestStats[0], ACTIVITIES, 'event')}; naive ${describeStats(ingestStats[1], ACTIVITIES, 'event')}. Redis CPU: activenow ${cpu[0].toFixed(1)} s over ${storeSeconds.toFixed(1)} s of its turns (${((cpu[0] / storeSeconds) * 100).toFixed(0)}% busy), naive ${cpu[1].toFixed(1)} s over ${naiveSeconds.toFixed(1)} s (${((cpu[1] / naiveSeconds) * 100).toFixed(0)}%); with a client that kept Redis busy all the time, 1 / (Redis CPU per event) would allow at most ${formatInt(1e6 / storeCpu)} events/s for activenow and ${formatInt(1e6 / naiveCpu)} for naive (node-redis spends several µs per pipelined command on the client).`,
      `Blocking: a batch script holds Redis for ${scriptMs.toFixed(1)} ms on average (commandstats), the slowest for ${slowest[0]} ms (LATENCY LATEST), and ${formatInt(slow[0].count)} of ${formatInt(scriptCalls)} took over 10 ms (SLOWLOG, slowest ${formatInt(slow[0].maxMicros / 1000)} ms); a now.json query arriving meanwhile waits for it. The naive pattern's commands are short, yet ${formatInt(slow[1].count)} of them also took over 10 ms (slowest ${slowest[1]} ms): on this shared VM the spikes are largely the machine taking the CPU from the server mid-command. \`redis-cli --latency\` (PING every 10 ms) during the whole ingest, each server idle during the other's turns: max ${ping[0].maxMs} ms, avg ${ping[0].avgMs.toFixed(2)} ms (${formatInt(ping[0].samples)} PINGs) for activenow; max ${ping[1].maxMs} ms, avg ${ping[1].avgMs.toFixed(2)} ms for naive.`,
      `Memory: used_memory after ingest minus before seeding, divided by the ${formatInt(truth)} active users; both hold a first-seen entry for every user (activenow's \`first\` hash ${fmt1(ourFirstBytes / USERS)} B per user, its \`users\` hash of live records ${fmt1(ourUsersBytes / truth)} B, \`counts\` ${formatInt(ourCountsBytes / 1024)} KiB in all; naive's \`first\` hash ${fmt1(theirFirstBytes / USERS)} B, its \`active\` zset alone ${fmt1(theirActiveBytes / truth)} B), MEMORY USAGE … SAMPLES 0.`,
      `Answers at the end (\`now\` = last batch time, window ${WINDOW} s): truth computed from the generated arrays (${formatInt(truth)} distinct users active) and the full expected answer from the in-process reference of bench:engine (NaiveLastSeen) fed the same batches. activenow's answer (count, new/returning, 4 splits, 4 new splits) is ${exact ? 'identical to it' : 'DIFFERENT from it'}. The naive pattern's count is ${naiveAnswer.count === truth ? 'exact' : `${formatInt(naiveAnswer.count)} (wrong)`} and its new users ${naiveAnswer.userType?.new === expected.userType?.new ? 'exact' : 'wrong'}, but its splits are not exact: a user seen with two values of a dimension in the window is in both sets, so the splits sum to ${Object.entries(
        naiveOver,
      )
        .map(([dimension, n]) => `${formatInt(n)} (${dimension})`)
        .join(
          ', ',
        )} more than the users counted; activenow counts each user under the value of its latest activity.`,
      `Queries: ${formatInt(QUERIES)} activenow \`RedisStore.now\` (one EVALSHA of now-4.lua) and ${formatInt(NAIVE_QUERIES)} naive (SMEMBERS of the 4 value sets, then one ZCOUNT per key: ${formatInt(1 + (naiveAnswer.userType ? 1 : 0) + Object.values(naiveAnswer.splits).reduce((sum, split) => sum + (split?.length ?? 0), 0))}, pipelined) interleaved one by one after ${WARMUP_QUERIES} warm-up each, timed from the client (round trip and reply parsing included) with process.hrtime.bigint(); Redis time per query (commandstats): activenow ${describeStats(queryStats[0], QUERIES, 'query')}; naive ${describeStats(queryStats[1], NAIVE_QUERIES, 'query')}. activenow also answers new users per value in the same script; the naive pattern cannot without intersecting sets: ZINTERCARD of \`{acct}:new\` with each value set takes ${fmtUs(newSplitLatency.p50)} µs per query (p50 of ${NEW_SPLIT_QUERIES}; blocking Redis meanwhile), and is ${naiveNewSplitsExact ? 'exact here' : 'not exact either (a user in two value sets counts in both)'}; ZINTERCARD ignores scores, so it also needs a trimming job to keep both sets within the window.`,
      `Redis time of activenow's query script alone (SLOWLOG with slowlog-log-slower-than 0): p50 ${fmtUs(storeScript.p50)} / p99 ${fmtUs(storeScript.p99)} / max ${fmtUs(storeScript.max)} µs at a fixed \`now\`, p50 ${fmtUs(storeMinuteScript.p50)} / p99 ${fmtUs(storeMinuteScript.p99)} / max ${fmtUs(storeMinuteScript.max)} µs over a minute; the rest of the client-measured time is the round trip, node-redis and reply parsing, and this shared machine's noise (which also gives the naive queries, ~${fmtUs(naiveScriptMicros)} µs of Redis time each, their p99).`,
      `Over a minute: then ${formatInt(QUERIES)} activenow and ${formatInt(NAIVE_QUERIES)} naive queries with \`now\` from 1 to 60 s after the last batch (every second of a minute; at least ${formatInt(storeMinute.minActive)} users still active), since what an activenow query reads depends on where \`now\` falls in its minute (the partial first minute of the window is read from per-second counters).`,
    ];

    const measuredAt = new Date().toISOString();
    const md = [
      `Measured ${measuredAt} with \`${COMMAND}\` (\`${NODE_COMMAND}\`, ${pinning}), Redis backend at ${version}.`,
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
    console.log(`\nMachine: ${machine}; ${pinning}. Redis backend at ${version}.`);
    console.log(`Reproduce: ${COMMAND}   (= ${NODE_COMMAND})`);
    if (!exact) {
      console.log(
        `\nactivenow answer: ${JSON.stringify(answer)}\nexpected:         ${JSON.stringify(expected)}`,
      );
    }

    if (!FULL_RUN) {
      console.log('\nReduced run (BENCH_REDIS_USERS / BENCH_REDIS_ACTIVITIES): results files left alone.');
      return;
    }
    const entry = (
      rate: number,
      cpuMicros: number,
      bytes: number,
      latency: Latency,
      minute: Latency,
      isExact: boolean,
      script?: Latency,
    ) => ({
      eventsPerSecond: Math.round(rate),
      redisCpuMicrosPerEvent: Number(cpuMicros.toFixed(2)),
      redisBytesPerActiveUser: Number(bytes.toFixed(1)),
      queryMicrosP50: Number(latency.p50.toFixed(0)),
      queryMicrosP99: Number(latency.p99.toFixed(0)),
      queryMicrosP99OverMinute: Number(minute.p99.toFixed(0)),
      ...(script === undefined
        ? {}
        : { scriptMicrosP50: Number(script.p50.toFixed(0)), scriptMicrosP99: Number(script.p99.toFixed(0)) }),
      exact: isExact,
      backend: version,
      measuredAt,
      command: COMMAND,
    });
    const jsonPath = mergeResults({
      redis: entry(storeRate, storeCpu, storeBpu, storeQuery, storeMinute, exact, storeScript),
      redisNaive: entry(naiveRate, naiveCpu, naiveBpu, naiveQuery, naiveMinute, naiveSplitsExact),
    });
    const mdPath = writeResultsSection('Redis (bench:redis)', md);
    console.log(`\nWrote ${jsonPath} (redis, redisNaive) and ${mdPath}.`);
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    for (const server of servers) await server.stop();
  }
}

await main();
