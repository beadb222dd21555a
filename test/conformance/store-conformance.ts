import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type Activity, VALUE_KEY_OF } from '../../src/model/activity.js';
import { OTHER, UNKNOWN } from '../../src/model/dimensions.js';
import type {
  NowFilter,
  NowQuery,
  NowResult,
  Split,
  Splits,
  TimelinePoint,
} from '../../src/model/now-query.js';
import {
  DIMENSIONS,
  type Dimension,
  EVENT,
  isDimension,
  SPLIT_NAMES,
} from '../../src/protocol/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';
import type { Store } from '../../src/store/store.js';
import { NaiveOracle } from '../support/naive-oracle.js';
import { type ActSpec, activityAgeArb, clockStepArb, eachValue } from '../support/time-arbitraries.js';

/**
 * The store conformance suite (docs/architecture.md, "The Redis store"): every backend must pass it unchanged. It talks to a
 * store only through the `Store` interface and compares every answer, field by field (count,
 * userType, splits with their key order, newSplits, timeline), with the naive oracle of the
 * counting rules, one oracle per account.
 *
 * Time: the `at` given to a store never decreases across calls on the whole store, like a wall
 * clock. The embedded store keeps one clock per store while other backends may keep one per
 * account; both read the same history only when `at` never goes backwards globally. One
 * single-account test gives an earlier `at` on purpose, to check that it is read as the latest.
 *
 * A backend plugs in with a harness file beside this one (see embedded.test.ts).
 * ACTIVENOW_CONFORMANCE_RUNS (default 40) and ACTIVENOW_CONFORMANCE_SEED set the property test's
 * sequences, for longer local runs.
 */

export interface StoreLimits {
  readonly horizonSeconds: number;
  readonly valueCap: number;
}

export interface OpenedStore {
  /** The store as opened, recovered and ready. */
  readonly store: Store;
  /**
   * Closes the store opened last and opens a new one over the same storage: the same node
   * restarted, or another node. Resolves once the new one is ready.
   */
  reopen(): Promise<Store>;
  /** Closes whatever is open and removes the storage. */
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  /** Fresh, empty storage with these limits, and a ready store over it. */
  open(limits: StoreLimits): Promise<OpenedStore>;
  /**
   * What the store does with a filtered query or one split by event: answer it (and agree with the
   * oracle), or refuse it with `unsupportedParameter` naming `filter` or `event`, as docs/api.md
   * (#filter, #event) allows a store to.
   */
  readonly extensions: 'answer' | 'refuse';
}

/** 2025-11-24T16:00:00Z, a multiple of 60: minute arithmetic stays readable. */
const T0 = 1_764_000_000;
const H = 1800;
const DEFAULT_LIMITS: StoreLimits = { horizonSeconds: H, valueCap: 256 };
/** Account ids in the shape the registry makes them. */
const A = 'AAA-111-1111';
const B = 'BBB-222-2222';

const RUNS = positiveInteger('ACTIVENOW_CONFORMANCE_RUNS', 40);
const SEED = positiveInteger('ACTIVENOW_CONFORMANCE_SEED', 20_251_126);

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const FIELD = VALUE_KEY_OF;
/** Every split of an account with no live user. */
const NO_SPLITS = Object.fromEntries(DIMENSIONS.map((dimension) => [dimension, []]));

function q(window: number, extra: Partial<Omit<NowQuery, 'window'>> = {}): NowQuery {
  return { window, userType: false, splits: [], timeline: false, ...extra };
}

/** Everything a query can ask for. */
function full(window: number): NowQuery {
  return { window, userType: true, splits: DIMENSIONS, timeline: true };
}

function act(user: string, ts: number, values: Omit<Activity, 'user' | 'ts'> = {}): Activity {
  return { user, ts, ...values };
}

function sum(split: Split | undefined): number {
  let total = 0;
  for (const [, users] of split ?? []) total += users;
  return total;
}

/** The same whole result, with the order of split keys and of each split's values. */
function expectSameResult(got: NowResult, want: NowResult, query: NowQuery, where: string): void {
  // toEqual, not toStrictEqual: an optional field set to undefined is as good as an absent one.
  expect(got, where).toEqual(want);
  expect(Object.keys(got.splits), `${where}: split keys in request order`).toEqual([...query.splits]);
  if (want.newSplits !== undefined)
    expect(Object.keys(got.newSplits ?? {}), `${where}: new split keys in request order`).toEqual([
      ...query.splits,
    ]);
}

/** What holds for every answer: splits sum to count, new splits to new, no zero entries. */
function expectConsistent(result: NowResult, where: string): void {
  for (const dim of DIMENSIONS) {
    const split = result.splits[dim];
    if (split === undefined) continue;
    expect(sum(split), `${where}: ${dim} sums to count`).toBe(result.count);
    expect(
      split.every(([, users]) => users > 0),
      `${where}: ${dim} has no zero entry`,
    ).toBe(true);
    const fresh = result.newSplits?.[dim];
    if (fresh !== undefined)
      expect(sum(fresh), `${where}: new ${dim} sums to new`).toBe(result.userType?.new);
  }
  if (result.userType !== undefined)
    expect(result.userType.new + result.userType.returning, `${where}: new + returning`).toBe(result.count);
}

/**
 * One opened store and one oracle per account, fed the same calls at the same times. `at` is the
 * shared clock; tests move it with `tick`.
 */
class Session {
  private current: Store;
  private readonly oracles = new Map<string, NaiveOracle>();
  at: number;

  constructor(
    private readonly opened: OpenedStore,
    readonly limits: StoreLimits,
    start: number,
    private readonly extensions: StoreHarness['extensions'],
  ) {
    this.current = opened.store;
    this.at = start;
  }

  get store(): Store {
    return this.current;
  }

  tick(seconds: number): number {
    this.at += seconds;
    return this.at;
  }

  async record(account: string, activities: readonly Activity[], at = this.at): Promise<void> {
    await this.current.record(account, activities, at);
    this.oracle(account).record(activities, at);
  }

  /**
   * Records all batches at once, then feeds them to the oracles in order: fit for batches whose
   * outcome does not depend on the order they are applied in.
   */
  async recordConcurrently(
    batches: readonly { readonly account: string; readonly activities: readonly Activity[] }[],
  ): Promise<void> {
    const at = this.at;
    await Promise.all(batches.map((batch) => this.current.record(batch.account, batch.activities, at)));
    for (const batch of batches) this.oracle(batch.account).record(batch.activities, at);
  }

  /** Asks the store and the oracle; they must agree. Returns the store's answer. */
  async now(account: string, query: NowQuery, at = this.at): Promise<NowResult> {
    const got = await this.current.now(account, query, at);
    const want = this.oracle(account).query(query, at);
    const where = `${account} at T0${signed(at - T0)}, ${JSON.stringify(query)}`;
    expectSameResult(got, want, query, where);
    expectConsistent(got, where);
    return got;
  }

  /**
   * Any query: asked like `now` of a store that answers filters and the event split; of one that
   * refuses them, a query asking either is refused (the filter named first), which is checked, and
   * undefined returned.
   */
  async nowExtended(account: string, query: NowQuery, at = this.at): Promise<NowResult | undefined> {
    const refused =
      query.filter !== undefined ? 'filter' : query.splits.includes(EVENT) ? 'event' : undefined;
    if (this.extensions === 'answer' || refused === undefined) return this.now(account, query, at);
    await expect(this.current.now(account, query, at)).rejects.toMatchObject({
      kind: 'unsupportedParameter',
      params: { name: refused },
    });
    return undefined;
  }

  async dropAccount(account: string): Promise<void> {
    await this.current.dropAccount(account);
    this.oracles.delete(account);
  }

  async reopen(): Promise<void> {
    this.current = await this.opened.reopen();
    expect(this.current.readiness(), 'reopened store is ready').toBe('ready');
  }

  cleanup(): Promise<void> {
    return this.opened.cleanup();
  }

  private oracle(account: string): NaiveOracle {
    let oracle = this.oracles.get(account);
    if (oracle === undefined) {
      oracle = new NaiveOracle(this.limits);
      this.oracles.set(account, oracle);
    }
    return oracle;
  }
}

function signed(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

/** Timeline points from `lastMinuteStart - 29 min` to `lastMinuteStart`, counts as given (oldest first). */
function timeline(lastMinuteStart: number, counts: Record<number, number>): TimelinePoint[] {
  return Array.from({ length: 30 }, (_, i) => {
    const minutesAgo = 29 - i;
    return { ts: lastMinuteStart - minutesAgo * 60, count: counts[minutesAgo] ?? 0 };
  });
}

// ---------------------------------------------------------------------------------------------
// Random op sequences
// ---------------------------------------------------------------------------------------------

/** User names shared by both accounts, some with characters a key format might trip on. */
const POOL_USERS = ['u0', 'u1', 'u:2', '{u3}', 'é4-用户', `u5-${'x'.repeat(100)}`];
/** Values 'a' vs 'A' and 'Other' check code-unit ordering and the fold target. */
const POOL_VALUES = ['A', 'B', 'C', 'D', 'a', '', UNKNOWN, OTHER];

type Op =
  | { readonly kind: 'record'; readonly dt: number; readonly account: number; readonly batch: ActSpec[] }
  | { readonly kind: 'query'; readonly dt: number; readonly account: number; readonly query: NowQuery }
  | { readonly kind: 'drop'; readonly dt: number; readonly account: number }
  | { readonly kind: 'reopen'; readonly dt: number };

interface Scenario {
  readonly limits: StoreLimits;
  readonly start: number;
  readonly ops: readonly Op[];
}

const ACCOUNTS = [A, B];

/** Two thirds of the queries are filtered: one or two dimensions, each with values of the pool or none sent. */
const filterArb: fc.Arbitrary<NowFilter | undefined> = fc.option(
  fc.dictionary(
    fc.constantFrom(...SPLIT_NAMES),
    fc.uniqueArray(fc.constantFrom(...POOL_VALUES.filter((value) => value !== ''), 'never'), {
      minLength: 1,
      maxLength: 3,
    }),
    { minKeys: 1, maxKeys: 2 },
  ) as fc.Arbitrary<NowFilter>,
  { nil: undefined, freq: 3 },
);

function queryArb(h: number): fc.Arbitrary<NowQuery> {
  return fc.record({
    window: fc.oneof(
      fc.constantFrom(1, 2, 60, 61, 300, h - 1, h),
      fc.integer({ min: 1, max: h }),
      fc.integer({ min: 1, max: 120 }),
    ),
    userType: fc.boolean(),
    splits: fc.shuffledSubarray([...SPLIT_NAMES]),
    timeline: fc.boolean(),
    filter: filterArb,
  });
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    horizonSeconds: fc.constantFrom(1800, 2400, 3600),
    valueCap: fc.integer({ min: 1, max: 3 }),
    start: fc.integer({ min: T0, max: T0 + 86_399 }),
  })
  .chain(({ horizonSeconds, valueCap, start }) => {
    const value = fc.option(fc.constantFrom(...POOL_VALUES), { nil: undefined, freq: 4 });
    const actArb: fc.Arbitrary<ActSpec> = fc.record(
      {
        user: fc.integer({ min: 0, max: POOL_USERS.length - 1 }),
        offset: activityAgeArb(horizonSeconds),
        ...eachValue(value),
      },
      { requiredKeys: ['user', 'offset'] },
    );
    const dt = clockStepArb(horizonSeconds);
    const account = fc.integer({ min: 0, max: ACCOUNTS.length - 1 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 10,
        arbitrary: fc.record({
          kind: fc.constant('record' as const),
          dt,
          account,
          batch: fc.array(actArb, { minLength: 0, maxLength: 6, size: 'max' }),
        }),
      },
      {
        weight: 8,
        arbitrary: fc.record({
          kind: fc.constant('query' as const),
          dt,
          account,
          query: queryArb(horizonSeconds),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), dt, account }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), dt }) },
    );
    return fc.record({
      limits: fc.constant({ horizonSeconds, valueCap }),
      start: fc.constant(start),
      // size 'max': without it fast-check keeps arrays to about 10 items whatever maxLength says.
      ops: fc.array(op, { minLength: 1, maxLength: 30, size: 'max' }),
    });
  });

function toActivity(spec: ActSpec, at: number): Activity {
  const { user, offset, ...values } = spec;
  return { user: POOL_USERS[user], ts: at - offset, ...values };
}

/** Runs one scenario; returns how many queries were compared. */
async function runScenario(session: Session, scenario: Scenario): Promise<number> {
  let compared = 0;
  for (const op of scenario.ops) {
    const at = session.tick(op.dt);
    if (op.kind === 'record') {
      await session.record(
        ACCOUNTS[op.account],
        op.batch.map((spec) => toActivity(spec, at)),
      );
    } else if (op.kind === 'query') {
      await session.nowExtended(ACCOUNTS[op.account], op.query);
      compared++;
    } else if (op.kind === 'drop') {
      await session.dropAccount(ACCOUNTS[op.account]);
    } else {
      await session.reopen();
    }
  }
  // Every run ends by asking everything of both accounts, so no run compares nothing.
  for (const account of ACCOUNTS) {
    await session.now(account, full(scenario.limits.horizonSeconds));
    await session.now(account, full(300));
    compared += 2;
  }
  return compared;
}

// ---------------------------------------------------------------------------------------------
// One large batch of distinct users
// ---------------------------------------------------------------------------------------------

/**
 * The counting rules worked out directly for one batch of distinct users, one activity each,
 * recorded at `at` into an account whose only earlier activity is that of `seenBefore`, all older
 * than the horizon (so it made those users known, nothing else). The naive oracle takes seconds
 * per thousand activities; this model is held to it on a smaller batch of the same shape.
 */
function expectDistinctUsers(
  batch: readonly Activity[],
  seenBefore: ReadonlySet<string>,
  at: number,
  limits: StoreLimits,
  query: NowQuery,
  queryAt: number,
): NowResult {
  const live = Object.fromEntries(DIMENSIONS.map((dim) => [dim, new Set<string>()])) as Record<
    Dimension,
    Set<string>
  >;
  const counted: { user: string; ts: number; values: Record<Dimension, string> }[] = [];
  for (const activity of batch) {
    const ts = Math.min(activity.ts, at);
    const isCounted = ts > at - limits.horizonSeconds;
    const values = {} as Record<Dimension, string>;
    for (const dim of DIMENSIONS) {
      const raw = activity[FIELD[dim]];
      let value: string;
      if (raw === undefined || raw === '' || raw === UNKNOWN) value = UNKNOWN;
      else if (raw === OTHER) value = OTHER;
      else if (live[dim].has(raw) || live[dim].size < limits.valueCap) value = raw;
      else value = OTHER;
      // Only a counted activity is its user's latest, so only it holds a value's place.
      if (isCounted && value !== UNKNOWN && value !== OTHER) live[dim].add(value);
      values[dim] = value;
    }
    if (isCounted) counted.push({ user: activity.user, ts, values });
  }
  const active = counted.filter((user) => user.ts > queryAt - query.window);
  // A user's first-seen is its one ts unless it was seen (long) before.
  const fresh = active.filter((user) => !seenBefore.has(user.user));
  const splitsOf = (users: typeof active): Splits => {
    const splits: Splits = {};
    for (const dim of query.splits.filter(isDimension)) {
      const counts = new Map<string, number>();
      for (const user of users) counts.set(user.values[dim], (counts.get(user.values[dim]) ?? 0) + 1);
      splits[dim] = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    }
    return splits;
  };
  const result: {
    count: number;
    userType?: { new: number; returning: number };
    splits: Splits;
    newSplits?: Splits;
    timeline?: TimelinePoint[];
  } = { count: active.length, splits: splitsOf(active) };
  if (query.userType) {
    result.userType = { new: fresh.length, returning: active.length - fresh.length };
    if (query.splits.length > 0) result.newSplits = splitsOf(fresh);
  }
  if (query.timeline) {
    const last = Math.floor(queryAt / 60);
    result.timeline = Array.from({ length: 30 }, (_, i) => {
      const minute = last - 29 + i;
      return { ts: minute * 60, count: counted.filter((user) => Math.floor(user.ts / 60) === minute).length };
    });
  }
  return result;
}

/** `n` distinct users with mixed ids and values, ts spread over and beyond the horizon. */
function distinctUsersBatch(n: number, at: number, seed: number): Activity[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const values = [
    'Chrome',
    'Safari',
    'Firefox',
    'Edge',
    'Samsung Internet',
    'App',
    'Ünïcødé ✓',
    'v'.repeat(64),
    'chrome',
    'Opera',
    'Brave',
    'Vivaldi',
    '',
    UNKNOWN,
    OTHER,
    undefined,
    undefined,
  ];
  const offsets = (): number => {
    const r = random();
    if (r < 0.4) return Math.floor(random() * 300);
    if (r < 0.8) return Math.floor(random() * H);
    if (r < 0.9) return -Math.floor(random() * 60) - 1;
    return H + Math.floor(random() * 5000);
  };
  return Array.from({ length: n }, (_, i) => {
    const id = i % 10 === 0 ? `user-${i}-${'ü'.repeat(i % 100)}` : `user-${i}`;
    return {
      user: id.slice(0, 120),
      ts: at - offsets(),
      sessionSource: pick(values),
      browser: pick(values),
      os: pick(values),
      device: pick(values),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

export function describeStoreConformance(name: string, harness: StoreHarness): void {
  describe(`store conformance: ${name}`, () => {
    const sessions: Session[] = [];

    async function open(limits: Partial<StoreLimits> = {}, start = T0): Promise<Session> {
      const all = { ...DEFAULT_LIMITS, ...limits };
      const session = new Session(await harness.open(all), all, start, harness.extensions);
      sessions.push(session);
      return session;
    }

    afterEach(async () => {
      for (const session of sessions.splice(0)) await session.cleanup();
    });

    it('opens ready, and answers an account it never saw with zeros', async () => {
      const s = await open();
      expect(s.store.readiness()).toBe('ready');
      const result = await s.now(A, full(300));
      expect(result).toEqual({
        count: 0,
        userType: { new: 0, returning: 0 },
        splits: NO_SPLITS,
        newSplits: NO_SPLITS,
        timeline: timeline(T0, {}),
      });
      expect(await s.now(A, q(300))).toEqual({ count: 0, splits: {} });
    });

    it('filter: only the users whose latest values it keeps, in every field (or refused, as documented)', async () => {
      const s = await open();
      await s.record(A, [
        act('u1', T0 - 100, { country: 'IN', device: 'Mobile', page: '/a' }),
        act('u2', T0 - 50, { country: 'US', device: 'Desktop', page: '/a' }),
        act('u3', T0 - 10, { country: 'IN', device: 'Desktop', page: '/b' }),
        // Outside the window, inside the timeline.
        act('u4', T0 - 700, { country: 'IN', device: 'Mobile', page: '/c' }),
        act('u5', T0 - 5, { device: 'Mobile' }),
      ]);
      // u2's latest values are India and Mobile: the filter reads those, for every minute of u2.
      await s.record(A, [act('u2', T0, { country: 'IN', device: 'Mobile', page: '/b' })]);
      const inMobile = await s.nowExtended(A, {
        ...full(300),
        splits: ['page'],
        filter: { country: ['IN'], device: ['Mobile'] },
      });
      const unknownCountry = await s.nowExtended(A, q(300, { filter: { country: ['Unknown', 'FR'] } }));
      const nobody = await s.nowExtended(A, q(300, { timeline: true, filter: { country: ['FR'] } }));
      if (harness.extensions === 'refuse') return;
      const pages: Split = [
        ['/a', 1],
        ['/b', 1],
      ];
      expect(inMobile).toEqual({
        count: 2,
        userType: { new: 2, returning: 0 },
        splits: { page: pages },
        newSplits: { page: pages },
        timeline: timeline(T0, { 0: 1, 1: 1, 2: 1, 12: 1 }),
      });
      expect(unknownCountry).toEqual({ count: 1, splits: {} });
      expect(nobody).toEqual({ count: 0, splits: {}, timeline: timeline(T0, {}) });
    });

    it('event: each user once under each event it did in the window, also as a filter (or refused, as documented)', async () => {
      const s = await open({ valueCap: 2 });
      await s.record(A, [
        act('u1', T0 - 100, { event: 'Purchase' }),
        act('u1', T0 - 50, { event: 'View' }),
        act('u1', T0 - 40, { event: 'View' }),
        act('u2', T0 - 10, { event: 'View' }),
        // Outside the 300 s window, inside 600 s.
        act('u3', T0 - 400, { event: 'Purchase' }),
        // Active, but no event.
        act('u4', T0 - 5),
        // A third name with two live: Other.
        act('u5', T0 - 1, { event: 'Search' }),
      ]);
      const recent = await s.nowExtended(A, q(300, { userType: true, splits: ['event', 'device'] }));
      const longer = await s.nowExtended(A, q(600, { splits: ['event'] }));
      const buyers = await s.nowExtended(A, q(300, { splits: ['event'], filter: { event: ['Purchase'] } }));
      const other = await s.nowExtended(A, q(300, { filter: { event: ['Other'], device: ['Unknown'] } }));
      if (harness.extensions === 'refuse') return;
      const events: Split = [
        ['View', 2],
        ['Other', 1],
        ['Purchase', 1],
      ];
      expect(recent).toEqual({
        count: 4,
        userType: { new: 4, returning: 0 },
        splits: { event: events, device: [['Unknown', 4]] },
        newSplits: { event: events, device: [['Unknown', 4]] },
      });
      expect(longer?.splits).toEqual({
        event: [
          ['Purchase', 2],
          ['View', 2],
          ['Other', 1],
        ],
      });
      expect(buyers).toEqual({
        count: 1,
        splits: {
          event: [
            ['Purchase', 1],
            ['View', 1],
          ],
        },
      });
      expect(other).toEqual({ count: 1, splits: {} });
    });

    it('keeps accounts apart: users, first-seen, values; dropAccount forgets one account only', async () => {
      const s = await open({ valueCap: 2 });
      await s.record(A, [act('u1', T0, { browser: 'X' }), act('u2', T0, { browser: 'Y' })]);
      await s.record(B, [act('u1', T0, { browser: 'Z' })]);
      // The same user id in two accounts is two users; B's value cap is B's own.
      expect((await s.now(A, full(300))).splits.browser).toEqual([
        ['X', 1],
        ['Y', 1],
      ]);
      expect(await s.now(B, q(300, { userType: true, splits: ['browser'] }))).toEqual({
        count: 1,
        userType: { new: 1, returning: 0 },
        splits: { browser: [['Z', 1]] },
        newSplits: { browser: [['Z', 1]] },
      });
      // In A, a third value folds into Other.
      await s.record(A, [act('u3', T0, { browser: 'W' })]);
      expect((await s.now(A, q(300, { splits: ['browser'] }))).splits.browser).toEqual([
        ['Other', 1],
        ['X', 1],
        ['Y', 1],
      ]);

      s.tick(20);
      await s.dropAccount(A);
      expect(await s.now(A, full(H))).toMatchObject({ count: 0, userType: { new: 0, returning: 0 } });
      expect(await s.now(B, q(H, { userType: true }))).toEqual({
        count: 1,
        userType: { new: 1, returning: 0 },
        splits: {},
      });

      // A starts over: u1 is new again, and X, Y no longer hold places so W and V are kept.
      s.tick(10);
      await s.record(A, [act('u1', s.at, { browser: 'W' }), act('u4', s.at, { browser: 'V' })]);
      expect(await s.now(A, q(H, { userType: true, splits: ['browser'] }))).toEqual({
        count: 2,
        userType: { new: 2, returning: 0 },
        splits: {
          browser: [
            ['V', 1],
            ['W', 1],
          ],
        },
        newSplits: {
          browser: [
            ['V', 1],
            ['W', 1],
          ],
        },
      });

      // Beyond the horizon: B's u1 returns (B remembers it); A's u2 is new (A forgot it).
      s.tick(2 * H);
      await s.record(B, [act('u1', s.at)]);
      await s.record(A, [act('u2', s.at)]);
      expect((await s.now(B, q(300, { userType: true }))).userType).toEqual({ new: 0, returning: 1 });
      expect((await s.now(A, q(300, { userType: true }))).userType).toEqual({ new: 1, returning: 0 });
      // Dropping an account never seen, or dropped already, is harmless.
      await s.dropAccount('never-seen');
      await s.dropAccount(A);
      await s.dropAccount(A);
      expect((await s.now(B, full(300))).count).toBe(1);
    });

    it('remembers first-seen after users leave the horizon, and learns it from too-old activity', async () => {
      const s = await open();
      // u2's activity is older than the horizon: not counted, but it makes u2 known.
      await s.record(A, [act('u1', T0), act('u2', T0 - H - 100)]);
      expect(await s.now(A, q(H, { userType: true }))).toEqual({
        count: 1,
        userType: { new: 1, returning: 0 },
        splits: {},
      });
      s.tick(3 * H);
      expect((await s.now(A, full(H))).count).toBe(0);
      await s.record(A, [act('u1', s.at), act('u2', s.at), act('u3', s.at)]);
      expect(await s.now(A, q(300, { userType: true }))).toEqual({
        count: 3,
        userType: { new: 1, returning: 2 },
        splits: {},
      });
      // A late activity reveals an earlier first-seen: u4 stops being new in a 300 s window.
      s.tick(10);
      await s.record(A, [act('u4', s.at)]);
      expect((await s.now(A, q(300, { userType: true }))).userType).toEqual({ new: 2, returning: 2 });
      await s.record(A, [act('u4', s.at - 400)]);
      expect((await s.now(A, q(300, { userType: true }))).userType).toEqual({ new: 1, returning: 3 });
      expect((await s.now(A, q(600, { userType: true }))).userType).toEqual({ new: 2, returning: 2 });
    });

    it("splits users by their latest activity's values (ties: last received); late activity never moves them back", async () => {
      const s = await open();
      const t = T0 + 30;
      s.tick(30);
      await s.record(A, [
        act('u1', t - 10, { browser: 'A', os: 'Linux' }),
        act('u1', t - 5, { browser: 'B' }),
        act('u2', t, { browser: 'X' }),
        act('u2', t, { browser: 'Y' }),
      ]);
      // u1: values of t-5 (os absent there → Unknown); u2: the last of two at t.
      expect((await s.now(A, q(300, { splits: ['browser', 'os'] }))).splits).toEqual({
        browser: [
          ['B', 1],
          ['Y', 1],
        ],
        os: [['Unknown', 2]],
      });
      // Late: u1 at t-20 changes nothing, not even its latest time; a tie across batches goes to the last.
      await s.record(A, [act('u1', t - 20, { browser: 'C' })]);
      await s.record(A, [act('u2', t, { browser: 'Z' })]);
      expect((await s.now(A, q(300, { splits: ['browser'] }))).splits.browser).toEqual([
        ['B', 1],
        ['Z', 1],
      ]);
      expect((await s.now(A, q(6))).count).toBe(2);
      expect((await s.now(A, q(5))).count).toBe(1);
      // A future ts counts at `at`: a later activity at `at` is then a tie, and the last received wins.
      await s.record(A, [act('u3', t + 50, { device: 'F' })]);
      s.tick(1);
      await s.record(A, [act('u3', t, { device: 'G' })]);
      expect((await s.now(A, q(300, { splits: ['device'] }))).splits.device).toEqual([
        ['Unknown', 2],
        ['G', 1],
      ]);
      expect((await s.now(A, q(2))).count).toBe(2);
    });

    it('sums every split to count and every new split to new', async () => {
      const s = await open({ valueCap: 4 });
      const random = seededRandom(7);
      const values = ['P', 'Q', 'R', 'S', 'T', 'U', '', UNKNOWN, OTHER, undefined];
      const pick = () => values[Math.floor(random() * values.length)];
      const batch = (n: number, from: number, spread: number): Activity[] =>
        Array.from({ length: n }, (_, i) => ({
          user: `u${from + i}`,
          ts: s.at - Math.floor(random() * spread),
          sessionSource: pick(),
          browser: pick(),
          os: pick(),
          device: pick(),
        }));
      await s.record(A, batch(30, 0, 600));
      s.tick(400);
      await s.record(A, batch(40, 15, 900));
      for (const window of [1, 60, 300, 500, H]) {
        const result = await s.now(A, q(window, { userType: true, splits: DIMENSIONS }));
        expect(result.newSplits).toBeDefined();
      }
      const result = await s.now(A, full(300));
      expect(result.count).toBeGreaterThan(0);
      expect(result.userType?.new).toBeGreaterThan(0);
      expect(result.userType?.returning).toBeGreaterThan(0);
    });

    it('folds values beyond the cap into Other, and frees a place once no live user holds the value', async () => {
      const s = await open({ valueCap: 2 });
      await s.record(A, [
        act('u1', T0, { browser: 'A', os: 'X' }),
        act('u2', T0, { browser: 'B' }),
        act('u3', T0, { browser: 'C', os: 'Y' }),
      ]);
      // Unknown holds no place: os keeps X and Y.
      expect((await s.now(A, q(60, { splits: ['browser', 'os'] }))).splits).toEqual({
        browser: [
          ['A', 1],
          ['B', 1],
          ['Other', 1],
        ],
        os: [
          ['Unknown', 1],
          ['X', 1],
          ['Y', 1],
        ],
      });
      // u1 moves from A to B: nobody holds A any more, so C gets A's place.
      s.tick(10);
      await s.record(A, [act('u1', s.at, { browser: 'B' })]);
      await s.record(A, [act('u4', s.at, { browser: 'C' })]);
      // u3 stays Other until its next activity, which now keeps C.
      expect((await s.now(A, q(60, { splits: ['browser'] }))).splits.browser).toEqual([
        ['B', 2],
        ['C', 1],
        ['Other', 1],
      ]);
      await s.record(A, [act('u3', s.at, { browser: 'C' })]);
      expect((await s.now(A, q(60, { splits: ['browser'] }))).splits.browser).toEqual([
        ['B', 2],
        ['C', 2],
      ]);
      // An explicit Other is Other and takes no place.
      await s.record(A, [act('u5', s.at, { browser: OTHER })]);
      // Everyone leaves the horizon: every place is free again.
      s.tick(H);
      await s.record(A, [
        act('u6', s.at, { browser: 'D' }),
        act('u7', s.at, { browser: 'E' }),
        act('u8', s.at, { browser: 'A' }),
      ]);
      expect((await s.now(A, q(60, { splits: ['browser'] }))).splits.browser).toEqual([
        ['D', 1],
        ['E', 1],
        ['Other', 1],
      ]);
      // A value stays held while its holder's latest activity is in the horizon, even outside the window.
      // F comes a second before D and E leave the horizon and folds; G comes once they have left.
      s.tick(H - 1);
      await s.record(A, [act('u9', s.at, { browser: 'F' })]);
      s.tick(1);
      await s.record(A, [act('u10', s.at, { browser: 'G' })]);
      expect((await s.now(A, q(60, { splits: ['browser'] }))).splits.browser).toEqual([
        ['G', 1],
        ['Other', 1],
      ]);
    });

    it('counts users active in (at - window, at] for windows 1, 60, 300 and the horizon', async () => {
      const s = await open();
      const offsets = [0, 1, 59, 60, 61, 299, 300, 301, 1799, 1800, 1801];
      s.tick(30);
      await s.record(
        A,
        offsets.map((offset) => act(`u${offset}`, s.at - offset)),
      );
      const count = async (window: number) => (await s.now(A, q(window))).count;
      expect(await count(1)).toBe(1);
      expect(await count(60)).toBe(3);
      expect(await count(300)).toBe(6);
      expect(await count(H)).toBe(9);
      for (const window of [2, 59, 61, 299, 301, 1000, H - 1]) await count(window);
      // As time goes by, users leave every window.
      for (const step of [1, 58, 1, 240, 1, 1, 1200]) {
        s.tick(step);
        for (const window of [1, 60, 300, H]) await s.now(A, full(window));
      }
    });

    it('keeps a timeline of 30 points of distinct users per minute', async () => {
      const s = await open();
      const minute = T0 + 3600;
      s.tick(3600 + 45);
      await s.record(A, [
        act('u1', minute + 5),
        act('u1', minute + 40),
        act('u2', minute + 1),
        act('u2', minute - 30),
        act('u3', minute - 29 * 60),
        act('u4', minute - 30 * 60),
        act('u5', minute - 10 * 60 + 59),
      ]);
      // A late activity in a minute u5 already has counts once; in another minute it counts there.
      await s.record(A, [act('u5', minute - 10 * 60), act('u5', minute - 11 * 60)]);
      const result = await s.now(A, q(300, { timeline: true }));
      expect(result.timeline).toEqual(timeline(minute, { 0: 2, 1: 1, 10: 1, 11: 1, 29: 1 }));
      // A minute later the points shift by one; u3's minute falls off the start.
      s.tick(60);
      expect((await s.now(A, q(300, { timeline: true }))).timeline).toEqual(
        timeline(minute + 60, { 1: 2, 2: 1, 11: 1, 12: 1 }),
      );
    });

    it('forgets all activity after the horizon', async () => {
      const s = await open({ valueCap: 2 });
      await s.record(A, [act('u1', T0, { browser: 'A' }), act('u2', T0 - 100, { os: 'B' })]);
      s.tick(H - 1);
      expect((await s.now(A, full(H))).count).toBe(1);
      s.tick(1);
      expect(await s.now(A, full(H))).toEqual({
        count: 0,
        userType: { new: 0, returning: 0 },
        splits: NO_SPLITS,
        newSplits: NO_SPLITS,
        timeline: timeline(T0 + H, {}),
      });
      s.tick(10 * H);
      expect((await s.now(A, full(H))).count).toBe(0);
    });

    it('reads an earlier at as the latest time', async () => {
      const s = await open();
      await s.record(A, [act('u1', T0)], T0);
      // Asked "at" T0-100, answered at T0: (T0-1, T0] holds u1.
      expect((await s.now(A, q(1), T0 - 100)).count).toBe(1);
      expect((await s.now(A, q(300), T0 + 50)).count).toBe(1);
      // Recorded "at" T0+10 when the time is T0+50: ts T0+40 is in the past, ts T0+60 counts at T0+50.
      await s.record(A, [act('u2', T0 + 40), act('u3', T0 + 60)], T0 + 10);
      expect((await s.now(A, q(10), T0 + 50)).count).toBe(1);
      expect((await s.now(A, q(11), T0 + 20)).count).toBe(2);
      expect((await s.now(A, full(300), T0 + 50)).count).toBe(3);
    });

    it('outlives the store instance: reopened, it answers the same and goes on', async () => {
      const s = await open({ valueCap: 2 });
      await s.record(A, [
        act('u1', T0 - 100, { browser: 'A', device: 'Mobile' }),
        act('u2', T0 - H - 5, { browser: 'B' }),
        act('u3', T0, { browser: 'B', os: 'X' }),
      ]);
      await s.record(B, [act('u1', T0, { browser: 'Q' })]);
      s.tick(30);
      await s.record(A, [act('u4', s.at, { browser: 'C' }), act('u5', s.at - 200)]);
      const queries = [full(300), full(H), full(60), q(120, { userType: true, splits: ['browser'] })];
      const before: NowResult[] = [];
      for (const query of queries) before.push(await s.now(A, query));
      await s.reopen();
      for (const [i, query] of queries.entries()) expect(await s.now(A, query)).toEqual(before[i]);
      expect((await s.now(B, full(300))).count).toBe(1);

      // Goes on: u2 (seen only too long ago) returns; A's places still held by A and B, so D folds.
      s.tick(5);
      await s.record(A, [act('u2', s.at, { browser: 'D' }), act('u6', s.at, { browser: 'B' })]);
      expect(await s.now(A, q(5, { userType: true, splits: ['browser'] }))).toEqual({
        count: 2,
        userType: { new: 1, returning: 1 },
        splits: {
          browser: [
            ['B', 1],
            ['Other', 1],
          ],
        },
        newSplits: { browser: [['B', 1]] },
      });
      // Reopened twice, straight after a record and again after the users left the horizon.
      await s.reopen();
      await s.now(A, full(300));
      s.tick(2 * H);
      await s.now(A, full(H));
      await s.reopen();
      await s.record(A, [act('u1', s.at), act('u3', s.at), act('u7', s.at, { browser: 'E' })]);
      expect((await s.now(A, full(300))).userType).toEqual({ new: 1, returning: 2 });
      await s.reopen();
      await s.now(A, full(300));
      await s.now(B, full(H));
    });

    it('applies concurrent records exactly like the same batches one after another', async () => {
      const s = await open();
      const random = seededRandom(11);
      const browsers = ['Chrome', 'Safari', 'Firefox', 'Edge'];
      // A user's values depend only on the user, so the order the batches are applied in cannot matter.
      const user = (n: number): Omit<Activity, 'ts'> => ({
        user: `user-${n}`,
        browser: browsers[n % browsers.length],
        device: n % 3 === 0 ? 'Mobile' : undefined,
      });
      await s.record(A, [act('user-3', T0 - 1000, {}), act('user-5', T0 - 5000, {})]);
      s.tick(60);
      const batches = Array.from({ length: 20 }, (_, b) => ({
        account: b % 4 === 3 ? B : A,
        activities: Array.from({ length: 25 }, () => {
          const n = Math.floor(random() * 120);
          return { ...user(n), ts: s.at - Math.floor(random() * 1200) + 10 };
        }),
      }));
      await s.recordConcurrently(batches);
      for (const account of [A, B]) {
        for (const window of [1, 60, 300, H]) await s.now(account, full(window));
      }
      // Concurrent queries and records of different accounts.
      s.tick(5);
      const more = Array.from({ length: 10 }, (_, i) => ({
        account: i % 2 === 0 ? A : B,
        activities: [act(`late-${i}`, s.at - i, { browser: 'Opera' })],
      }));
      const [, answers] = await Promise.all([
        s.recordConcurrently(more),
        Promise.all([s.store.now(A, full(300), s.at), s.store.now(B, full(300), s.at)]),
      ]);
      // Those answers may or may not include the batches in flight, but each is whole.
      for (const answer of answers) expectConsistent(answer, 'concurrent query');
      for (const account of [A, B]) await s.now(account, full(300));
    });

    it('records one batch of 1000 distinct users with mixed values', async () => {
      const limits: StoreLimits = { horizonSeconds: H, valueCap: 8 };
      const at = T0 + 7200 + 17;
      // The model against the oracle, on a smaller batch of the same shape.
      const small = distinctUsersBatch(150, at, 3);
      const smallSeen = new Set(small.filter((_, i) => i % 3 === 0).map((a) => a.user));
      const oracle = new NaiveOracle(limits);
      oracle.record(
        [...smallSeen].map((user) => act(user, T0)),
        T0,
      );
      oracle.record(small, at);
      for (const window of [1, 60, 300, H]) {
        const query = full(window);
        expect(expectDistinctUsers(small, smallSeen, at, limits, query, at), 'model').toEqual(
          oracle.query(query, at),
        );
      }

      const s = await open(limits);
      const batch = distinctUsersBatch(1000, at, 5);
      const seen = new Set(batch.filter((_, i) => i % 4 === 1).map((a) => a.user));
      await s.store.record(
        A,
        [...seen].map((user) => act(user, T0)),
        T0,
      );
      s.tick(at - T0);
      await s.store.record(A, batch, at);
      for (const [window, queryAt] of [
        [1, at],
        [60, at],
        [300, at],
        [H, at],
        [300, at + 100],
        [H, at + 1000],
      ]) {
        s.tick(queryAt - s.at);
        for (const query of [full(window), { ...full(window), splits: [...DIMENSIONS].reverse() }]) {
          const got = await s.store.now(A, query, queryAt);
          const want = expectDistinctUsers(batch, seen, at, limits, query, queryAt);
          const where = `window ${window} at +${queryAt - at}`;
          expectSameResult(got, want, query, where);
          expectConsistent(got, where);
        }
      }
      // The batch exercised what it should: folds, Unknown, returning users, expiry.
      const all = expectDistinctUsers(batch, seen, at, limits, full(H), at);
      expect(all.splits.browser?.some(([value]) => value === OTHER)).toBe(true);
      expect(all.splits.browser?.some(([value]) => value === UNKNOWN)).toBe(true);
      expect(all.userType?.returning).toBeGreaterThan(100);
      expect(all.count).toBeLessThan(1000);
    });

    it(
      'agrees with the oracle on random op sequences over two accounts',
      async () => {
        let queries = 0;
        await fc.assert(
          fc.asyncProperty(scenarioArb, async (scenario) => {
            const session = new Session(
              await harness.open(scenario.limits),
              scenario.limits,
              scenario.start,
              harness.extensions,
            );
            try {
              queries += await runScenario(session, scenario);
            } finally {
              await session.cleanup();
            }
          }),
          { numRuns: RUNS, seed: SEED },
        );
        // Guards the generators: a run that compared (almost) nothing proves nothing.
        expect(queries).toBeGreaterThan(4 * RUNS);
      },
      Math.max(60_000, RUNS * 2_000),
    );
  });
}
