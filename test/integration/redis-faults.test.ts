import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import type { Activity } from '../../src/model/activity.js';
import { CliProcesses, type Credentials, type ServerProcess } from '../../support/cli-process.js';
import { type Answer, answer, jsonPost } from '../../support/json-requests.js';
import {
  type RedisCluster,
  redisCommand,
  startRedisCluster,
  startRedisServer,
} from '../../support/redis-servers.js';
import { describeWithRedis } from '../support/describe-with-redis.js';
import { NaiveOracle } from '../support/naive-oracle.js';

/**
 * A real `activenow serve --store redis…` process under a steady stream of uploads and queries
 * while its Redis fails: a single redis-server killed with SIGKILL and restarted (append-only file
 * on, so its data comes back); one frozen with SIGSTOP (the connection stays open, so only the
 * server's own command timeout can answer) and thawed; and a Redis Cluster whose master for the
 * account fails over to its replica and whose slot then moves to another master. Throughout:
 *
 * - every answer is a 200 of the right shape or the 503 envelope: never a 500, never a hang (each
 *   request has a client timeout far above the server's 2 s command timeout), never a dropped
 *   connection, and the process never exits nor logs an unhandled rejection;
 * - every 200 of now.json counts every upload acknowledged before the query was sent;
 * - `/readyz` answers 503 while Redis is down and 200 again once it is back, by itself;
 * - a 503 after the server was ready says `Storage is unavailable; retry later` (docs/operations.md),
 *   not `Server is starting` (checked softly, so that the rest still runs and reports).
 *
 * Each upload k carries BATCH users seen nowhere else, all with browser `b<k>`, so the browser split
 * tells batch by batch what Redis kept: every acknowledged batch in full, every batch answered 503
 * in full or not at all. Then the 503'd batches are sent again (activity is idempotent) and the
 * answer must be exactly the oracle's for all batches.
 */

const KILL_AFTER_MS = 10_000;
/** Far above the server's 2 s command timeout: firing means a request hung. */
const CLIENT_TIMEOUT_MS = 10_000;
/** Bounded waits for a phase of the load to happen (they pass in well under a second normally). */
const PHASE_WAIT_MS = 30_000;
const UPLOAD_LOOPS = 2;
const PAUSE_MS = 40;
const BATCH = 3;
/** Distinct batches (browser values) at most, below the value cap of 256; later uploads resend. */
const MAX_BATCHES = 150;
const HORIZON_SECONDS = 1800;
const VALUE_CAP = 256;
const STARTING = 'Server is starting; retry later';
const UNAVAILABLE = 'Storage is unavailable; retry later';

const processes = new CliProcesses();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await processes.stopAll(KILL_AFTER_MS);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function cliCreate(store: string, name: string): Promise<Credentials> {
  const finished = await processes.run(['accounts', 'create', '--name', name, '--store', store, '--json']);
  expect(finished.code, finished.stderr).toBe(0);
  const created = JSON.parse(finished.stdout) as { id: string; passcode: string };
  return { id: created.id, passcode: created.passcode };
}

/** A request that must answer within CLIENT_TIMEOUT_MS; throws saying how it failed otherwise. */
async function timed(url: string, init: RequestInit = {}): Promise<Answer> {
  try {
    return await answer(await fetch(url, { ...init, signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) }));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError') throw new Error(`no answer within ${CLIENT_TIMEOUT_MS} ms (hang): ${url}`);
    throw new Error(
      `request failed (${name}: ${(error as Error).message}, ${String((error as Error).cause)}): ${url}`,
    );
  }
}

function post(url: string, account: Credentials, body: unknown): Promise<Answer> {
  return timed(url, jsonPost(account, body));
}

/** Why `answer` is not the 503 envelope, or undefined when it is. */
function notUnavailableEnvelope(answer: Answer): string | undefined {
  const body = answer.body as { status?: unknown; error?: unknown; code?: unknown } | undefined;
  const ok =
    answer.status === 503 &&
    body !== undefined &&
    Object.keys(body).join() === 'status,error,code' &&
    body.status === 'fail' &&
    body.code === 503 &&
    (body.error === UNAVAILABLE || body.error === STARTING);
  return ok ? undefined : `expected the 503 envelope, got ${answer.status} ${answer.text}`;
}

interface NowBody {
  status: string;
  count: number;
  user_type: { new: number; returning: number };
  browser: Record<string, number>;
  new: { browser: Record<string, number> };
}

/** Uploads and queries in loops against one server, tallying what came back. */
class Traffic {
  /** Batches that got a 200 at least once. */
  readonly acknowledged = new Set<number>();
  /** Batches sent that never got a 200 (so far): each got the 503 envelope. */
  readonly refused = new Set<number>();
  readonly problems: string[] = [];
  readonly tally = { uploadOk: 0, upload503: 0, queryOk: 0, query503: 0, starting: 0, unavailable: 0 };
  private stopped = false;
  private next = 0;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly server: ServerProcess,
    private readonly account: Credentials,
    /** Upload time minus a few seconds: every batch's `ts`, so that resending changes nothing. */
    private readonly ts: number,
  ) {}

  start(): void {
    for (let i = 0; i < UPLOAD_LOOPS; i++) this.loops.push(this.loop(() => this.upload()));
    this.loops.push(this.loop(() => this.query()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Batches sent so far. */
  get sent(): number {
    return Math.min(this.next, MAX_BATCHES);
  }

  static users(k: number): string[] {
    return Array.from({ length: BATCH }, (_, i) => `fault-b${k}-u${i}`);
  }

  body(k: number): unknown {
    return {
      d: Traffic.users(k).map((identity) => ({
        identity,
        type: 'event',
        evtName: 'Checkout',
        ts: this.ts,
        session: { browser: `b${k}` },
      })),
    };
  }

  activities(k: number): Activity[] {
    return Traffic.users(k).map((user) => ({ user, ts: this.ts, browser: `b${k}` }));
  }

  /** Sends batch k once; true if acknowledged. */
  async send(k: number): Promise<boolean> {
    const answer = await post(`${this.server.url}/1/upload`, this.account, this.body(k));
    if (answer.status === 200) {
      const body = answer.body as Record<string, unknown> | undefined;
      if (JSON.stringify(body) !== JSON.stringify({ status: 'success', processed: BATCH, unprocessed: [] }))
        this.problems.push(`upload b${k}: 200 of the wrong shape: ${answer.text}`);
      this.acknowledged.add(k);
      this.refused.delete(k);
      this.tally.uploadOk++;
      return true;
    }
    this.expectUnavailable(`upload b${k}`, answer);
    if (!this.acknowledged.has(k)) this.refused.add(k);
    this.tally.upload503++;
    return false;
  }

  private async loop(step: () => Promise<void>): Promise<void> {
    while (!this.stopped) {
      try {
        await step();
      } catch (error) {
        this.problems.push(String(error));
        // A hang or a dropped connection is the failure itself; a loop stops at it.
        return;
      }
      await sleep(PAUSE_MS);
    }
  }

  private async upload(): Promise<void> {
    // New batches while the budget lasts, then the earlier ones again (a steady stream all the same).
    const k = this.next < MAX_BATCHES ? this.next++ : Math.floor(Math.random() * MAX_BATCHES);
    await this.send(k);
  }

  private async query(): Promise<void> {
    const before = [...this.acknowledged];
    const answer = await post(`${this.server.url}/1/now.json`, this.account, {
      user_type: true,
      browser: true,
    });
    if (answer.status !== 200) {
      this.expectUnavailable('now.json', answer);
      this.tally.query503++;
      return;
    }
    this.tally.queryOk++;
    const body = answer.body as NowBody;
    const problem = shapeProblem(body, this.sent);
    if (problem !== undefined) this.problems.push(`now.json: ${problem}: ${answer.text}`);
    const missing = before.filter((k) => body.browser?.[`b${k}`] !== BATCH);
    if (missing.length > 0)
      this.problems.push(`now.json lost acknowledged batches ${missing.join(',')}: ${answer.text}`);
  }

  private expectUnavailable(what: string, answer: Answer): void {
    const problem = notUnavailableEnvelope(answer);
    if (problem !== undefined) this.problems.push(`${what}: ${problem}`);
    else if ((answer.body as { error: string }).error === STARTING) this.tally.starting++;
    else this.tally.unavailable++;
  }
}

/** What is wrong with a now.json body of this traffic ({user_type, browser}), if anything. */
function shapeProblem(body: NowBody, sent: number): string | undefined {
  if (body === undefined || Object.keys(body).join() !== 'status,count,user_type,browser,new')
    return 'unexpected keys';
  if (body.status !== 'success' || !Number.isInteger(body.count)) return 'bad status or count';
  const values = Object.entries(body.browser);
  if (values.reduce((sum, [, n]) => sum + n, 0) !== body.count) return 'browser split does not sum to count';
  const stranger = values.find(([value]) => !/^b\d+$/.test(value) || Number(value.slice(1)) >= sent);
  if (stranger !== undefined) return `browser ${stranger[0]} was never sent`;
  // Every user is new: each was first seen a few seconds ago.
  if (body.user_type.new !== body.count || body.user_type.returning !== 0) return 'users not all new';
  if (JSON.stringify(body.new.browser) !== JSON.stringify(body.browser)) return 'new.browser differs';
  return undefined;
}

/** Resolves once `done()` holds; throws naming `what` and the traffic's tally after PHASE_WAIT_MS. */
async function until(what: string, traffic: Traffic, done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + PHASE_WAIT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not within ${PHASE_WAIT_MS} ms; ${JSON.stringify(traffic.tally)}; ${traffic.problems.join('\n')}`,
      );
    }
    await sleep(50);
  }
}

async function readyz(server: ServerProcess): Promise<Answer> {
  return timed(`${server.url}/readyz`);
}

/** Waits until `traffic` has had `uploads` more acknowledged and `queries` more answered 200. */
async function flowing(what: string, traffic: Traffic, uploads: number, queries: number): Promise<void> {
  const { uploadOk, queryOk } = traffic.tally;
  await until(
    what,
    traffic,
    () => traffic.tally.uploadOk >= uploadOk + uploads && traffic.tally.queryOk >= queryOk + queries,
  );
}

/**
 * After the load: nothing went wrong during it, the process still runs, Redis kept every
 * acknowledged batch whole and each 503'd one whole or not at all; then, the 503'd batches sent
 * again, the answer is exactly the oracle's.
 */
async function expectExactAfterResend(server: ServerProcess, account: Credentials, traffic: Traffic) {
  const context = () => `${JSON.stringify(traffic.tally)}\n${traffic.problems.join('\n')}`;
  expect(traffic.problems, context()).toEqual([]);
  expect(server.child.exitCode, server.stderr()).toBeNull();
  expect(server.child.signalCode, server.stderr()).toBeNull();

  const kept = await post(`${server.url}/1/now.json`, account, { user_type: true, browser: true });
  expect(kept.status, kept.text).toBe(200);
  const body = kept.body as NowBody;
  expect(shapeProblem(body, traffic.sent), kept.text).toBeUndefined();
  for (const k of traffic.acknowledged) expect(body.browser[`b${k}`], `b${k} (acknowledged)`).toBe(BATCH);
  for (const k of traffic.refused) expect([undefined, BATCH], `b${k} (503)`).toContain(body.browser[`b${k}`]);

  const resend = [...traffic.refused].sort((a, b) => a - b);
  for (const k of resend) expect(await traffic.send(k), `resending b${k}`).toBe(true);
  expect(traffic.refused.size).toBe(0);
  expect(traffic.acknowledged.size).toBe(traffic.sent);

  const oracle = new NaiveOracle({ horizonSeconds: HORIZON_SECONDS, valueCap: VALUE_CAP });
  const at = nowSeconds();
  for (let k = 0; k < traffic.sent; k++) oracle.record(traffic.activities(k), at);
  const expected = oracle.query(
    { window: 300, userType: true, splits: ['browser'], timeline: false },
    nowSeconds(),
  );
  const browser = Object.fromEntries(expected.splits.browser ?? []);
  const final = await post(`${server.url}/1/now.json`, account, { user_type: true, browser: true });
  expect(final.status, final.text).toBe(200);
  expect(final.text).toBe(
    JSON.stringify({
      status: 'success',
      count: expected.count,
      user_type: expected.userType,
      browser,
      new: { browser: Object.fromEntries(expected.newSplits?.browser ?? []) },
    }),
  );
  expect(final.body).toMatchObject({ count: BATCH * traffic.sent });

  // Every request of the traffic came after the server was ready: a 503 then means storage is
  // unavailable (docs/operations.md), never that the server is starting.
  expect
    .soft(traffic.tally.starting, `503s saying "${STARTING}" after start; ${JSON.stringify(traffic.tally)}`)
    .toBe(0);
  const output = `${server.stdout()}${server.stderr()}`;
  expect(output).not.toMatch(/unhandled/i);
  expect(output).not.toContain('Internal server error');
  console.log(
    `redis-faults: ${traffic.sent} batches, ${resend.length} resent after recovery; ${JSON.stringify(traffic.tally)}`,
  );
}

function serve(store: string): Promise<ServerProcess> {
  return processes.serve(['--port', '0', '--store', store, '--log-level', 'warn']);
}

describeWithRedis('activenow on a failing Redis', () => {
  it('answers 200 or 503 while Redis is killed and restarted, and keeps every acknowledged batch', async () => {
    const redis = await startRedisServer({ appendonly: true, args: ['--appendfsync', 'always'] });
    cleanups.push(() => redis.stop());
    const account = await cliCreate(redis.url, 'faults');
    const server = await serve(redis.url);
    expect((await readyz(server)).status).toBe(200);

    const traffic = new Traffic(server, account, nowSeconds() - 5);
    traffic.start();
    try {
      await flowing('uploads and queries before the kill', traffic, 15, 3);

      await redis.kill();
      await until(
        '/readyz 503 once Redis is gone',
        traffic,
        async () => (await readyz(server)).status === 503,
      );
      const down = await readyz(server);
      expect(notUnavailableEnvelope(down), down.text).toBeUndefined();
      // docs/operations.md: once started, a lost Redis is "Storage is unavailable", not "starting".
      expect
        .soft(down.body, '/readyz while Redis is down')
        .toEqual({ status: 'fail', error: UNAVAILABLE, code: 503 });
      const { upload503, query503 } = traffic.tally;
      await until(
        'uploads and queries refused while Redis is down',
        traffic,
        () => traffic.tally.upload503 >= upload503 + 5 && traffic.tally.query503 >= query503 + 2,
      );
      // Still down, still saying so.
      expect((await readyz(server)).status).toBe(503);
      expect(server.child.exitCode, server.stderr()).toBeNull();

      await redis.restart();
      await until(
        '/readyz 200 once Redis is back',
        traffic,
        async () => (await readyz(server)).status === 200,
      );
      expect((await readyz(server)).body).toEqual({ status: 'ready' });
      await flowing('uploads and queries after the restart', traffic, 15, 3);
    } finally {
      await traffic.stop();
    }
    expect(traffic.tally.upload503 + traffic.tally.query503).toBeGreaterThan(0);
    await expectExactAfterResend(server, account, traffic);
  }, 120_000);

  it('answers 503 within the command timeout, never hangs, while Redis is frozen (SIGSTOP)', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const info = String(await redisCommand(redis, 'INFO', 'server'));
    const pid = Number(/^process_id:(\d+)\r?$/m.exec(info)?.[1]);
    expect(pid).toBeGreaterThan(0);
    // Before stop(): a stopped server would only go on SIGKILL, after stop()'s 10 s wait.
    cleanups.push(async () => {
      if (redis.isRunning()) process.kill(pid, 'SIGCONT');
    });
    const account = await cliCreate(redis.url, 'frozen');
    const server = await serve(redis.url);

    const traffic = new Traffic(server, account, nowSeconds() - 5);
    traffic.start();
    try {
      await flowing('uploads and queries before the freeze', traffic, 10, 3);
      process.kill(pid, 'SIGSTOP');
      // The connection stays open: only the server's command timeout can answer these.
      const { upload503, query503 } = traffic.tally;
      await until(
        'uploads and queries refused while Redis is frozen',
        traffic,
        () => traffic.tally.upload503 >= upload503 + 3 && traffic.tally.query503 >= query503 + 1,
      );
      // A load balancer must stop sending here too, though the connection is still open.
      const frozen = await readyz(server);
      expect(frozen.status, frozen.text).toBe(503);
      expect(frozen.body).toEqual({
        status: 'fail',
        error: 'Storage is unavailable; retry later',
        code: 503,
      });
      process.kill(pid, 'SIGCONT');
      await flowing('uploads and queries after the thaw', traffic, 10, 3);
    } finally {
      await traffic.stop();
    }
    expect((await readyz(server)).status).toBe(200);
    await expectExactAfterResend(server, account, traffic);
  }, 120_000);

  it('answers 200 or 503 while the account’s master fails over and its slot migrates', async () => {
    const cluster: RedisCluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    cleanups.push(() => cluster.stop());
    const account = await cliCreate(cluster.storeUrl, 'faults');
    const server = await serve(cluster.storeUrl);
    const slot = await cluster.keySlot(`an:{${account.id}}:meta`);
    const master = await cluster.slotOwner(slot);
    const [replica] = await cluster.replicasOf(master);
    expect(replica, 'the master has a replica').toBeDefined();

    const traffic = new Traffic(server, account, nowSeconds() - 5);
    traffic.start();
    try {
      await flowing('uploads and queries before the failover', traffic, 15, 3);

      await cluster.failover(replica);
      expect((await cluster.slotOwner(slot)).id).toBe(replica.id);
      await flowing('uploads and queries after the failover', traffic, 10, 3);

      const target = (await cluster.masters()).find((node) => node.id !== replica.id);
      if (target === undefined) throw new Error('no other master');
      await cluster.migrateSlot(slot, replica, target);
      await cluster.waitUntilHealthy();
      expect((await cluster.slotOwner(slot)).id).toBe(target.id);
      // The account's keys did move: the target holds them now, the old owner none.
      expect(Number(await redisCommand(target, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBeGreaterThan(
        0,
      );
      expect(Number(await redisCommand(replica, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBe(0);
      await flowing('uploads and queries after the migration', traffic, 10, 3);
    } finally {
      await traffic.stop();
    }
    expect((await readyz(server)).status).toBe(200);
    await expectExactAfterResend(server, account, traffic);
  }, 120_000);
});
