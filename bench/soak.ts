/**
 * Soak: the real server (`activenow serve`, embedded store, a fresh data directory) under a fixed,
 * modest load for a while — uploads from a pool of users who come and go so the active set stays
 * steady, now.json queries, and a couple of open /1/now/stream streams — with its memory sampled
 * every second. Fails (exit 1) when any request fails (non-2xx or no answer), a stream ends early,
 * the server exits, or memory grows without bound (bench/support/memory-samples.ts, judgeMemory).
 *
 *   npm run soak                                  (node --import tsx bench/soak.ts; 10 minutes)
 *   node --import tsx bench/soak.ts --duration 30 --no-write
 *
 * Options: --duration SECONDS (or SOAK_DURATION; default 600); --no-write prints only the summary.
 * Only a run of at least the default length is recorded in bench/RESULTS.md and bench/results.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DIMENSIONS } from '../src/protocol/dimensions.js';
import { seededRandom } from '../src/simulate/seeded-random.js';
import { CliProcesses, type Credentials } from '../support/cli-process.js';
import { freePort } from '../support/free-port.js';
import {
  judgeMemory,
  MAX_QUARTER_GROWTH,
  MAX_SLOPE_MIB_PER_HOUR,
  type MemorySample,
  type MemoryVerdict,
  type SampleSource,
  sampleFromMetrics,
  sampleFromProc,
  WARM_UP_FRACTION,
} from './support/memory-samples.js';
import { formatInt, markdownTable, publishResults } from './support/results.js';

/** The server's SQLite page cache during the soak, MiB (see where the server starts). */
const SOAK_PAGE_CACHE_MIB = 8;
const COMMAND = 'npm run soak';
const DEFAULT_DURATION_SECONDS = 600;

/** Users who ever send: bounded, so that what the server keeps per user known stays bounded too. */
const POOL = 5_000;
/** Users online at any moment; each stays SESSION_SECONDS, then the next ones in the pool arrive. */
const ONLINE = 500;
const SESSION_SECONDS = 30;
const UPLOADS_PER_SECOND = 10;
const EVENTS_PER_UPLOAD = 100;
const QUERIES_PER_SECOND = 5;
const STREAMS = 2;
const REQUEST_PATIENCE_MS = 10_000;

const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'App'];
const OSES = ['Android', 'iOS', 'Windows', 'macOS', 'Linux'];
const DEVICES = ['Mobile', 'Desktop', 'Tablet'];
const SOURCES = ['Direct', 'Organic Search', 'Social', 'Email', 'Push'];
const SPLITS = ['user_type', ...DIMENSIONS];

interface Options {
  readonly durationSeconds: number;
  readonly write: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: { duration: { type: 'string' }, 'no-write': { type: 'boolean', default: false } },
  });
  const durationSeconds = Number(values.duration ?? process.env.SOAK_DURATION ?? DEFAULT_DURATION_SECONDS);
  if (!Number.isFinite(durationSeconds) || durationSeconds < 10) {
    throw new Error(`--duration must be a number of seconds, at least 10 (got ${values.duration})`);
  }
  return { durationSeconds, write: !values['no-write'] };
}

function log(message: string): void {
  process.stderr.write(`[soak] ${message}\n`);
}

/** What the load did; every failure is kept (the first few in full). */
class Tally {
  uploads = 0;
  events = 0;
  queries = 0;
  streamEvents = 0;
  errors = 0;
  readonly firstErrors: string[] = [];
  readonly latenciesMs: number[] = [];

  fail(what: string): void {
    this.errors++;
    if (this.firstErrors.length < 10) this.firstErrors.push(what);
  }

  get requests(): number {
    return this.uploads + this.queries;
  }
}

/** POSTs JSON; a non-2xx answer or no answer is a failure. */
async function post(url: string, account: Credentials, body: unknown, tally: Tally): Promise<unknown> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-CleverTap-Account-Id': account.id,
        'X-CleverTap-Passcode': account.passcode,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_PATIENCE_MS),
    });
    const text = await response.text();
    tally.latenciesMs.push(performance.now() - started);
    if (response.status < 200 || response.status >= 300) {
      tally.fail(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
      return undefined;
    }
    return JSON.parse(text);
  } catch (error) {
    tally.fail(`${url}: ${String(error)}`);
    return undefined;
  }
}

/** Runs `task` `perSecond` times a second until `deadline` (one at a time; late ones run at once). */
async function paced(perSecond: number, deadline: number, task: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  for (let i = 0; performance.now() < deadline; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(Math.min(wait, deadline - performance.now()));
    if (performance.now() >= deadline) break;
    await task(i);
  }
}

/** The users online `t` seconds in: a window sliding through the pool, so users come and go. */
function onlineUser(t: number, pick: number): string {
  const first = Math.floor((t * ONLINE) / SESSION_SECONDS);
  return `soak-user-${(first + Math.floor(pick * ONLINE)) % POOL}`;
}

function uploadBody(t: number, random: () => number): unknown {
  const choose = (values: readonly string[]) => values[Math.floor(random() * values.length)];
  return {
    d: Array.from({ length: EVENTS_PER_UPLOAD }, () => ({
      identity: onlineUser(t, random()),
      type: 'event',
      evtName: 'Page Viewed',
      session: {
        source: choose(SOURCES),
        browser: choose(BROWSERS),
        os: choose(OSES),
        device: choose(DEVICES),
      },
    })),
  };
}

/** Reads a stream until `deadline`; ending early, or an error, is a failure. */
async function follow(baseUrl: string, account: Credentials, deadline: number, tally: Tally): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadline - performance.now());
  try {
    const response = await fetch(`${baseUrl}/1/now/stream`, {
      headers: { 'X-CleverTap-Account-Id': account.id, 'X-CleverTap-Passcode': account.passcode },
      signal: controller.signal,
    });
    if (response.status !== 200 || response.body === null) {
      tally.fail(`/1/now/stream answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      return;
    }
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of response.body) {
      const blocks = (pending + decoder.decode(chunk, { stream: true })).split('\n\n');
      pending = blocks.pop() ?? '';
      // Events are `data: <now.json body>`; `: keep-alive` comments carry nothing.
      for (const block of blocks.filter((b) => b.startsWith('data: '))) {
        tally.streamEvents++;
        const count = (JSON.parse(block.slice('data: '.length)) as { count?: unknown }).count;
        if (typeof count !== 'number') tally.fail(`a stream event without a count: ${block.slice(0, 200)}`);
      }
    }
    tally.fail('a /1/now/stream stream ended before the soak did');
  } catch (error) {
    if (!controller.signal.aborted) tally.fail(`/1/now/stream: ${String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One memory sample a second: from /metrics, or from /proc when the server has no such route
 * (decided on the first sample). Once /metrics has answered, a scrape failing is a request failing.
 */
async function sampleMemory(
  baseUrl: string,
  pid: number,
  startedAt: number,
  deadline: number,
  samples: MemorySample[],
  tally: Tally,
): Promise<SampleSource> {
  let source: SampleSource | undefined;
  await paced(1, deadline, async () => {
    const t = (performance.now() - startedAt) / 1000;
    if (source === 'proc') {
      samples.push(sampleFromProc(pid, t));
      return;
    }
    const sample = await sampleFromMetrics(baseUrl, t).catch((error: unknown) => {
      if (source === 'metrics') tally.fail(`/metrics: ${String(error)}`);
      return undefined;
    });
    if (sample === undefined && source === undefined) {
      log('the server has no /metrics with process_resident_memory_bytes: RSS from /proc, heap not sampled');
      source = 'proc';
    } else if (sample === undefined) {
      tally.fail('/metrics no longer gives process_resident_memory_bytes');
    } else {
      source = 'metrics';
    }
    samples.push(sample ?? sampleFromProc(pid, t));
  });
  return source ?? 'proc';
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

interface Summary {
  readonly durationSeconds: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly uploads: number;
  readonly events: number;
  readonly queries: number;
  readonly streams: number;
  readonly streamEvents: number;
  readonly errors: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly memory: MemoryVerdict;
  readonly serverExitedEarly: boolean;
  readonly passed: boolean;
}

function report(summary: Summary, firstErrors: readonly string[]): string {
  const { memory } = summary;
  const mib = (n: number) => n.toFixed(1);
  const heap = memory.heapUsed;
  const lines = [
    `soak: duration ${summary.durationSeconds} s, requests ${summary.requests} (${summary.requestsPerSecond.toFixed(1)}/s), errors ${summary.errors}`,
    `soak: uploads ${summary.uploads} (${summary.events} events), now.json ${summary.queries}, streams ${summary.streams} (${summary.streamEvents} events)`,
    `soak: latency ms p50 ${summary.latencyMs.p50.toFixed(1)}, p99 ${summary.latencyMs.p99.toFixed(1)}, max ${summary.latencyMs.max.toFixed(1)}`,
    `soak: rss MiB min ${mib(memory.rss.min)}, median ${mib(memory.rss.median)}, max ${mib(memory.rss.max)}, slope ${memory.rss.slopeMiBPerHour.toFixed(1)} MiB/h after ${memory.warmUpSeconds.toFixed(0)} s warm-up (${memory.samples} samples from ${memory.source})`,
    heap === undefined
      ? 'soak: heap not sampled (no /metrics)'
      : `soak: heap used MiB min ${mib(heap.min)}, median ${mib(heap.median)}, max ${mib(heap.max)}, slope ${heap.slopeMiBPerHour.toFixed(1)} MiB/h`,
    `soak: rss median 2nd quarter ${mib(memory.secondQuarterMedian)} MiB, last quarter ${mib(memory.lastQuarterMedian)} MiB (${(memory.quarterGrowth * 100).toFixed(1)}%); grows without bound: ${memory.growsWithoutBound ? 'YES' : 'no'}`,
    ...firstErrors.map((error) => `soak: error: ${error}`),
    ...(summary.serverExitedEarly ? ['soak: the server exited before the soak ended'] : []),
    `soak: ${summary.passed ? 'PASS' : 'FAIL'}`,
  ];
  return lines.join('\n');
}

function resultsSection(summary: Summary): { table: string; notes: string[] } {
  const { memory } = summary;
  const heap = memory.heapUsed;
  const mib = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(1));
  const table = markdownTable(
    [
      ['Figure', 'Value'],
      ['Duration, s', formatInt(summary.durationSeconds)],
      ['Requests (uploads + now.json), per second', summary.requestsPerSecond.toFixed(1)],
      ['Events uploaded', formatInt(summary.events)],
      ['Stream events received', formatInt(summary.streamEvents)],
      ['Errors', formatInt(summary.errors)],
      ['Latency p50 / p99, ms', `${summary.latencyMs.p50.toFixed(1)} / ${summary.latencyMs.p99.toFixed(1)}`],
      [
        'RSS min / median / max, MiB',
        `${mib(memory.rss.min)} / ${mib(memory.rss.median)} / ${mib(memory.rss.max)}`,
      ],
      ['RSS slope after warm-up, MiB/h', memory.rss.slopeMiBPerHour.toFixed(1)],
      [
        'RSS median, 2nd → last quarter, MiB',
        `${mib(memory.secondQuarterMedian)} → ${mib(memory.lastQuarterMedian)}`,
      ],
      [
        'Heap used min / median / max, MiB',
        heap === undefined ? 'n/a' : `${mib(heap.min)} / ${mib(heap.median)} / ${mib(heap.max)}`,
      ],
      ['Heap used slope after warm-up, MiB/h', heap === undefined ? 'n/a' : heap.slopeMiBPerHour.toFixed(1)],
      ['Verdict', summary.passed ? 'pass' : 'FAIL'],
    ],
    [false, true],
  );
  const notes = [
    `Measured ${new Date().toISOString()} with \`${COMMAND}\` (\`node --import tsx bench/soak.ts --duration ${summary.durationSeconds}\`), Node ${process.version}; the load generator and the server share the machine.`,
    `Load: \`activenow serve --page-cache-mib ${SOAK_PAGE_CACHE_MIB}\` (embedded store, fresh data directory; SQLite's page cache fills as the log grows and then stays full, so a small one keeps that bounded growth inside the warm-up) as a child process; ${UPLOADS_PER_SECOND} uploads/s of ${EVENTS_PER_UPLOAD} events from ${ONLINE} users online at a time out of a pool of ${formatInt(POOL)} (each online ${SESSION_SECONDS} s, then the next ones in the pool), ${QUERIES_PER_SECOND} now.json/s with random splits, ${STREAMS} open \`/1/now/stream\` streams; requests one at a time per kind.`,
    `Memory sampled every second from the server's \`/metrics\` (process_resident_memory_bytes, nodejs_heap_size_used_bytes), or /proc when it has none. Fails when, after a warm-up of ${WARM_UP_FRACTION * 100}% of the run, the RSS slope exceeds ${MAX_SLOPE_MIB_PER_HOUR} MiB/h AND the last quarter's median RSS exceeds the second quarter's by more than ${MAX_QUARTER_GROWTH * 100}% (docs/operations.md), or when any request fails.`,
  ];
  return { table, notes };
}

/** A copy with every number to one decimal, for bench/results.json. */
function rounded<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v)),
  );
}

async function main(): Promise<number> {
  const { durationSeconds, write } = options();
  const dataDir = mkdtempSync(join(tmpdir(), 'activenow-soak-'));
  const processes = new CliProcesses();
  try {
    const port = await freePort();
    const server = await processes.serve([
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      // SQLite's page cache fills as the log is written and then stays full: bounded growth, but
      // at the default 64 MiB it fills over the whole run and looks like a leak. A small cache
      // fills during the warm-up, so what grows after it is what the test is after.
      '--page-cache-mib',
      String(SOAK_PAGE_CACHE_MIB),
    ]);
    const account = server.created;
    const pid = server.child.pid;
    if (account === undefined || pid === undefined)
      throw new Error(`serve printed no first account:\n${server.startup}`);
    let serverExitedEarly = false;
    let stopping = false;
    void server.exited.then(() => {
      if (!stopping) serverExitedEarly = true;
    });
    log(`server ${server.url} (pid ${pid}), account ${account.id}; ${durationSeconds} s of load`);

    const tally = new Tally();
    const samples: MemorySample[] = [];
    const startedAt = performance.now();
    const deadline = startedAt + durationSeconds * 1000;
    const random = seededRandom(0x50a4);
    const seconds = () => (performance.now() - startedAt) / 1000;
    const progress = setInterval(
      () => log(`${seconds().toFixed(0)} s: ${tally.requests} requests, ${tally.errors} errors`),
      Math.max(10_000, (durationSeconds * 1000) / 10),
    );
    const [source] = await Promise.all([
      sampleMemory(server.url, pid, startedAt, deadline, samples, tally),
      paced(UPLOADS_PER_SECOND, deadline, async () => {
        const answer = (await post(
          `${server.url}/1/upload`,
          account,
          uploadBody(seconds(), random),
          tally,
        )) as { processed?: number } | undefined;
        tally.uploads++;
        if (answer !== undefined && answer.processed !== EVENTS_PER_UPLOAD) {
          tally.fail(`an upload processed ${answer.processed} of ${EVENTS_PER_UPLOAD} events`);
        }
        tally.events += EVENTS_PER_UPLOAD;
      }),
      paced(QUERIES_PER_SECOND, deadline, async () => {
        const splits = Object.fromEntries(SPLITS.filter(() => random() < 0.5).map((split) => [split, true]));
        const answer = (await post(`${server.url}/1/now.json`, account, splits, tally)) as
          | { count?: number }
          | undefined;
        tally.queries++;
        if (answer !== undefined && !(typeof answer.count === 'number' && answer.count <= POOL)) {
          tally.fail(`now.json answered count ${answer.count}, outside 0..${POOL}`);
        }
      }),
      ...Array.from({ length: STREAMS }, () => follow(server.url, account, deadline, tally)),
    ]);
    clearInterval(progress);
    const elapsed = seconds();
    stopping = true;
    await processes.stop(server);

    const sorted = [...tally.latenciesMs].sort((a, b) => a - b);
    const memory = judgeMemory(samples, durationSeconds, source);
    const passed =
      tally.errors === 0 && !serverExitedEarly && !memory.growsWithoutBound && tally.requests > 0;
    const summary: Summary = {
      durationSeconds,
      requests: tally.requests,
      requestsPerSecond: tally.requests / elapsed,
      uploads: tally.uploads,
      events: tally.events,
      queries: tally.queries,
      streams: STREAMS,
      streamEvents: tally.streamEvents,
      errors: tally.errors,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted.at(-1) ?? Number.NaN,
      },
      memory,
      serverExitedEarly,
      passed,
    };
    process.stdout.write(`${report(summary, tally.firstErrors)}\n`);
    if (write) {
      publishResults({
        title: 'Soak (npm run soak)',
        ...resultsSection(summary),
        // As the other benchmarks: only a run of the full length is recorded.
        fullRun: durationSeconds >= DEFAULT_DURATION_SECONDS,
        results: { soak: { measuredAt: new Date().toISOString(), ...rounded(summary) } },
      });
    }
    return passed ? 0 : 1;
  } finally {
    await processes.stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `[soak] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
