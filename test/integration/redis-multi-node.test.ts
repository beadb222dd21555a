import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import type { Activity } from '../../src/model/activity.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';
import {
  CliProcesses,
  type Credentials,
  type Finished,
  type ServerProcess,
} from '../../support/cli-process.js';
import { type Answer, answer as answerOf, postJson } from '../../support/json-requests.js';
import { redisCommand, startRedisCluster, startRedisServer } from '../../support/redis-servers.js';
import { describeWithRedis } from '../support/describe-with-redis.js';
import { expectedBody } from '../support/expected-body.js';
import { NaiveOracle } from '../support/naive-oracle.js';

/**
 * Several stateless `activenow serve` processes sharing one Redis (and one Redis Cluster), as an
 * operator scales out (docs/operations.md, "Scale-out on Redis"). Events of the same users are
 * uploaded through both nodes with different dimension values, explicit timestamps in the recent
 * past (some before the window, some equal across nodes, some absent); `/1/now.json` with every
 * split must then give the same bytes on each node, and exactly what the naive oracle fed the same
 * activities in the same order predicts. Accounts live in Redis too: one made by the CLI (or by a
 * node's first start) works on every node at once, and a passcode revoked by the CLI stops working
 * on every node within the registry's cache time (1 s).
 *
 * The uploads are sequential, so "last received" (the tie rule for equal `ts`) is well defined
 * across nodes. Every explicit `ts` lies in [t0 − 999, t0 − 20] and the queries use windows of 300
 * and 1800 s, so the answers cannot change during the seconds the test takes (the servers read
 * their wall clock). ACTIVENOW_REDIS_SEED replays a run's events.
 */

const SEED = Number(process.env.ACTIVENOW_REDIS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILL_AFTER_MS = 10_000;
/** Bounded wait for a registry change to reach every node (its cache keeps an account 1 s). */
const PROPAGATION_WAIT_MS = 10_000;
const HORIZON_SECONDS = 1800;
const VALUE_CAP = 256;
const ALL_SPLITS = { user_type: true, session_source: true, browser: true, os: true, device: true };

const SOURCES = ['Direct', 'Organic Search', 'Push', 'Email', 'Social'];
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'App', 'Edge'];
const OSES = ['Android', 'iOS', 'Windows', 'macOS', 'Linux'];
const DEVICES = ['Mobile', 'Desktop', 'Tablet'];
const KEY_FIELDS = ['identity', 'objectId', 'FBID', 'GPID'] as const;
const USERS = 28;

const processes = new CliProcesses();
/** What the current test started besides CLI processes: ended after it, newest first. */
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await processes.stopAll(KILL_AFTER_MS);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function serve(store: string): Promise<ServerProcess> {
  return processes.serve(['--port', '0', '--store', store, '--log-level', 'warn']);
}

function parsed(finished: Finished): Record<string, unknown> {
  expect(finished.code, finished.stderr).toBe(0);
  return JSON.parse(finished.stdout) as Record<string, unknown>;
}

async function cliCreate(store: string, name: string): Promise<Credentials> {
  const created = parsed(
    await processes.run(['accounts', 'create', '--name', name, '--store', store, '--json']),
  );
  expect(created).toMatchObject({ name, region: 'eu1' });
  return { id: String(created.id), passcode: String(created.passcode) };
}

/** One event as generated: who, through which node, when (undefined: no ts, the receive time). */
interface Event {
  readonly user: number;
  readonly node: number;
  readonly ts: number | undefined;
  readonly source?: string;
  readonly browser?: string;
  readonly os?: string;
  readonly device?: string;
}

function keyOf(user: number): { field: (typeof KEY_FIELDS)[number]; value: string | number; key: string } {
  const field = KEY_FIELDS[user % KEY_FIELDS.length];
  switch (field) {
    case 'identity':
      return { field, value: `ada-${SEED}-${user}`, key: `ada-${SEED}-${user}` };
    case 'objectId':
      return { field, value: `obj-${SEED}-${user}`, key: `obj-${SEED}-${user}` };
    case 'FBID': {
      // A number: the user key is its decimal string.
      const value = 7_000_000 + user;
      return { field, value, key: String(value) };
    }
    case 'GPID':
      return { field, value: `gp-${SEED}-${user}`, key: `gp-${SEED}-${user}` };
  }
}

function toRecord(event: Event): Record<string, unknown> {
  const { field, value } = keyOf(event.user);
  const session: Record<string, string> = {};
  if (event.source !== undefined) session.source = event.source;
  if (event.browser !== undefined) session.browser = event.browser;
  if (event.os !== undefined) session.os = event.os;
  if (event.device !== undefined) session.device = event.device;
  return {
    [field]: value,
    // A later identifier never takes over from the first present one.
    ...(field === 'identity' && event.user % 3 === 0 && { objectId: `ignored-${event.user}` }),
    type: 'event',
    evtName: 'Product Viewed',
    ...(event.ts !== undefined && { ts: event.ts }),
    evtData: { sku: event.user },
    session,
  };
}

function toActivity(event: Event, at: number): Activity {
  return {
    user: keyOf(event.user).key,
    ts: event.ts ?? at,
    sessionSource: event.source,
    browser: event.browser,
    os: event.os,
    device: event.device,
  };
}

/**
 * Events of USERS users over `nodes` nodes, in the order they are to be sent. A user's events
 * alternate between nodes and move through the browsers, so every user with two events or more is
 * seen by both nodes with different values. Some users were only active before the window; some
 * were first seen before it and are back (returning); some events repeat an earlier `ts` of the
 * same user through another node (ties: the last received wins).
 */
function generateEvents(random: () => number, t0: number, nodes: number): Event[] {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const maybe = (values: readonly string[]) => (random() < 0.15 ? undefined : pick(values));
  const perUser: Event[][] = [];
  for (let user = 0; user < USERS; user++) {
    const count = 2 + Math.floor(random() * 5);
    const onlyBefore = user % 7 === 3;
    const returning = user % 5 === 1;
    const events: Event[] = [];
    const browserBase = Math.floor(random() * BROWSERS.length);
    for (let j = 0; j < count; j++) {
      let ts: number | undefined;
      const roll = random();
      if (onlyBefore || (returning && j === 0)) ts = t0 - 400 - Math.floor(random() * 600);
      else if (j > 0 && roll < 0.2) ts = events[Math.floor(random() * j)].ts;
      else if (roll < 0.3) ts = undefined;
      else ts = t0 - 20 - Math.floor(random() * 180);
      events.push({
        user,
        node: (user + j) % nodes,
        ts,
        source: maybe(SOURCES),
        browser: BROWSERS[(browserBase + j) % BROWSERS.length],
        os: maybe(OSES),
        device: maybe(DEVICES),
      });
    }
    perUser.push(events);
  }
  // Interleave the users' events at random, each user's in its own order.
  const order: Event[] = [];
  const next = perUser.map(() => 0);
  for (;;) {
    const pending = perUser.map((_, user) => user).filter((user) => next[user] < perUser[user].length);
    if (pending.length === 0) return order;
    const user = pick(pending);
    order.push(perUser[user][next[user]++]);
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Sends the events through their nodes, a few per request (consecutive events for the same node),
 * one request at a time; each upload also carries a profile and an invalid record, which count for
 * nobody. Feeds the oracle what each acknowledged upload carried, in order.
 */
async function uploadAll(
  nodes: readonly ServerProcess[],
  account: Credentials,
  events: readonly Event[],
  oracle: NaiveOracle,
  random: () => number,
): Promise<number> {
  let uploads = 0;
  for (let i = 0; i < events.length; ) {
    const node = events[i].node;
    const size = 1 + Math.floor(random() * 6);
    const batch: Event[] = [];
    while (i < events.length && batch.length < size && events[i].node === node) batch.push(events[i++]);
    const records: unknown[] = batch.map(toRecord);
    const withExtras = uploads % 4 === 0;
    if (withExtras) {
      records.splice(1, 0, { type: 'event', evtName: 'No Identity', ts: nowSeconds() - 30 });
      records.push({
        identity: `profile-only-${SEED}-${uploads}`,
        type: 'profile',
        profileData: { Name: 'Ada' },
      });
    }
    const at = nowSeconds();
    const answer = await postJson(`${nodes[node].url}/1/upload`, account, { d: records });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ status: 'success', processed: batch.length + (withExtras ? 1 : 0) });
    expect((answer.body as { unprocessed: { code: number }[] }).unprocessed.map((u) => u.code)).toEqual(
      withExtras ? [523] : [],
    );
    oracle.record(
      batch.map((event) => toActivity(event, at)),
      at,
    );
    uploads++;
  }
  return uploads;
}

/** Asks every node the same queries: the same bytes from each (`as_of` aside: each node's clock), and what the oracle says. */
async function expectEveryNodeAgreesWithOracle(
  nodes: readonly ServerProcess[],
  account: Credentials,
  oracle: NaiveOracle,
): Promise<void> {
  for (const query of [ALL_SPLITS, { ...ALL_SPLITS, window: HORIZON_SECONDS }, {}, { user_type: true }]) {
    const answers: Answer[] = [];
    const asked = nowSeconds();
    for (const node of nodes) answers.push(await postJson(`${node.url}/1/now.json`, account, query));
    const answered = nowSeconds();
    const window = (query as { window?: number }).window ?? 300;
    const expected = expectedBody(
      oracle.query(
        {
          window,
          userType: 'user_type' in query,
          splits: DIMENSIONS.filter((dimension) => dimension in query),
          timeline: false,
        },
        nowSeconds(),
      ),
    );
    const context = `seed ${SEED}, query ${JSON.stringify(query)}`;
    for (const [n, answer] of answers.entries()) {
      expect(answer.status, `node ${n + 1}, ${context}: ${answer.text}`).toBe(200);
      // An extension asked (window): the answer says when it is for, each node by its own clock.
      const asOf = (answer.body as { as_of?: unknown }).as_of;
      if ('window' in query) {
        expect(asOf, `node ${n + 1}, ${context}`).toBeGreaterThanOrEqual(asked);
        expect(asOf, `node ${n + 1}, ${context}`).toBeLessThanOrEqual(answered);
      }
      const expectedHere = 'window' in query ? { ...expected, as_of: asOf } : expected;
      expect(answer.body, `node ${n + 1}, ${context}`).toEqual(expectedHere);
      // Key order is part of the contract.
      expect(answer.text, `node ${n + 1}, ${context}`).toBe(JSON.stringify(expectedHere));
    }
  }
}

/** The scenario both backends run: events through every node, then the same answer everywhere. */
async function expectNodesAgree(nodes: readonly ServerProcess[], account: Credentials): Promise<NaiveOracle> {
  const random = seededRandom(SEED);
  const t0 = nowSeconds();
  const events = generateEvents(random, t0, nodes.length);
  const oracle = new NaiveOracle({ horizonSeconds: HORIZON_SECONDS, valueCap: VALUE_CAP });
  const uploads = await uploadAll(nodes, account, events, oracle, random);
  expect(uploads).toBeGreaterThan(nodes.length);
  await expectEveryNodeAgreesWithOracle(nodes, account, oracle);
  // The scenario is not trivial: people on both sides of the window, new and returning.
  const all = oracle.query({ window: 300, userType: true, splits: [], timeline: false }, nowSeconds());
  expect(all.count).toBeGreaterThan(0);
  expect(all.count).toBeLessThan(USERS);
  expect(all.userType?.new).toBeGreaterThan(0);
  expect(all.userType?.returning).toBeGreaterThan(0);
  await expectBotsApart(nodes, account, all.count);
  await expectExtensionsRefused(nodes[0], account);
  return oracle;
}

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** Bots uploaded through one node are counted apart, in every node's `bots`, and not in `count` (read before). */
async function expectBotsApart(
  nodes: readonly ServerProcess[],
  account: Credentials,
  count: number,
): Promise<void> {
  const bot = (identity: string) => ({ identity, type: 'event', evtName: 'x', session: { ua: GOOGLEBOT } });
  const upload = await postJson(`${nodes[0].url}/1/upload`, account, {
    d: [bot('crawler-1'), bot('crawler-2'), bot('crawler-1')],
  });
  expect(upload.status, upload.text).toBe(200);
  for (const node of nodes) {
    const answer = await postJson(`${node.url}/1/now.json`, account, { bots: true });
    expect(answer.body).toMatchObject({ bots: 2 });
    // No person came since `count` was read: bots added none (people may only have left the window).
    expect((answer.body as { count: number }).count).toBeLessThanOrEqual(count);
  }
}

/**
 * A filtered query or stream, and the event split, get the documented 501 from a node on Redis
 * (docs/api.md#filter, #event); its stream carries every split but `event`.
 */
async function expectExtensionsRefused(node: ServerProcess, account: Credentials): Promise<void> {
  const refusal = {
    status: 'fail',
    error:
      'Parameter filter is not available on this server: the redis store answers from counters and cannot filter users (see docs/api.md#filter)',
    code: 501,
  };
  const answer = await postJson(`${node.url}/1/now.json`, account, {
    filter: { country: ['IN'] },
    page: true,
  });
  expect(answer.status).toBe(501);
  expect(answer.body).toEqual(refusal);
  const stream = await answerOf(
    await fetch(`${node.url}/1/now/stream?filter=${encodeURIComponent('{"country":["IN"]}')}`, {
      headers: { 'X-CleverTap-Account-Id': account.id, 'X-CleverTap-Passcode': account.passcode },
    }),
  );
  expect(stream.status).toBe(501);
  expect(stream.body).toEqual(refusal);
  const events = await postJson(`${node.url}/1/now.json`, account, { event: true });
  expect(events.status).toBe(501);
  expect(events.body).toEqual({
    status: 'fail',
    error:
      'Parameter event is not available on this server: the redis store does not count users by event yet (see docs/api.md#event)',
    code: 501,
  });
  const controller = new AbortController();
  const live = await fetch(`${node.url}/1/now/stream`, {
    headers: { 'X-CleverTap-Account-Id': account.id, 'X-CleverTap-Passcode': account.passcode },
    signal: controller.signal,
  });
  expect(live.status).toBe(200);
  const reader = live.body?.getReader();
  let text = '';
  while (reader !== undefined && !text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  controller.abort();
  const first = JSON.parse(/data: (.*)\n\n/.exec(text)?.[1] ?? '{}') as Record<string, unknown>;
  expect(first).toHaveProperty('app_version');
  expect(first).not.toHaveProperty('event');
}

/** Polls `check` (every 100 ms) until it passes; fails with its last answer after PROPAGATION_WAIT_MS. */
async function eventually(what: string, check: () => Promise<string | undefined>): Promise<void> {
  const deadline = Date.now() + PROPAGATION_WAIT_MS;
  for (;;) {
    const problem = await check();
    if (problem === undefined) return;
    if (Date.now() > deadline) throw new Error(`${what}: still ${problem} after ${PROPAGATION_WAIT_MS} ms`);
    await sleep(100);
  }
}

async function statusOf(node: ServerProcess, account: Credentials): Promise<Answer> {
  return postJson(`${node.url}/1/now.json`, account, {});
}

describeWithRedis('several activenow nodes on one Redis', () => {
  it('answer alike and as the oracle, and share accounts and revocations', async () => {
    console.log(`redis-multi-node: seed ${SEED} (replay with ACTIVENOW_REDIS_SEED=${SEED})`);
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());

    const shop = await cliCreate(redis.url, 'shop');
    const nodes = await Promise.all([serve(redis.url), serve(redis.url)]);
    // The account is there already: neither node makes a first one.
    for (const node of nodes) expect(node.created, node.startup).toBeUndefined();
    expect(nodes[0].url).not.toBe(nodes[1].url);

    const oracle = await expectNodesAgree(nodes, shop);

    // An account made while the nodes run works on each of them straight away, both ways round.
    const late = await cliCreate(redis.url, 'late');
    const upload = await postJson(`${nodes[1].url}/1/upload`, late, {
      d: [{ identity: 'late-user', type: 'event', evtName: 'App Launched', session: { browser: 'Chrome' } }],
    });
    expect(upload.status, upload.text).toBe(200);
    for (const node of nodes) {
      const answer = await postJson(`${node.url}/1/now.json`, late, { browser: true });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual({ status: 'success', count: 1, browser: { Chrome: 1 } });
    }
    const list = parsed(await processes.run(['accounts', 'list', '--json', '--store', redis.url]));
    expect((list as unknown as { id: string }[]).map((a) => a.id).sort()).toEqual([shop.id, late.id].sort());

    // Replace the shop's passcode: the new one works everywhere (within the cache time) ...
    const rotated = parsed(
      await processes.run(['accounts', 'rotate-passcode', shop.id, '--store', redis.url, '--json']),
    );
    const renewed = { id: shop.id, passcode: String(rotated.passcode) };
    for (const [n, node] of nodes.entries()) {
      await eventually(`the new passcode on node ${n + 1}`, async () => {
        const answer = await statusOf(node, renewed);
        return answer.status === 200 ? undefined : `${answer.status} ${answer.text}`;
      });
    }
    // ... and, both nodes having just read the account with the old one, revoking it stops it on both.
    for (const node of nodes) expect((await statusOf(node, shop)).status).toBe(200);
    const revoked = await processes.run([
      'accounts',
      'revoke-passcode',
      shop.id,
      shop.passcode,
      '--store',
      redis.url,
    ]);
    expect(revoked.code, revoked.stderr).toBe(0);
    for (const [n, node] of nodes.entries()) {
      await eventually(`the revoked passcode on node ${n + 1}`, async () => {
        const answer = await statusOf(node, shop);
        return answer.status === 401 ? undefined : `${answer.status} ${answer.text}`;
      });
    }
    for (const node of nodes) {
      const refused = await statusOf(node, shop);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ status: 'fail', error: 'Passcode is not valid', code: 401 });
    }
    // The passcode changed, not the account: the same answers, and the late account's user is not in them.
    await expectEveryNodeAgreesWithOracle(nodes, renewed, oracle);
    for (const node of nodes) {
      expect(node.child.exitCode, node.stderr()).toBeNull();
      expect(`${node.stdout()}${node.stderr()}`).not.toMatch(/unhandled/i);
    }
  }, 120_000);
});

describeWithRedis('several activenow nodes on one Redis Cluster', () => {
  it('answer alike and as the oracle, with the account one node made', async () => {
    console.log(`redis-multi-node (cluster): seed ${SEED} (replay with ACTIVENOW_REDIS_SEED=${SEED})`);
    const cluster = await startRedisCluster({ masters: 3 });
    cleanups.push(() => cluster.stop());

    // On an empty cluster the first node makes the first account; the second finds it.
    const first = await serve(cluster.storeUrl);
    const account = first.created;
    expect(account, first.startup).toBeDefined();
    if (account === undefined) return;
    const second = await serve(cluster.storeUrl);
    expect(second.created, second.startup).toBeUndefined();
    // Usable on the other node at once.
    const answer = await statusOf(second, account);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ status: 'success', count: 0 });

    await expectNodesAgree([first, second], account);

    // The account's state lives on the master serving its hash tag, not on some node's heap.
    const slot = await cluster.keySlot(`an:{${account.id}}:meta`);
    const owner = await cluster.slotOwner(slot);
    expect(Number(await redisCommand(owner, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBeGreaterThan(0);
    for (const node of [first, second]) {
      expect(node.child.exitCode, node.stderr()).toBeNull();
      expect(`${node.stdout()}${node.stderr()}`).not.toMatch(/unhandled/i);
    }
  }, 120_000);
});
