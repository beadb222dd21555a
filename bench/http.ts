/**
 * The server over real sockets, as users run it (`activenow serve`, embedded store, default
 * durability), driven by autocannon:
 *   1. ingest: `POST /1/upload`, 1000 realistic events per request, concurrent clients;
 *   2. memory: the server's resident memory at 1M active users;
 *   3. now.json with every split and the new-user breakdown at 1M active users, against a bare
 *      `node:http` server answering the same bytes, same connections, same run.
 *
 *   npm run bench:http
 *
 * The server is moved to core 0 and this process (the load generator) re-executed on core 1, where
 * taskset exists. Env: BENCH_HTTP_USERS shrinks the run (results files are then left alone);
 * BENCH_PROFILE_DIR=DIR writes a CPU profile of the server there when it stops;
 * BENCH_SERVER_NODE_OPTIONS adds Node options to the server's (to try V8 settings, say).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PAGE_CACHE_MIB } from '../src/defaults.js';
import { CliProcesses, type Credentials, type ServerProcess } from '../support/cli-process.js';
import { postJson } from '../support/json-requests.js';
import { ROOT } from '../support/repo-root.js';
import { type LoadFigures, runLoad } from './support/http-load.js';
import { pinOtherProcess, pinToOneCore } from './support/pin-to-core.js';
import { residentBytes } from './support/process-stats.js';
import { formatInt, markdownTable, publishResults } from './support/results.js';
import { TARGETS } from './support/targets.js';
import { uploadBodies } from './support/upload-bodies.js';
import { Workload } from './support/workload.js';

const COMMAND = 'npm run bench:http';
const FULL_USERS = 1_000_000;
const USERS = Number(process.env.BENCH_HTTP_USERS ?? FULL_USERS);
/**
 * Uploads carry page (1,000 pages), country and app version besides CleverTap's four values, and
 * the server keeps every page (--value-cap 1024); BENCH_HTTP_DIMENSIONS=clevertap sends the four
 * alone to a server of the default cap, as before activenow's dimensions.
 */
const ACTIVENOW_DIMENSIONS = process.env.BENCH_HTTP_DIMENSIONS !== 'clevertap';
const FULL_RUN = USERS === FULL_USERS;
const BATCH = 1000;
const INGEST_CONNECTIONS = 8;
const INGEST_SECONDS = 15;
/**
 * Bodies the timed ingest cycles through. More would cost autocannon seconds of encoding before it
 * sends anything (it encodes every request up front), which would show as server idle time.
 */
const INGEST_BODIES = 320;
const NOW_CONNECTIONS = 50;
const NOW_SECONDS = 10;
/** Uploads running while now.json is measured a second time: the issue's mixed load. */
const MIXED_EVENTS_PER_SECOND = TARGETS.http.mixedUploadEventsPerSecond;
const MIXED_UPLOAD_CONNECTIONS = 4;
const TARGET_INGEST = TARGETS.http.ingestPerCoreSecond;
const TARGET_NOW_RATIO = TARGETS.http.nowToBareRatio;
const TARGET_NOW_P99_MS = TARGETS.http.nowP99Ms;
const TARGET_NOW_P999_MS = TARGETS.http.nowP999Ms;
const NOW_BODY = JSON.stringify({
  user_type: true,
  session_source: true,
  browser: true,
  os: true,
  device: true,
});

const pinnedCore = pinToOneCore(['--max-old-space-size=4096']);

function log(message: string): void {
  process.stderr.write(`[bench:http] ${message}\n`);
}

function headersOf(account: Credentials): Record<string, string> {
  return {
    'X-CleverTap-Account-Id': account.id,
    'X-CleverTap-Passcode': account.passcode,
    'Content-Type': 'application/json; charset=utf-8',
  };
}

/** Every body once, `INGEST_CONNECTIONS` at a time: all users become active. */
async function loadAll(url: string, account: Credentials, bodies: readonly Buffer[]): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(`${url}/1/upload`, { method: 'POST', headers: headersOf(account), body });
      const text = await response.text();
      if (response.status !== 200 || !text.includes('"unprocessed":[]'))
        throw new Error(`upload answered ${response.status}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: INGEST_CONNECTIONS }, worker));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Each connection sends its own share of the first INGEST_BODIES bodies in turn. */
async function ingest(url: string, pid: number, account: Credentials, bodies: readonly Buffer[]) {
  return runLoad({
    url,
    serverPid: pid,
    connections: INGEST_CONNECTIONS,
    seconds: INGEST_SECONDS,
    headers: headersOf(account),
    requests: bodies.slice(0, INGEST_BODIES).map((body) => ({ path: '/1/upload', body })),
    partition: true,
  });
}

/** Servers answering `body` to every request, as floors to compare activenow's now.json with. */
const BASELINES = {
  /** The issue's baseline: nothing but Node's HTTP server. */
  'bare node:http': (body: string) => `
    const body = Buffer.from(${JSON.stringify(body)});
    const server = require('node:http').createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
        response.end(body);
      });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`,
  /** The framework activenow is built on, one route, its default JSON body parser, no logger. */
  'minimal fastify': (body: string) => `
    const app = require('fastify')();
    app.post('/1/now.json', async (request, reply) => reply.type('application/json; charset=utf-8').send(${JSON.stringify(body)}));
    app.listen({ port: 0, host: '127.0.0.1' }).then(() => console.log(app.server.address().port));`,
} as const;

type Baseline = keyof typeof BASELINES;

/** A baseline server on core 0, like activenow. */
async function startBaseline(
  baseline: Baseline,
  body: string,
): Promise<{ url: string; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', BASELINES[baseline](body)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`${baseline} exited (${code})`)));
  });
  pinOtherProcess(child.pid as number);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, stop: () => child.kill() };
}

function nowLoad(url: string, pid: number, headers: Record<string, string>): Promise<LoadFigures> {
  return runLoad({
    url,
    serverPid: pid,
    connections: NOW_CONNECTIONS,
    seconds: NOW_SECONDS,
    headers,
    requests: [{ path: '/1/now.json', body: NOW_BODY }],
  });
}

/**
 * now.json as above while uploads arrive at MIXED_EVENTS_PER_SECOND (each connection its own share
 * of the bodies), both from this process: the tail latency of queries when the store is also writing.
 */
async function mixedLoad(
  url: string,
  pid: number,
  headers: Record<string, string>,
  bodies: readonly Buffer[],
): Promise<{ now: LoadFigures; uploads: LoadFigures }> {
  const [now, uploads] = await Promise.all([
    nowLoad(url, pid, headers),
    runLoad({
      url,
      serverPid: pid,
      connections: MIXED_UPLOAD_CONNECTIONS,
      seconds: NOW_SECONDS,
      headers,
      requests: bodies.slice(0, INGEST_BODIES).map((body) => ({ path: '/1/upload', body })),
      partition: true,
      rate: MIXED_EVENTS_PER_SECOND / BATCH,
    }),
  ]);
  return { now, uploads };
}

/** The server's V8 memory gauges (prom-client's default metrics), bytes. */
const MEMORY_GAUGES = {
  'V8 heap used': 'nodejs_heap_size_used_bytes',
  'V8 heap total': 'nodejs_heap_size_total_bytes',
  'external (ArrayBuffers, Buffers)': 'nodejs_external_memory_bytes',
} as const;

type Memory = Record<keyof typeof MEMORY_GAUGES, number>;

async function memoryOf(url: string): Promise<Memory> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return Object.fromEntries(
    Object.entries(MEMORY_GAUGES).map(([label, name]) => [label, gauge(name)]),
  ) as Memory;
}

function describeMemory(idle: Memory, loaded: Memory): string {
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  return (Object.keys(MEMORY_GAUGES) as (keyof Memory)[])
    .map((label) => `${label} ${mib(idle[label])} → ${mib(loaded[label])}`)
    .join(', ');
}

/** p50 / p99 / p99.9 / max, ms. */
function tail(figures: LoadFigures): string {
  const { p50, p99, p99_9, max } = figures.latencyMs;
  return `${p50} / ${p99} / ${p99_9} / ${max}`;
}

/** Server CPU time per request, µs. */
function cpuPerRequest(figures: LoadFigures): string {
  return ((figures.serverCpu * 1e6) / figures.requestsPerSecond).toFixed(1);
}

function describeLoad(figures: LoadFigures): string {
  return `${formatInt(figures.requestsPerSecond)} req/s, p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms, max ${figures.latencyMs.max} ms, server CPU ${(figures.serverCpu * 100).toFixed(0)}%, client CPU ${(figures.clientCpu * 100).toFixed(0)}%, non-2xx ${figures.non2xx}, errors ${figures.errors}`;
}

function assertClean(name: string, figures: LoadFigures): void {
  if (figures.non2xx > 0 || figures.errors > 0)
    throw new Error(
      `${name}: ${figures.non2xx} non-2xx answers and ${figures.errors} errors (${figures.errorSamples.join('; ')})`,
    );
}

/**
 * The server reports its event-loop delay and GC pauses (bench/support/server-pauses.mjs); with
 * BENCH_PROFILE_DIR set, it also profiles itself (bench/support/cpu-profile.mjs).
 */
function serverEnvironment(): Record<string, string> {
  const preload = (file: string) => `--import ${new URL(`./support/${file}`, import.meta.url).pathname}`;
  const dir = process.env.BENCH_PROFILE_DIR;
  const extra = process.env.BENCH_SERVER_NODE_OPTIONS ?? '';
  if (dir === undefined) return { NODE_OPTIONS: `${preload('server-pauses.mjs')} ${extra}` };
  return {
    NODE_OPTIONS: `${preload('server-pauses.mjs')} ${preload('cpu-profile.mjs')} ${extra}`,
    BENCH_PROFILE_DIR: dir,
  };
}

interface Pauses {
  /** Event-loop delay, ms. */
  readonly loop: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  readonly gc: Readonly<Record<string, { count: number; maxMs: number; totalMs: number }>>;
}

/** `run`, and what held the server's event loop meanwhile (server-pauses.mjs, asked by SIGUSR2). */
async function withPauses<T>(server: ServerProcess, run: () => Promise<T>): Promise<[T, Pauses]> {
  const pid = server.child.pid as number;
  const report = async (): Promise<Pauses> => {
    const before = server.stderr().split('[pauses] ').length;
    process.kill(pid, 'SIGUSR2');
    for (;;) {
      const parts = server.stderr().split('[pauses] ');
      if (parts.length > before) return JSON.parse(parts[parts.length - 1].split('\n')[0]) as Pauses;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await report();
  const result = await run();
  return [result, await report()];
}

/** e.g. "loop delay p99 1.2 / p99.9 3.4 / max 5.6 ms; scavenges 12 (longest 1.1 ms), mark-compacts 1 (longest 20.3 ms)". */
function describePauses({ loop, gc }: Pauses): string {
  const kinds = Object.entries(gc)
    .map(
      ([kind, p]) =>
        `${kind} ${p.count} (longest ${p.maxMs.toFixed(1)} ms, ${p.totalMs.toFixed(0)} ms in all)`,
    )
    .join(', ');
  return `event-loop delay p99 ${loop.p99} / p99.9 ${loop.p999} / max ${loop.max} ms; GC: ${kinds || 'none'}`;
}

async function main(): Promise<void> {
  log(`generating ${formatInt(USERS)} users' events`);
  const workload = new Workload({
    users: USERS,
    activities: 2 * USERS,
    batchSize: BATCH,
    spanSeconds: 1,
    seed: 0x5eed2024,
    activenowDimensions: ACTIVENOW_DIMENSIONS,
  });
  // Every event carries this time: the whole run stays well inside the five-minute window.
  const ts = Math.floor(Date.now() / 1000);
  const bodies = uploadBodies(workload, ts);
  const bytesPerEvent = bodies.reduce((sum, body) => sum + body.length, 0) / workload.shape.activities;

  const dir = mkdtempSync(join(tmpdir(), 'activenow-bench-http-'));
  const processes = new CliProcesses();
  try {
    const server = await processes.serve(
      [
        '--data-dir',
        dir,
        '--port',
        '0',
        '--max-in-flight',
        String(NOW_CONNECTIONS * 2),
        ...(ACTIVENOW_DIMENSIONS ? ['--value-cap', '1024'] : []),
        '--log-level',
        'warn',
      ],
      { env: serverEnvironment() },
    );
    const pid = server.child.pid as number;
    const account = server.created;
    if (account === undefined) throw new Error('serve did not create the first account');
    const serverCore = pinOtherProcess(pid);
    const idleBytes = residentBytes(pid);
    const idleMemory = await memoryOf(server.url);

    log(`loading ${formatInt(bodies.length)} uploads (${bytesPerEvent.toFixed(0)} bytes per event)`);
    const loadSeconds = await loadAll(server.url, account, bodies);
    log(`loaded in ${loadSeconds.toFixed(1)} s; ingest for ${INGEST_SECONDS} s`);
    const [ingested, ingestPauses] = await withPauses(server, () => ingest(server.url, pid, account, bodies));
    assertClean('ingest', ingested);
    const eventsPerSecond = ingested.requestsPerSecond * BATCH;
    const eventsPerCoreSecond = eventsPerSecond / Math.max(ingested.serverCpu, 1e-9);
    log(
      `ingest: ${formatInt(eventsPerSecond)} events/s; ${describeLoad(ingested)}; ${describePauses(ingestPauses)}`,
    );

    const answer = await postJson(`${server.url}/1/now.json`, account, JSON.parse(NOW_BODY));
    const count = (answer.body as { count?: number } | undefined)?.count;
    if (count !== USERS)
      throw new Error(`now.json counted ${count} users, expected ${USERS}: ${answer.text}`);
    const loadedBytes = residentBytes(pid);
    const loadedMemory = await memoryOf(server.url);
    log(
      `memory: resident ${((loadedBytes - idleBytes) / USERS).toFixed(0)} B per user above idle; idle → loaded, MiB: ${describeMemory(idleMemory, loadedMemory)}`,
    );

    const headers = headersOf(account);
    const [ours, nowPauses] = await withPauses(server, () => nowLoad(server.url, pid, headers));
    assertClean('now.json', ours);
    log(`now.json: ${describeLoad(ours)}; ${describePauses(nowPauses)}`);
    const [mixed, mixedPauses] = await withPauses(server, () => mixedLoad(server.url, pid, headers, bodies));
    assertClean('now.json under uploads', mixed.now);
    assertClean('uploads under now.json', mixed.uploads);
    log(
      `now.json under uploads: ${describeLoad(mixed.now)}; uploads: ${describeLoad(mixed.uploads)}; ${describePauses(mixedPauses)}`,
    );
    await processes.stop(server);

    const floors = new Map<Baseline, LoadFigures>();
    for (const baseline of Object.keys(BASELINES) as Baseline[]) {
      const server = await startBaseline(baseline, answer.text);
      try {
        floors.set(baseline, await nowLoad(server.url, server.pid, headers));
      } finally {
        server.stop();
      }
      log(`${baseline}: ${describeLoad(floors.get(baseline) as LoadFigures)}`);
    }
    const theirs = floors.get('bare node:http') as LoadFigures;
    const fastify = floors.get('minimal fastify') as LoadFigures;

    const nowRatio = ours.requestsPerSecond / theirs.requestsPerSecond;
    const perUser = (loadedBytes - idleBytes) / USERS;
    const met = (ok: boolean) => (ok ? 'yes' : 'no');
    const table = markdownTable(
      [
        ['Figure', 'Value', 'Baseline', 'Ratio', 'Target', 'Met?'],
        ['Ingest over HTTP, events/s (1000-event uploads)', formatInt(eventsPerSecond), '', '', '', ''],
        [
          'Ingest over HTTP, events per server CPU-second',
          formatInt(eventsPerCoreSecond),
          '',
          '',
          `>= ${formatInt(TARGET_INGEST)}`,
          met(eventsPerCoreSecond >= TARGET_INGEST),
        ],
        [
          'now.json, all splits + new breakdown, requests/s',
          formatInt(ours.requestsPerSecond),
          `${formatInt(theirs.requestsPerSecond)} (bare node:http)`,
          `${nowRatio.toFixed(2)}×`,
          `>= ${TARGET_NOW_RATIO}×`,
          met(nowRatio >= TARGET_NOW_RATIO),
        ],
        [
          'now.json, requests/s, against the framework alone',
          formatInt(ours.requestsPerSecond),
          `${formatInt(fastify.requestsPerSecond)} (minimal fastify)`,
          `${(ours.requestsPerSecond / fastify.requestsPerSecond).toFixed(2)}×`,
          '',
          '',
        ],
        [
          'now.json, server CPU per request, µs',
          cpuPerRequest(ours),
          `${cpuPerRequest(theirs)} (bare), ${cpuPerRequest(fastify)} (fastify)`,
          '',
          '',
          '',
        ],
        [
          'now.json p50 / p99 / p99.9 / max, ms, alone',
          tail(ours),
          tail(theirs),
          '',
          `p99 <= ${TARGET_NOW_P99_MS}, p99.9 <= ${TARGET_NOW_P999_MS}`,
          met(ours.latencyMs.p99 <= TARGET_NOW_P99_MS && ours.latencyMs.p99_9 <= TARGET_NOW_P999_MS),
        ],
        [
          `now.json p50 / p99 / p99.9 / max, ms, with uploads at ${formatInt(MIXED_EVENTS_PER_SECOND)} events/s (${formatInt(mixed.uploads.requestsPerSecond * BATCH)} reached)`,
          tail(mixed.now),
          '',
          '',
          `p99 <= ${TARGET_NOW_P99_MS}, p99.9 <= ${TARGET_NOW_P999_MS}`,
          met(
            mixed.now.latencyMs.p99 <= TARGET_NOW_P99_MS && mixed.now.latencyMs.p99_9 <= TARGET_NOW_P999_MS,
          ),
        ],
        ['now.json requests/s with those uploads', formatInt(mixed.now.requestsPerSecond), '', '', '', ''],
        [
          `Server resident memory at ${formatInt(USERS)} active users, bytes per user`,
          perUser.toFixed(0),
          '',
          '',
          '',
          '',
        ],
      ],
      [false, true, true, true, true, false],
    );
    const cpu = (figures: LoadFigures) =>
      `server ${(figures.serverCpu * 100).toFixed(0)}%, autocannon ${(figures.clientCpu * 100).toFixed(0)}%`;
    const notes = [
      `Measured ${new Date().toISOString()} with \`${COMMAND}\`, Node ${process.version}, 2 cores shared with other work; ${serverCore === undefined ? 'unpinned' : `server on core ${serverCore}, autocannon on core ${pinnedCore}`}.`,
      `Server: \`activenow serve\` (embedded store, durability \`process\`, \`--max-in-flight ${NOW_CONNECTIONS * 2}\` so that ${NOW_CONNECTIONS} connections of one account are admitted, \`--log-level warn\`), fresh data directory.`,
      `Data: ${workload.describe()}; rendered as CleverTap event records of ${bytesPerEvent.toFixed(0)} bytes on average (identity, type, evtName, ts, a one-field evtData, session source/browser/os/device${ACTIVENOW_DIMENSIONS ? '/page/country/app_version; server --value-cap 1024' : ''}), ${formatInt(bodies.length)} bodies of ${BATCH}. All of them are uploaded once first (${loadSeconds.toFixed(1)} s, every user becomes active, the JIT warms up); the timed ingest then sends the first ${Math.min(INGEST_BODIES, bodies.length)} of them (${formatInt(Math.min(INGEST_BODIES, bodies.length) * BATCH)} events of users already active) again and again for ${INGEST_SECONDS} s over ${INGEST_CONNECTIONS} connections, each with its own share, every answer checked to be a 200.`,
      `CPU during ingest: ${cpu(ingested)}. "Events per server CPU-second" is events/s divided by the server's CPU use (its process time, all threads, from /proc), i.e. the rate one fully busy core would sustain.`,
      `now.json: body \`${NOW_BODY}\`, ${NOW_CONNECTIONS} connections for ${NOW_SECONDS} s; the baseline is a bare \`node:http\` server answering the same ${answer.text.length} bytes, on the same core, in the same run; a minimal fastify app (one route, the same bytes, fastify's own JSON body parser, no logger) shows what the framework alone costs. CPU: activenow ${cpu(ours)}; bare ${cpu(theirs)}; minimal fastify ${cpu(fastify)}. When autocannon's CPU nears 100% the client, not the server, sets the rate: compare the servers' CPU per request then. Latencies are autocannon's (whole milliseconds).`,
      `What held the server's event loop (bench/support/server-pauses.mjs, preloaded into the server: monitorEventLoopDelay at 1 ms resolution, GC pauses from perf_hooks): during ingest, ${describePauses(ingestPauses)}; during now.json alone, ${describePauses(nowPauses)}; during now.json with uploads, ${describePauses(mixedPauses)}. Under a saturating load the loop is never idle, so its delay is the time of one turn (all the requests read at once), not a stall.`,
      `Memory: resident set (VmRSS) after loading ${formatInt(USERS)} users and the timed ingest, minus the resident set of the idle server (${(idleBytes / 2 ** 20).toFixed(0)} MiB); total ${(loadedBytes / 2 ** 20).toFixed(0)} MiB. It includes V8 heap not yet collected. From the server's own gauges (/metrics), idle → loaded, MiB: ${describeMemory(idleMemory, loadedMemory)}; the rest of the resident set is memory outside V8 (SQLite's page cache, up to ${DEFAULT_PAGE_CACHE_MIB} MiB by default, and the allocator's).`,
    ];
    publishResults({
      title: 'HTTP (bench:http)',
      table,
      notes,
      fullRun: FULL_RUN,
      results: {
        http: {
          ingestEventsPerSecond: Math.round(eventsPerSecond),
          ingestEventsPerServerCpuSecond: Math.round(eventsPerCoreSecond),
          ingestServerCpu: Number(ingested.serverCpu.toFixed(2)),
          ingestClientCpu: Number(ingested.clientCpu.toFixed(2)),
          nowRequestsPerSecond: Math.round(ours.requestsPerSecond),
          nowLatencyMsP50: ours.latencyMs.p50,
          nowLatencyMsP99: ours.latencyMs.p99,
          nowLatencyMsP999: ours.latencyMs.p99_9,
          nowLatencyMsMax: ours.latencyMs.max,
          mixedNowRequestsPerSecond: Math.round(mixed.now.requestsPerSecond),
          mixedNowLatencyMsP50: mixed.now.latencyMs.p50,
          mixedNowLatencyMsP99: mixed.now.latencyMs.p99,
          mixedNowLatencyMsP999: mixed.now.latencyMs.p99_9,
          mixedNowLatencyMsMax: mixed.now.latencyMs.max,
          mixedUploadEventsPerSecond: Math.round(mixed.uploads.requestsPerSecond * BATCH),
          bareRequestsPerSecond: Math.round(theirs.requestsPerSecond),
          bareLatencyMsP50: theirs.latencyMs.p50,
          bareLatencyMsP99: theirs.latencyMs.p99,
          fastifyRequestsPerSecond: Math.round(fastify.requestsPerSecond),
          serverCpuMicrosPerNowRequest: Number(cpuPerRequest(ours)),
          bareCpuMicrosPerRequest: Number(cpuPerRequest(theirs)),
          fastifyCpuMicrosPerRequest: Number(cpuPerRequest(fastify)),
          nowToBareRatio: Number(nowRatio.toFixed(3)),
          residentBytesPerActiveUser: Math.round(perUser),
          memory: { idle: idleMemory, loaded: loadedMemory },
          pauses: { ingest: ingestPauses, now: nowPauses, mixed: mixedPauses },
          measuredAt: new Date().toISOString(),
          command: COMMAND,
        },
      },
    });
  } finally {
    await processes.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
