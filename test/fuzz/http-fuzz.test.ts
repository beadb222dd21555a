import fc from 'fast-check';
import type { HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import type { NowQuery } from '../../src/model/now-query.js';
import { SPLIT_NAMES } from '../../src/protocol/dimensions.js';
import { expectedTopOf } from '../support/expected-body.js';
import { NaiveOracle } from '../support/naive-oracle.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import {
  activityOfEvent,
  activityOfHit,
  authenticatedAs,
  cleanStatus,
  dryRunOf,
  envelopeProblem,
  expectedUploadAnswer,
  MAX_BODY_BYTES,
  renderExpected,
  STREAM_QUERY,
  streamReader,
} from './support/judge.js';
import {
  BROKEN_FRAMINGS,
  plainUploadArb,
  type RequestSpec,
  ROUTES,
  requestSpecArb,
  type Who,
} from './support/request-specs.js';
import {
  describe as describeExchange,
  send,
  toWire,
  type WireAnswer,
  type WireContext,
  type WireRequest,
  wasCorrupted,
} from './support/wire.js';

/**
 * Generated requests to every route of the real server, over real sockets (fetch, or raw bytes when
 * fetch cannot say it). Properties: never a 5xx; every error is the exact envelope of a catalogue
 * error; requests sent as documented get the documented status; an accepted upload or hit changes
 * the counts exactly as a naive oracle says, and nothing else does (rejected requests, refused
 * records, the other account, the account of another region); the server answers /healthz after
 * every run. The clock is the test's: it moves only between runs.
 *
 *   ACTIVENOW_FUZZ_RUNS=20000 npx vitest run test/fuzz      (npm run test:fuzz)
 */

const RUNS = Number(process.env.ACTIVENOW_FUZZ_RUNS ?? 150);
/** Runs per pair of fresh accounts: the naive oracle rescans everything it holds on each query. */
const RUNS_PER_ACCOUNTS = 40;
const HORIZON = 1800;

const FULL: NowQuery = { window: HORIZON, userType: true, splits: SPLIT_NAMES, timeline: false };
const ALL_SPLITS = Object.fromEntries(SPLIT_NAMES.map((name) => [name, true]));

let server: TestServer;
let foreign: AccountCredentials;
let readTokenKey: Buffer;
let accounts: Record<Who, AccountCredentials>;
let oracles: Record<Who, NaiveOracle>;
/** The accounts' bot lanes (docs/semantics.md §9). */
let botOracles: Record<Who, NaiveOracle>;
let runs = 0;
/** What the runs exercised, printed at the end: a fuzzer that never reaches the oracle proves little. */
const seen = {
  requests: 0,
  raw: 0,
  documented: 0,
  acceptedUploads: 0,
  storedEvents: 0,
  acceptedHits: 0,
  nowCompared: 0,
  streamsCompared: 0,
  statuses: {} as Record<number, number>,
  /** Responses cut short by a reset (see truncationProblems). */
  truncated: 0,
  slowestMs: 0,
  slowest: '',
};

beforeAll(async () => {
  // Few places in flight, so requests sent together meet the limit (429) now and then.
  server = await startTestServer({ horizonSeconds: HORIZON, maxBodyBytes: MAX_BODY_BYTES, maxInFlight: 3 });
  foreign = await server.accounts.create({ name: 'abroad', region: 'us1' });
  readTokenKey = await server.accounts.readTokenKey();
});

const CONNECT_PROBE: WireRequest = {
  transport: 'raw',
  method: 'CONNECT',
  target: 'example.com:443',
  headers: [],
  body: undefined,
  framing: 'normal',
};
/** `POST /1/now.json` with no Content-Type and a chunked body of no bytes: no body, so the count. */
function emptyChunkedProbe(): WireRequest {
  return {
    transport: 'raw',
    method: 'POST',
    target: '/1/now.json',
    headers: [
      ['X-CleverTap-Account-Id', server.account.id],
      ['X-CleverTap-Passcode', server.account.passcode],
    ],
    body: undefined,
    framing: 'chunked',
  };
}

const BAD_URL_PROBE: WireRequest = {
  transport: 'raw',
  method: 'GET',
  target: '/healthz%',
  headers: [],
  body: undefined,
  framing: 'normal',
};

async function probe(request: WireRequest): Promise<WireAnswer | undefined> {
  return send(request, server.port).catch(() => undefined);
}

afterAll(async () => {
  await server?.close();
});

async function freshAccounts(): Promise<void> {
  const make = () => server.accounts.create({ name: `fuzz ${runs}`, region: 'eu1' });
  accounts = { A: await make(), B: await make() };
  const oracle = () => new NaiveOracle({ horizonSeconds: HORIZON, valueCap: 256 });
  oracles = { A: oracle(), B: oracle() };
  botOracles = { A: oracle(), B: oracle() };
}

function registered(method: string, url: string): boolean {
  return server.app.hasRoute({ method: method as HTTPMethods, url });
}

/**
 * What must hold of one answer, and what it stored: problems found, as sentences. `ordered`: sent
 * alone, so counts it reads must be the oracle's at that point, and no 429 is due.
 */
function judge(
  spec: RequestSpec,
  ctx: WireContext,
  answer: WireAnswer,
  wire: WireRequest,
  ordered: boolean,
): string[] {
  const problems: string[] = [];
  const { status } = answer;
  const success = status >= 200 && status < 300;
  if (status >= 500) problems.push(`answered ${status}`);
  if (status >= 400 && wire.method !== 'HEAD') {
    const problem = envelopeProblem(answer);
    if (problem !== undefined) problems.push(problem);
  }
  const broken = BROKEN_FRAMINGS.has(spec.framing);
  if (broken && status !== 400)
    problems.push(`malformed request (${spec.framing}) answered ${status}, not 400`);
  const expected = broken ? undefined : cleanStatus(spec, wire, ctx, registered);
  if (expected !== undefined) seen.documented++;
  if (expected !== undefined && status !== expected && (ordered || status !== 429))
    problems.push(`documented request answered ${status}, not ${expected}`);
  if (
    !broken &&
    spec.pathMutation.kind === 'none' &&
    status === 404 &&
    registered(wire.method, spec.route.path)
  ) {
    problems.push(`404 for registered route ${wire.method} ${spec.route.path}`);
  }
  const corrupted = wasCorrupted(spec, ctx);
  if ((corrupted || spec.framing === 'bad-chunk-size') && success && wire.method === 'POST') {
    problems.push('a corrupted body was accepted');
  }
  if (!success) return problems;

  const json = parseJson(answer.text);
  if (json?.status === 'success' && authenticatedAs(spec) === undefined) {
    problems.push('success without valid credentials');
  }
  const now = ctx.now;
  if (json !== undefined && 'processed' in json) {
    const who = authenticatedAs(spec);
    if (spec.body.kind !== 'upload' || corrupted) {
      if (json.processed !== 0) problems.push('records processed from a body that holds no valid record');
    } else if (!['ok', 'nested', 'padded'].includes(spec.body.wrapper.kind) || dryRunOf(spec) === 'refused') {
      problems.push(`upload with ${spec.body.wrapper.kind} records / dryRun ${dryRunOf(spec)} accepted`);
    } else {
      const expectedText = expectedUploadAnswer(spec.body.records, now);
      if (answer.text !== expectedText)
        problems.push(`upload answer differs from\n  ${expectedText.slice(0, 1500)}`);
      if (dryRunOf(spec) === false && who !== undefined) {
        const activities = spec.body.records.flatMap((r) =>
          r.kind === 'event' ? [activityOfEvent(r.event, now)] : [],
        );
        oracles[who].record(activities, now);
        seen.acceptedUploads++;
        seen.storedEvents += activities.length;
      }
    }
  }
  if (json !== undefined && 'count' in json) {
    const who = authenticatedAs(spec);
    const query = nowQueryOf(spec);
    if (ordered && who !== undefined && query !== undefined) {
      const top =
        spec.body.kind === 'now' && spec.body.body.kind === 'valid' ? spec.body.body.top : undefined;
      const result = oracles[who].query(query, now);
      const expectedText = renderExpected(
        top === undefined ? result : expectedTopOf(result, top),
        asksExtension(spec) ? now : undefined,
      );
      seen.nowCompared++;
      if (answer.text !== expectedText)
        problems.push(`now.json differs from the oracle's\n  ${expectedText}`);
    }
  }
  if (status === 202) {
    if (spec.body.kind !== 'hit' || spec.body.hit.mutation !== undefined || corrupted) {
      problems.push('202 for something that is not a valid hit');
    } else {
      seen.acceptedHits++;
      const { activity, bot } = activityOfHit(spec.body.hit, now);
      (bot ? botOracles : oracles)[spec.body.hit.who].record([activity], now);
    }
  }
  if (answer.headers['content-type']?.startsWith('text/event-stream')) {
    const reader = streamReader(spec, wire, ctx);
    const data = /data: (.*)\n\n/.exec(answer.text)?.[1];
    seen.streamsCompared++;
    if (reader === undefined) problems.push('a stream opened without valid credentials or read token');
    else if (ordered) {
      const bots = botOracles[reader].query(STREAM_QUERY, now).count;
      const expected = renderExpected(oracles[reader].query(STREAM_QUERY, now), now, bots);
      if (data !== expected) problems.push(`first stream event differs from the oracle's\n  ${expected}`);
    }
  }
  return problems;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The query a now.json request asked, when its body says one (undefined: refused anyway). */
function nowQueryOf(spec: RequestSpec): NowQuery | undefined {
  if (spec.body.kind === 'none') return { window: 300, userType: false, splits: [], timeline: false };
  if (spec.body.kind !== 'now' || spec.body.body.kind !== 'valid') return undefined;
  const { flags, window, filter } = spec.body.body;
  // `{}` filters nothing; a filter's dimensions are taken in any order.
  const filtered = filter !== undefined && Object.keys(filter).length > 0;
  return {
    window: window ?? 300,
    userType: flags.user_type === true,
    splits: SPLIT_NAMES.filter((name) => flags[name] === true),
    timeline: flags.timeline === true,
    ...(filtered ? { filter } : {}),
  };
}

/** Whether a valid now.json body uses an activenow extension, so that its answer carries as_of. */
function asksExtension(spec: RequestSpec): boolean {
  if (spec.body.kind !== 'now' || spec.body.body.kind !== 'valid') return false;
  const { window, flags, top, filter } = spec.body.body;
  return (
    window !== undefined ||
    filter !== undefined ||
    flags.timeline === true ||
    top !== undefined ||
    flags.page === true ||
    flags.country === true ||
    flags.app_version === true ||
    flags.event === true
  );
}

/** After a run: the server answers, and its counts are the oracle's for every split. */
async function checkState(ctx: WireContext): Promise<string[]> {
  const problems: string[] = [];
  const health = await fetch(`${server.url}/healthz`);
  const healthText = await health.text();
  if (health.status !== 200 || healthText !== '{"status":"ok"}')
    problems.push(`/healthz answered ${health.status} ${healthText}`);
  for (const who of ['A', 'B'] as const) {
    for (const [query, body] of [
      [STREAM_QUERY, { ...ALL_SPLITS, user_type: true, timeline: true }],
      [FULL, { ...ALL_SPLITS, user_type: true, window: HORIZON }],
    ] as const) {
      const response = await fetch(`${server.url}/1/now.json`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-CleverTap-Account-Id': accounts[who].id,
          'X-CleverTap-Passcode': accounts[who].passcode,
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      // Both bodies use an extension (timeline, window): the answers carry as_of.
      const expected = renderExpected(oracles[who].query(query, ctx.now), ctx.now);
      if (text !== expected)
        problems.push(
          `account ${who}, window ${query.window}: counts\n  ${text}\nare not the oracle's\n  ${expected}`,
        );
    }
  }
  const abroad = await server.store.now(foreign.id, FULL, ctx.now);
  if (abroad.count !== 0) problems.push(`the account of another region has ${abroad.count} active users`);
  return problems;
}

const runArb = fc.record({
  /** Seconds the clock moves before the run: mostly a little, sometimes past the window or horizon. */
  step: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }) },
    { weight: 2, arbitrary: fc.integer({ min: 31, max: 400 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 4000 }) },
  ),
  /**
   * Sent all at once rather than one after the other (then beside the documented upload only
   * requests that cannot store anything, so the oracle need not guess an order).
   */
  together: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true)),
  requests: fc
    .tuple(fc.array(requestSpecArb, { maxLength: 6 }), plainUploadArb, fc.nat())
    // One documented upload per run, somewhere among the others: the oracle always has work.
    .map(([others, upload, at]) => others.toSpliced(at % (others.length + 1), 0, upload)),
});

/** Body bytes past which a reset may cut a response short (a socket's receive buffer or so). */
const RESET_PRONE_BODY_BYTES = 64 * 1024;

/**
 * A response cut short by a TCP reset (see WireAnswer.truncated) is tolerated only where that is
 * the known cause: a large request body the route never read, on a request that could store nothing.
 */
function truncationProblems(wire: WireRequest, answer: WireAnswer): string[] {
  seen.truncated++;
  if ((wire.body?.length ?? 0) >= RESET_PRONE_BODY_BYTES && wire.method !== 'POST' && answer.status < 500)
    return [];
  return [`response cut short (${answer.text.length} bytes of body arrived)`];
}

/** Requests whose body could store something, were they accepted. */
const mayStore = (spec: RequestSpec) => spec.body.kind === 'upload' || spec.body.kind === 'hit';

describe('HTTP fuzzing against the real server', () => {
  it('has an envelope check that refuses anything but a catalogue envelope', () => {
    const answer = (status: number, text: string, type = 'application/json; charset=utf-8'): WireAnswer => ({
      status,
      headers: { 'content-type': type },
      text,
    });
    const envelope = (status: number, error: string) =>
      JSON.stringify({ status: 'fail', error, code: status });
    expect(envelopeProblem(answer(404, envelope(404, 'Route not found')))).toBeUndefined();
    expect(envelopeProblem(answer(400, envelope(400, 'Unknown parameter: x')))).toBeUndefined();
    expect(envelopeProblem(answer(400, envelope(404, 'Route not found')))).toMatch(/differs/);
    expect(envelopeProblem(answer(400, envelope(400, 'Route not found')))).toMatch(/catalogue/);
    expect(envelopeProblem(answer(400, envelope(400, 'Bad Request')))).toMatch(/catalogue/);
    expect(envelopeProblem(answer(404, envelope(404, 'Route not found'), 'text/html'))).toMatch(
      /Content-Type/,
    );
    expect(
      envelopeProblem(answer(400, '{"error":"Bad Request","code":"FST_ERR_BAD_URL","statusCode":400}')),
    ).toMatch(/not the envelope/);
    expect(envelopeProblem(answer(405, envelope(405, 'Method not allowed; use POST')))).toMatch(/Allow/);
  });

  it('lists every route of the app, so none goes unfuzzed', () => {
    const fuzzed = new Set(ROUTES.map((route) => route.path));
    // A tree: "├── /dashboard (GET, …)" with "    ├── /app.js (GET, …)" beneath, four columns a level.
    const paths: string[] = [];
    const ancestors: string[] = [];
    for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^(.*?)[├└]── (\S+) \(/.exec(line);
      if (match === null) continue;
      ancestors.length = match[1].length / 4;
      ancestors.push(match[2]);
      paths.push(ancestors.join(''));
    }
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) expect(fuzzed, `route ${path} is not fuzzed`).toContain(path);
  });

  it(
    `never a 5xx, always the envelope, and only accepted requests change the counts (${RUNS} runs)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(runArb, async ({ step, together, requests }) => {
          if (runs++ % RUNS_PER_ACCOUNTS === 0) await freshAccounts();
          server.clock.now += step;
          const ctx: WireContext = {
            port: server.port,
            accounts: { ...accounts, C: foreign },
            now: server.clock.now,
            readTokenKey,
          };
          const log: string[] = [];
          const exchange = async (spec: RequestSpec) => {
            const wire = toWire(spec, ctx);
            try {
              const started = performance.now();
              const answer = await send(wire, server.port);
              const ms = performance.now() - started;
              if (ms > seen.slowestMs) {
                seen.slowestMs = Math.round(ms);
                seen.slowest = describeExchange(wire, answer).split('\n')[0].slice(0, 200);
              }
              return { spec, wire, answer };
            } catch (error) {
              throw new Error(
                `no answer (${String(error)}) to\n${describeExchange(wire, undefined)}\n\nafter\n${log.join('\n')}`,
              );
            }
          };
          const check = ({ spec, wire, answer }: Awaited<ReturnType<typeof exchange>>) => {
            if (answer === undefined) return;
            seen.requests++;
            if (wire.transport === 'raw') seen.raw++;
            seen.statuses[answer.status] = (seen.statuses[answer.status] ?? 0) + 1;
            const problems = answer.truncated
              ? truncationProblems(wire, answer)
              : judge(spec, ctx, answer, wire, !together);
            if (problems.length > 0) {
              throw new Error(
                `${problems.join('\n')}\n\n${describeExchange(wire, answer)}\n\nafter${together ? ' (sent together)' : ''}\n${log.join('\n')}`,
              );
            }
            log.push(describeExchange(wire, answer).split('\n')[0]);
          };
          if (together) {
            const storing = requests.find(mayStore);
            // Each harmless request three times over, so an account's places in flight run out.
            const sent = requests.flatMap((spec) =>
              spec === storing ? [spec] : mayStore(spec) ? [] : [spec, spec, spec],
            );
            for (const result of await Promise.all(sent.map(exchange))) check(result);
          } else {
            for (const spec of requests) check(await exchange(spec));
          }
          const problems = await checkState(ctx);
          if (problems.length > 0) throw new Error(`${problems.join('\n')}\n\nafter\n${log.join('\n')}`);
        }),
        // Runs share one server whose state the oracle follows: shrinking would replay on a moved state.
        { numRuns: RUNS, endOnFailure: true },
      );
      console.info(`fuzz: ${JSON.stringify(seen)}`);
      // Every run holds a documented upload, so the oracle must have followed some.
      expect(seen.acceptedUploads).toBeGreaterThan(0);
      expect(seen.documented).toBeGreaterThan(0);
    },
    Math.max(60_000, RUNS * 500),
  );
});

describe('bugs found by fuzzing, fixed', () => {
  // Node closed a CONNECT request's connection without an answer: nothing listened for 'connect'.
  it('CONNECT is answered with the envelope, not a closed connection', async () => {
    const answer = await probe(CONNECT_PROBE);
    expect(answer, 'the connection was closed without an answer').toBeDefined();
    expect(envelopeProblem(answer as WireAnswer)).toBeUndefined();
  });

  // A path with a broken percent-encoding (GET /healthz%) got Fastify's own 400 body
  // {"error":"Bad Request","code":"FST_ERR_BAD_URL",…}, sent around the error handler.
  it('a path with a broken percent-encoding is answered with the envelope', async () => {
    const answer = await probe(BAD_URL_PROBE);
    expect(answer).toBeDefined();
    expect(envelopeProblem(answer as WireAnswer), (answer as WireAnswer).text).toBeUndefined();
  });

  // Fastify runs its content-type parsers for any request with Transfer-Encoding, so a chunked body
  // of zero bytes without Content-Type was refused (400), while the same empty request with
  // Content-Length: 0 got the count; docs/api.md asks for a Content-Type only "when there is a body".
  it('POST /1/now.json with an empty chunked body and no Content-Type answers the count', async () => {
    const answer = await probe(emptyChunkedProbe());
    expect(answer?.status, answer?.text).toBe(200);
  });
});
