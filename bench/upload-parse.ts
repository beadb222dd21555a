/**
 * `/1/upload` bodies to the route's result, per event: the upload fast path
 * (src/ingest/upload-fast-path.ts) against the reference path it falls back to (UTF-8 check,
 * nesting scan, secure-json-parse, the route's recordsOf, parseRecords), on the bench's realistic
 * bodies (bench/support/upload-bodies.ts), in the same process, alternating, several rounds.
 *
 *   npm run bench:upload-parse
 *
 * Both paths get the route's options (deriveSession) and are first checked to give the same result
 * on every body, the fast path without falling back. Env: BENCH_UPLOAD_PARSE_ROUNDS (default 10).
 */
import { isDeepStrictEqual } from 'node:util';
import { decodeJsonBody } from '../src/http/json-body-parser.js';
import { recordsOf } from '../src/http/routes/upload.js';
import {
  type ParsedUpload,
  type ParseRecordsOptions,
  parseRecords,
} from '../src/ingest/clevertap-records.js';
import { deriveSession } from '../src/ingest/derive-session.js';
import { parseUploadFast } from '../src/ingest/upload-fast-path.js';
import { pinToOneCore } from './support/pin-to-core.js';
import { formatInt, markdownTable } from './support/results.js';
import { uploadBodies } from './support/upload-bodies.js';
import { T0, Workload } from './support/workload.js';

const ROUNDS = Number(process.env.BENCH_UPLOAD_PARSE_ROUNDS ?? 10);
const OPTIONS: ParseRecordsOptions = { deriveSession };

const pinnedCore = pinToOneCore();

const workload = new Workload({
  users: 50_000,
  activities: 200_000,
  batchSize: 1000,
  spanSeconds: 1,
  seed: 0x5eed2024,
});
const bodies = uploadBodies(workload, T0);
const events = workload.shape.activities;
const bytes = bodies.reduce((sum, body) => sum + body.length, 0);

function reference(body: Buffer): ParsedUpload {
  return parseRecords(recordsOf(decodeJsonBody(body)), T0, OPTIONS);
}

function fast(body: Buffer): ParsedUpload {
  const parsed = parseUploadFast(body, T0, OPTIONS);
  if (parsed === undefined) throw new Error('the fast path fell back on a bench body');
  return parsed;
}

const PATHS = { reference, fast } as const;
type PathName = keyof typeof PATHS;

for (const body of bodies) {
  if (!isDeepStrictEqual(fast(body), reference(body))) throw new Error('the two paths disagree');
}

/**
 * One pass of `path` over every body: ns of CPU per event (the process's user and system time, GC
 * threads included: on a shared machine, time taken by other processes does not count).
 */
function pass(path: PathName): number {
  const parse = PATHS[path];
  let sink = 0;
  const started = process.cpuUsage();
  for (const body of bodies) sink += parse(body).processed;
  const cpu = process.cpuUsage(started);
  if (sink !== events) throw new Error(`${path}: ${sink} events processed, expected ${events}`);
  return ((cpu.user + cpu.system) * 1000) / events;
}

// Warm-up: both paths optimized before anything is timed.
for (let i = 0; i < 3; i++) for (const path of Object.keys(PATHS) as PathName[]) pass(path);

const figures: Record<PathName, number[]> = { reference: [], fast: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order: PathName[] = round % 2 === 0 ? ['reference', 'fast'] : ['fast', 'reference'];
  for (const path of order) figures[path].push(pass(path));
}

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
const median = (values: readonly number[]) => sorted(values)[Math.floor(values.length / 2)];
const range = (values: readonly number[]) => {
  const s = sorted(values);
  return `${s[0].toFixed(0)}–${s[s.length - 1].toFixed(0)}`;
};

process.stdout.write(
  `${markdownTable(
    [
      ['Path', 'CPU ns per event, median', 'range', 'events per CPU-second'],
      ...(Object.keys(PATHS) as PathName[]).map((path) => [
        path,
        median(figures[path]).toFixed(0),
        range(figures[path]),
        formatInt(1e9 / median(figures[path])),
      ]),
    ],
    [false, true, true, true],
  )}\n\n`,
);
process.stdout.write(
  `Fast path: ${(median(figures.reference) / median(figures.fast)).toFixed(2)}× the reference path's speed. ` +
    `${formatInt(bodies.length)} bodies of ${workload.shape.batchSize} events, ${(bytes / events).toFixed(0)} bytes per event; ` +
    `${ROUNDS} rounds, alternating; Node ${process.version}, ${pinnedCore === undefined ? 'unpinned' : `pinned to core ${pinnedCore}`}.\n`,
);
