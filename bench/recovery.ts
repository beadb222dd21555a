/**
 * Cost of durability in the embedded store, and how fast a restart recovers:
 *   1. ingest through EmbeddedStore with the SQLite log (default `process` durability, group commit)
 *      against the same store in memory only, same batches, same run: the ratio is the cost;
 *   2. replay: a new store recovering the log of every activity of step 1.
 *
 *   npm run bench:recovery
 *
 * Env: BENCH_RECOVERY_ACTIVITIES / BENCH_RECOVERY_USERS shrink the run (results files are then left
 * alone); BENCH_NO_PIN=1 skips pinning to one core.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ActivityDatabase } from '../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../src/backends/embedded/embedded-store.js';
import type { Activity } from '../src/model/activity.js';
import type { NowQuery } from '../src/model/now-query.js';
import { DIMENSIONS } from '../src/protocol/dimensions.js';
import { pinToOneCore } from './support/pin-to-core.js';
import { formatInt, markdownTable, publishResults } from './support/results.js';
import { TARGETS } from './support/targets.js';
import { Workload } from './support/workload.js';

const COMMAND = 'npm run bench:recovery';
const FULL_ACTIVITIES = 10_000_000;
const FULL_USERS = 1_000_000;
const ACTIVITIES = Number(process.env.BENCH_RECOVERY_ACTIVITIES ?? FULL_ACTIVITIES);
const USERS = Number(process.env.BENCH_RECOVERY_USERS ?? FULL_USERS);
const FULL_RUN = ACTIVITIES === FULL_ACTIVITIES && USERS === FULL_USERS;
/** Upload requests in flight at once, as concurrent clients would have them. */
const IN_FLIGHT = 8;
const HORIZON = 1800;
const SPAN_SECONDS = 288;
const TARGET_REPLAY = TARGETS.recovery.replayPerSecond;
const TARGET_DURABLE_RATIO = TARGETS.recovery.durableToMemoryRatio;
const QUERY: NowQuery = { window: 300, userType: true, splits: [...DIMENSIONS], timeline: true };

const pinnedCore = pinToOneCore(['--max-old-space-size=6144']);

function log(message: string): void {
  process.stderr.write(`[bench:recovery] ${message}\n`);
}

/** Fresh activity objects for a batch (the durable store holds them until its commit), `shift` s later. */
function copyBatch(batch: readonly Activity[], shift: number): Activity[] {
  return batch.map((a) => ({ ...a, ts: a.ts + shift }));
}

interface IngestRates {
  readonly memory: number;
  readonly durable: number;
  /** Longest event-loop block while the durable store ingested a group, ms: most, and p99 of groups. */
  readonly durableLoopDelayMaxMs: number;
  readonly durableLoopDelayP99Ms: number;
}

/**
 * Feeds every batch of the workload, `shift` seconds later than generated, to both stores: each
 * group of IN_FLIGHT batches goes to both in turn, the first one alternating, so that noise from
 * other processes falls on both alike.
 */
async function ingest(
  workload: Workload,
  memory: EmbeddedStore,
  durable: EmbeddedStore,
  shift: number,
): Promise<IngestRates> {
  const scratch = workload.newBatch();
  // How long the event loop is blocked at a time while the durable store ingests a group: what a
  // now.json arriving meanwhile would wait. A fresh monitor per group (one enabled again counts the
  // time it was off), whose timer has ticked before the group (its first tick records nothing) and
  // ticks once after it, so the last block is seen too.
  const groupBlocks: number[] = [];
  let memoryNs = 0n;
  let durableNs = 0n;
  for (let b = 0; b < workload.batches; b += IN_FLIGHT) {
    const group: { at: number; activities: Activity[] }[] = [];
    for (let k = b; k < Math.min(b + IN_FLIGHT, workload.batches); k++) {
      group.push({
        at: workload.batchNow(k) + shift,
        activities: copyBatch(workload.fillBatch(k, scratch), shift),
      });
    }
    const runs: [EmbeddedStore, 'memory' | 'durable'][] = [
      [memory, 'memory'],
      [durable, 'durable'],
    ];
    if ((b / IN_FLIGHT) % 2 === 1) runs.reverse();
    for (const [store, which] of runs) {
      const loopDelay = monitorEventLoopDelay({ resolution: 1 });
      if (which === 'durable') {
        loopDelay.enable();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const t = process.hrtime.bigint();
      await Promise.all(group.map((g) => store.record('bench', g.activities, g.at)));
      const spent = process.hrtime.bigint() - t;
      if (which === 'memory') memoryNs += spent;
      else {
        durableNs += spent;
        await new Promise((resolve) => setTimeout(resolve, 1));
        loopDelay.disable();
        groupBlocks.push(loopDelay.max / 1e6);
      }
    }
  }
  return {
    memory: ACTIVITIES / (Number(memoryNs) / 1e9),
    durable: ACTIVITIES / (Number(durableNs) / 1e9),
    durableLoopDelayMaxMs: Math.max(...groupBlocks),
    durableLoopDelayP99Ms: groupBlocks.sort((x, y) => x - y)[Math.floor(0.99 * (groupBlocks.length - 1))],
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const workload = new Workload({
    users: USERS,
    activities: ACTIVITIES,
    batchSize: 1000,
    spanSeconds: SPAN_SECONDS,
    seed: 0x5eed_2024,
  });
  log(
    `generated ${formatInt(USERS)} users, ${formatInt(ACTIVITIES)} activities in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'activenow-bench-recovery-'));
  const logPath = join(dir, 'activity.db');
  try {
    const memory = new EmbeddedStore({ horizonSeconds: HORIZON, valueCap: 256 });
    const durable = new EmbeddedStore({
      horizonSeconds: HORIZON,
      valueCap: 256,
      database: new ActivityDatabase(logPath, 'process'),
    });
    await durable.recover();

    // Cold: every user is new to both stores. Steady: the same traffic again one span later, when
    // the users are already active, as in a server that has been running.
    const cold = await ingest(workload, memory, durable, 0);
    const steady = await ingest(workload, memory, durable, SPAN_SECONDS);
    const end = workload.batchNow(workload.batches - 1) + SPAN_SECONDS;
    const before = JSON.stringify(await durable.now('bench', QUERY, end));
    if (before !== JSON.stringify(await memory.now('bench', QUERY, end)))
      throw new Error('durable and memory stores disagree');
    await durable.close();
    await memory.close();
    const logBytes = statSync(logPath).size + walSize(logPath);
    const logged = 2 * ACTIVITIES;
    log(`ingest cold: memory ${formatInt(cold.memory)}/s, durable ${formatInt(cold.durable)}/s`);
    log(`ingest steady: memory ${formatInt(steady.memory)}/s, durable ${formatInt(steady.durable)}/s`);
    log(
      `event loop blocked, durable steady ingest: max ${steady.durableLoopDelayMaxMs.toFixed(1)} ms, p99 ${steady.durableLoopDelayP99Ms.toFixed(1)} ms`,
    );
    log(`log: ${formatInt(logBytes / 1e6)} MB`);

    const reopened = new EmbeddedStore({
      horizonSeconds: HORIZON,
      valueCap: 256,
      database: new ActivityDatabase(logPath, 'process'),
    });
    const replayStart = process.hrtime.bigint();
    await reopened.recover();
    const replaySeconds = Number(process.hrtime.bigint() - replayStart) / 1e9;
    const after = JSON.stringify(await reopened.now('bench', QUERY, end));
    await reopened.close();
    if (after !== before) throw new Error('counts after replay differ from counts before the restart');
    const replayRate = (2 * ACTIVITIES) / replaySeconds;
    log(`replay: ${formatInt(replayRate)}/s (${replaySeconds.toFixed(2)} s)`);

    const ratio = steady.durable / steady.memory;
    const table = markdownTable(
      [
        ['Figure', 'Value', 'Baseline', 'Ratio', 'Target', 'Met?'],
        [
          'Durable ingest, steady (users already active), activities/s',
          formatInt(steady.durable),
          `${formatInt(steady.memory)} (in memory)`,
          `${ratio.toFixed(2)}×`,
          `>= ${TARGET_DURABLE_RATIO}×`,
          ratio >= TARGET_DURABLE_RATIO ? 'yes' : 'no',
        ],
        [
          'Durable ingest, cold (every user new), activities/s',
          formatInt(cold.durable),
          `${formatInt(cold.memory)} (in memory)`,
          `${(cold.durable / cold.memory).toFixed(2)}×`,
          '',
          '',
        ],
        [
          `Replay on start, activities/s (${formatInt(2 * ACTIVITIES)} logged)`,
          formatInt(replayRate),
          '',
          '',
          `>= ${formatInt(TARGET_REPLAY)}`,
          replayRate >= TARGET_REPLAY ? 'yes' : 'no',
        ],
        [
          'Longest event-loop block per group of 8 uploads, durable steady ingest, max / p99, ms',
          `${steady.durableLoopDelayMaxMs.toFixed(1)} / ${steady.durableLoopDelayP99Ms.toFixed(1)}`,
          '',
          '',
          '',
          '',
        ],
        ['Recovery time, s', replaySeconds.toFixed(2), '', '', '', ''],
        ['Log size, bytes per activity', (logBytes / logged).toFixed(1), '', '', '', ''],
      ],
      [false, true, true, true, true, false],
    );
    const notes = [
      `Measured ${new Date().toISOString()} with \`${COMMAND}\`${pinnedCore === undefined ? '' : ` (pinned with taskset to core ${pinnedCore})`}, Node ${process.version}, 2-core machine shared with other work.`,
      `Data: ${formatInt(USERS)} users, ${formatInt(ACTIVITIES)} activities in batches of 1000 over ${SPAN_SECONDS} simulated seconds (bench/support/workload.ts), ${IN_FLIGHT} batches in flight at a time; each group goes to both stores in turn. Cold: every user is new to the store (each one costs a first-seen lookup on disk). Steady: the same traffic again ${SPAN_SECONDS} s later, users already active — the cost of the log itself. Every figure includes the engine; the durable one adds encoding, the SQLite commit (WAL, synchronous=NORMAL, group commit) and first-seen reads and writes.`,
      'Replay: a new store on the same file, `recover()` until ready; its answer (all splits, new breakdown, timeline) is checked equal to the answer before the restart.',
      'What limits it (profile: `node --cpu-prof --import tsx bench/recovery.ts` with BENCH_RECOVERY_ACTIVITIES=1000000 BENCH_RECOVERY_USERS=50000): first-seen reads from SQLite for every user the engine does not hold (~1.5 µs each read ahead in sorted chunks, ~5 µs one by one) dominate cold ingest and replay, which starts with no user in memory; in steady state the SQLite commit of ~37 bytes per activity (WAL writes and checkpoints) and the encoding cost more than the engine itself (≈0.7 µs vs ≈0.45 µs per activity).',
    ];
    publishResults({
      title: 'Recovery (bench:recovery)',
      table,
      notes,
      fullRun: FULL_RUN,
      results: {
        recovery: {
          replayActivitiesPerSecond: Math.round(replayRate),
          recoverySeconds: Number(replaySeconds.toFixed(2)),
          durableIngestActivitiesPerSecond: Math.round(steady.durable),
          memoryIngestActivitiesPerSecond: Math.round(steady.memory),
          coldDurableIngestActivitiesPerSecond: Math.round(cold.durable),
          coldMemoryIngestActivitiesPerSecond: Math.round(cold.memory),
          durableToMemoryRatio: Number(ratio.toFixed(3)),
          logBytesPerActivity: Number((logBytes / logged).toFixed(1)),
          durableLoopDelayMaxMs: Number(steady.durableLoopDelayMaxMs.toFixed(1)),
          durableLoopDelayP99Ms: Number(steady.durableLoopDelayP99Ms.toFixed(1)),
          measuredAt: new Date().toISOString(),
          command: COMMAND,
        },
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function walSize(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

await main();
