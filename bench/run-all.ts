/**
 * `npm run bench`: every benchmark in turn (each measures its own baseline in the same run), then a
 * summary of all figures against their targets at the top of bench/RESULTS.md, from
 * bench/results.json. BENCH_ONLY=http,sql runs a subset (the summary still covers every figure
 * on record, each with the time it was measured).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatInt, markdownTable, writeResultsSection } from './support/results.js';
import { TARGETS } from './support/targets.js';

const BENCHMARKS = ['engine', 'recovery', 'redis', 'http', 'sql'] as const;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(name: string): boolean {
  process.stderr.write(`\n[bench] npm run bench:${name}\n`);
  const child = spawnSync('npm', ['run', `bench:${name}`], { cwd: root, stdio: 'inherit' });
  return child.status === 0;
}

type Results = Record<string, Record<string, unknown> | undefined>;

/** A summary row: figure, value, baseline, ratio, target, met?, measured at. */
type Row = [string, string, string, string, string, string, string];

function n(value: unknown): number {
  return typeof value === 'number' ? value : Number.NaN;
}

function met(ok: boolean): string {
  return ok ? 'yes' : 'no';
}

function day(entry: Record<string, unknown> | undefined): string {
  return String(entry?.measuredAt ?? '')
    .slice(0, 16)
    .replace('T', ' ');
}

function summaryRows(results: Results): Row[] {
  const rows: Row[] = [];
  const { engine, engineNaive, recovery, redis, redisNaive, http, sqlPeer } = results;
  if (engine !== undefined) {
    const rate = n(engine.activitiesPerSecond);
    const naive = n(engineNaive?.activitiesPerSecond);
    rows.push(
      [
        'Engine ingest, activities/s, 1 core',
        formatInt(rate),
        `${formatInt(naive)} (Map)`,
        `${(rate / naive).toFixed(2)}×`,
        `>= ${formatInt(TARGETS.engine.ingestPerSecond)}`,
        met(rate >= TARGETS.engine.ingestPerSecond),
        day(engine),
      ],
      [
        'Engine heap per active user, bytes',
        String(engine.bytesPerActiveUser),
        `${engineNaive?.bytesPerActiveUser} (Map)`,
        `${(n(engine.bytesPerActiveUser) / n(engineNaive?.bytesPerActiveUser)).toFixed(2)}×`,
        `<= ${TARGETS.engine.bytesPerUser}`,
        met(n(engine.bytesPerActiveUser) <= TARGETS.engine.bytesPerUser),
        day(engine),
      ],
      [
        'Engine query p99, µs, 1M users, all splits',
        String(engine.queryMicrosP99),
        `${formatInt(n(engineNaive?.queryMicrosP99))} (Map scan)`,
        `${formatInt(n(engineNaive?.queryMicrosP99) / n(engine.queryMicrosP99))}× faster`,
        `<= ${TARGETS.engine.queryMicros}`,
        met(n(engine.queryMicrosP99) <= TARGETS.engine.queryMicros),
        day(engine),
      ],
    );
  }
  if (recovery !== undefined) {
    const ratio = n(recovery.durableToMemoryRatio);
    rows.push(
      [
        'Durable ingest, activities/s, 1 core',
        formatInt(n(recovery.durableIngestActivitiesPerSecond)),
        `${formatInt(n(recovery.memoryIngestActivitiesPerSecond))} (in memory)`,
        `${ratio.toFixed(2)}×`,
        `>= ${TARGETS.recovery.durableToMemoryRatio}×`,
        met(ratio >= TARGETS.recovery.durableToMemoryRatio),
        day(recovery),
      ],
      [
        'Replay on start, activities/s',
        formatInt(n(recovery.replayActivitiesPerSecond)),
        '',
        '',
        `>= ${formatInt(TARGETS.recovery.replayPerSecond)}`,
        met(n(recovery.replayActivitiesPerSecond) >= TARGETS.recovery.replayPerSecond),
        day(recovery),
      ],
      [
        'Restart after a crash (checkpoint + log after it), s',
        n(recovery.restartFromCheckpointSeconds).toFixed(2),
        `${n(recovery.recoverySeconds).toFixed(2)} (full replay)`,
        '',
        `<= ${TARGETS.recovery.restartSeconds}`,
        met(n(recovery.restartFromCheckpointSeconds) <= TARGETS.recovery.restartSeconds),
        day(recovery),
      ],
    );
  }
  if (redis !== undefined) {
    const rate = n(redis.eventsPerSecond);
    const naive = n(redisNaive?.eventsPerSecond);
    rows.push(
      [
        'Redis ingest, events/s, one Redis',
        formatInt(rate),
        `${formatInt(naive)} (sorted sets)`,
        `${(rate / naive).toFixed(2)}×`,
        `>= ${formatInt(TARGETS.redis.ingestPerSecond)} and >= ${TARGETS.redis.ratioToNaive}×`,
        met(rate >= TARGETS.redis.ingestPerSecond && rate >= TARGETS.redis.ratioToNaive * naive),
        day(redis),
      ],
      [
        'Redis now.json p99, ms',
        (n(redis.queryMicrosP99) / 1000).toFixed(2),
        `${(n(redisNaive?.queryMicrosP99) / 1000).toFixed(2)} (sorted sets)`,
        '',
        `<= ${TARGETS.redis.queryP99Micros / 1000}`,
        met(n(redis.queryMicrosP99) <= TARGETS.redis.queryP99Micros),
        day(redis),
      ],
    );
  }
  if (http !== undefined) {
    const perCore = n(http.ingestEventsPerServerCpuSecond);
    const ratio = n(http.nowToBareRatio);
    rows.push(
      [
        'HTTP ingest, events per server CPU-second',
        formatInt(perCore),
        '',
        '',
        `>= ${formatInt(TARGETS.http.ingestPerCoreSecond)}`,
        met(perCore >= TARGETS.http.ingestPerCoreSecond),
        day(http),
      ],
      [
        'HTTP now.json, requests/s, 50 connections',
        formatInt(n(http.nowRequestsPerSecond)),
        `${formatInt(n(http.bareRequestsPerSecond))} (bare node:http)`,
        `${ratio.toFixed(2)}×`,
        `>= ${TARGETS.http.nowToBareRatio}×`,
        met(ratio >= TARGETS.http.nowToBareRatio),
        day(http),
      ],
      [
        'HTTP now.json p99, ms',
        String(http.nowLatencyMsP99),
        `${http.bareLatencyMsP99} (bare node:http)`,
        '',
        `<= ${TARGETS.http.nowP99Ms}`,
        met(n(http.nowLatencyMsP99) <= TARGETS.http.nowP99Ms),
        day(http),
      ],
      [
        `HTTP now.json p99.9, ms (alone; with uploads at ${formatInt(TARGETS.http.mixedUploadEventsPerSecond)} events/s)`,
        `${http.nowLatencyMsP999}; ${http.mixedNowLatencyMsP999}`,
        '',
        '',
        `<= ${TARGETS.http.nowP999Ms}`,
        met(Math.max(n(http.nowLatencyMsP999), n(http.mixedNowLatencyMsP999)) <= TARGETS.http.nowP999Ms),
        day(http),
      ],
      [
        `HTTP now.json p99 with uploads at ${formatInt(TARGETS.http.mixedUploadEventsPerSecond)} events/s, ms`,
        String(http.mixedNowLatencyMsP99),
        '',
        '',
        `<= ${TARGETS.http.nowP99Ms}`,
        met(n(http.mixedNowLatencyMsP99) <= TARGETS.http.nowP99Ms),
        day(http),
      ],
      [
        'Server resident memory per active user, bytes',
        String(http.residentBytesPerActiveUser),
        '',
        '',
        '',
        '',
        day(http),
      ],
    );
  }
  if (sqlPeer !== undefined) {
    const engineMs = n(sqlPeer.engineMicros) / 1000;
    for (const peer of (sqlPeer.peers as { name: string; answerMs: number }[] | undefined) ?? []) {
      rows.push([
        `now.json equivalent, ms: activenow vs ${peer.name}`,
        engineMs.toFixed(4),
        `${peer.answerMs.toFixed(1)} (${peer.name})`,
        `${formatInt(peer.answerMs / engineMs)}× faster`,
        '',
        '',
        day(sqlPeer),
      ]);
    }
  }
  return rows;
}

function main(): void {
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
  const failed = BENCHMARKS.filter((name) => (only === undefined || only.includes(name)) && !run(name));
  const results = JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8')) as Results;
  const table = markdownTable(
    [['Figure', 'Value', 'Baseline', 'Ratio', 'Target', 'Met?', 'Measured (UTC)'], ...summaryRows(results)],
    [false, true, true, true, true, false, false],
  );
  const body = `${table}\n\nWritten by \`npm run bench\` from bench/results.json; the sections below give each figure's command, data and method.`;
  writeResultsSection('Summary (npm run bench)', body, true);
  console.log(`\n${table}\n`);
  if (failed.length > 0) {
    console.error(`failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

main();
