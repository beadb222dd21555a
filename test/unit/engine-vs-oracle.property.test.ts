import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActiveUsersEngine } from '../../src/engine/active-users-engine.js';
import { InMemoryFirstSeenRegistry } from '../../src/engine/in-memory-first-seen-registry.js';
import type { Activity } from '../../src/model/activity.js';
import { OTHER, UNKNOWN } from '../../src/model/dimensions.js';
import type { NowFilter, NowQuery, NowResult } from '../../src/model/now-query.js';
import { SPLIT_NAMES } from '../../src/protocol/dimensions.js';
import { NaiveOracle } from '../support/naive-oracle.js';
import { type ActSpec, activityAgeArb, clockStepArb, eachValue } from '../support/time-arbitraries.js';

/**
 * The engine against the brute-force oracle on random op sequences: every query of every sequence
 * must give the same whole result (count, userType, splits with their key order, newSplits,
 * timeline). Time only moves forward between ops; activity timestamps do not.
 */

const BASE = 1_764_000_000;

type Op =
  | { readonly kind: 'record'; readonly dt: number; readonly batch: readonly ActSpec[] }
  | { readonly kind: 'query'; readonly dt: number; readonly query: NowQuery }
  | { readonly kind: 'maintain'; readonly dt: number; readonly budget: number };

interface Scenario {
  readonly horizon: number;
  readonly valueCap: number;
  readonly start: number;
  readonly users: number;
  /** [user, seconds before start] pre-seeded in the first-seen registry. */
  readonly seeds: readonly (readonly [number, number])[];
  readonly ops: readonly Op[];
}

interface Profile {
  readonly horizons?: fc.Arbitrary<number>;
  readonly maxUsers: number;
  readonly maxOps: number;
  readonly maxBatch: number;
  readonly valueCaps: fc.Arbitrary<number>;
  readonly values: readonly string[];
  /** Relative weights of op kinds: record, query, maintain. */
  readonly weights: readonly [number, number, number];
  /** Seconds an activity's ts lies before the now it is recorded at (negative: in the future). */
  readonly offsets: (h: number) => fc.Arbitrary<number>;
  /** Seconds now moves forward before an op (0 keeps it: ties, several queries at one now). */
  readonly dts: (h: number) => fc.Arbitrary<number>;
}

const SOME_VALUES = ['A', 'B', 'C', 'a', 'Zed', '', 'Unknown', 'Other'];

function valueArb(values: readonly string[]): fc.Arbitrary<string | undefined> {
  return fc.option(fc.constantFrom(...values), { nil: undefined, freq: 4 });
}

function windowArb(h: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(...[1, 2, 60, 300, 3600, h, h - 1].filter((w) => w <= h)),
    fc.integer({ min: 1, max: h }),
    fc.integer({ min: 1, max: 120 }),
  );
}

/** Half the queries are filtered: up to three dimensions or event, each with values sent, and values never sent. */
function filterArb(values: readonly string[]): fc.Arbitrary<NowFilter | undefined> {
  const listed = fc.uniqueArray(fc.constantFrom(...values.filter((v) => v !== ''), UNKNOWN, OTHER, 'never'), {
    minLength: 1,
    maxLength: 3,
  });
  return fc.option(
    fc.dictionary(fc.constantFrom(...SPLIT_NAMES), listed, {
      minKeys: 1,
      maxKeys: 3,
    }) as fc.Arbitrary<NowFilter>,
    { nil: undefined, freq: 2 },
  );
}

function queryArb(h: number, values: readonly string[]): fc.Arbitrary<NowQuery> {
  return fc.record({
    window: windowArb(h),
    userType: fc.boolean(),
    splits: fc.shuffledSubarray([...SPLIT_NAMES]),
    timeline: fc.boolean(),
    filter: filterArb(values),
  });
}

function scenarioArb(profile: Profile): fc.Arbitrary<Scenario> {
  return fc
    .record({
      horizon:
        profile.horizons ?? fc.oneof(fc.constantFrom(1800, 3600), fc.integer({ min: 1800, max: 3600 })),
      valueCap: profile.valueCaps,
      start: fc.integer({ min: BASE, max: BASE + 86_399 }),
      users: fc.integer({ min: 1, max: profile.maxUsers }),
    })
    .chain(({ horizon, valueCap, start, users }) => {
      const user = fc.integer({ min: 0, max: users - 1 });
      const value = valueArb(profile.values);
      const act: fc.Arbitrary<ActSpec> = fc.record(
        {
          user,
          offset: profile.offsets(horizon),
          ...eachValue(value),
        },
        { requiredKeys: ['user', 'offset'] },
      );
      const dt = profile.dts(horizon);
      const [wr, wq, wm] = profile.weights;
      const op: fc.Arbitrary<Op> = fc.oneof(
        {
          weight: wr,
          arbitrary: fc.record({
            kind: fc.constant('record' as const),
            dt,
            batch: fc.array(act, { minLength: 0, maxLength: profile.maxBatch, size: 'max' }),
          }),
        },
        {
          weight: wq,
          arbitrary: fc.record({
            kind: fc.constant('query' as const),
            dt,
            query: queryArb(horizon, profile.values),
          }),
        },
        {
          weight: wm,
          arbitrary: fc.record({
            kind: fc.constant('maintain' as const),
            dt,
            budget: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 3 }) }, fc.constant(1000)),
          }),
        },
      );
      const seed = fc.tuple(
        user,
        fc.oneof(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 0, max: horizon })),
      );
      return fc.record({
        horizon: fc.constant(horizon),
        valueCap: fc.constant(valueCap),
        start: fc.constant(start),
        users: fc.constant(users),
        seeds: fc.uniqueArray(seed, { maxLength: users, selector: ([u]) => u }),
        // size 'max': without it fast-check keeps arrays to about 10 items whatever maxLength says.
        ops: fc.array(op, { minLength: 1, maxLength: profile.maxOps, size: 'max' }),
      });
    });
}

function toActivity(spec: ActSpec, now: number): Activity {
  const { user, offset, ...values } = spec;
  return { user: `u${user}`, ts: now - offset, ...values };
}

/** Runs one scenario on both; returns how many queries were compared. */
function check(s: Scenario): number {
  const registry = new InMemoryFirstSeenRegistry();
  const preexisting = new Map<string, number>();
  for (const [user, before] of s.seeds) {
    registry.observe(`u${user}`, s.start - before);
    preexisting.set(`u${user}`, s.start - before);
  }
  const engine = new ActiveUsersEngine({ registry, horizonSeconds: s.horizon, valueCap: s.valueCap });
  const oracle = new NaiveOracle({
    horizonSeconds: s.horizon,
    valueCap: s.valueCap,
    preexistingFirstSeen: preexisting,
  });
  let now = s.start;
  let compared = 0;
  for (const [i, op] of s.ops.entries()) {
    now += op.dt;
    if (op.kind === 'record') {
      const batch = op.batch.map((spec) => toActivity(spec, now));
      engine.record(batch, now);
      oracle.record(batch, now);
    } else if (op.kind === 'maintain') {
      engine.maintain(now, op.budget);
      oracle.maintain(now);
    } else {
      const got: NowResult = engine.query(op.query, now);
      const want: NowResult = oracle.query(op.query, now);
      const where = `op ${i} at now = start + ${now - s.start}`;
      expect(got, where).toStrictEqual(want);
      // toStrictEqual ignores the order of object keys; the order of splits is part of the contract.
      expect(Object.keys(got.splits), where).toEqual(Object.keys(want.splits));
      expect(Object.keys(got.newSplits ?? {}), where).toEqual(Object.keys(want.newSplits ?? {}));
      compared++;
    }
  }
  return compared;
}

const general: Profile = {
  maxUsers: 12,
  maxOps: 40,
  maxBatch: 6,
  valueCaps: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(256)),
  values: SOME_VALUES,
  weights: [5, 4, 1],
  offsets: activityAgeArb,
  dts: clockStepArb,
};

const capPressure: Profile = {
  ...general,
  maxUsers: 6,
  maxOps: 50,
  valueCaps: fc.integer({ min: 1, max: 3 }),
  values: ['A', 'B', 'C', 'D', 'E', 'Other', 'Unknown', ''],
  weights: [6, 3, 1],
  offsets: (h) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }) },
      { weight: 2, arbitrary: fc.integer({ min: -10, max: h + 2 }) },
      { weight: 1, arbitrary: fc.constantFrom(h - 1, h) },
    ),
  dts: (h) =>
    fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 20 }) },
      { weight: 2, arbitrary: fc.integer({ min: 100, max: h + 10 }) },
      { weight: 1, arbitrary: fc.constantFrom(h - 1, h, h + 1) },
    ),
};

const horizonEdges: Profile = {
  ...general,
  maxUsers: 5,
  maxOps: 40,
  valueCaps: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 2 }) }, fc.constant(256)),
  values: ['A', 'B', 'C', 'Other', ''],
  weights: [4, 4, 3],
  offsets: (h) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }) },
      { weight: 2, arbitrary: fc.constantFrom(h - 2, h - 1, h, h + 1) },
      { weight: 1, arbitrary: fc.integer({ min: h - 70, max: h + 70 }) },
    ),
  // Steps of about H make earlier activity land exactly on the horizon's edge.
  dts: (h) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 61 }) },
      { weight: 3, arbitrary: fc.integer({ min: h - 3, max: h + 1 }) },
      { weight: 1, arbitrary: fc.constantFrom(60, 300, 1799, 1800) },
      { weight: 1, arbitrary: fc.integer({ min: 2 * 3600, max: 4 * 3600 }) },
    ),
};

/** Times on a 300 s grid: activity lands exactly on window, horizon and minute edges often. */
const grid: Profile = {
  ...general,
  horizons: fc.constantFrom(1800, 2400, 3600),
  maxUsers: 4,
  maxOps: 40,
  valueCaps: fc.integer({ min: 1, max: 2 }),
  values: ['A', 'B', 'C', 'Other', ''],
  weights: [5, 4, 2],
  offsets: (h) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(0, 300, 600, h - 300, h) },
      { weight: 1, arbitrary: fc.integer({ min: -1, max: 1 }) },
    ),
  dts: (h) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 4, arbitrary: fc.constantFrom(300, 600, 900, h - 300, h) },
      { weight: 1, arbitrary: fc.constantFrom(1, 60, 3 * 3600) },
    ),
};

/** Longer histories with more users and values than fit in small tables, so storage must grow. */
const large: Profile = {
  ...general,
  maxUsers: 40,
  maxOps: 120,
  maxBatch: 12,
  valueCaps: fc.constantFrom(2, 15, 16, 17, 24, 256),
  values: [...Array.from({ length: 40 }, (_, i) => `v${i}`), '', 'Unknown', 'Other'],
  weights: [6, 3, 1],
};

const ties: Profile = {
  ...general,
  maxUsers: 3,
  maxOps: 30,
  maxBatch: 8,
  valueCaps: fc.integer({ min: 1, max: 3 }),
  values: ['A', 'B', 'C', 'Other', 'Unknown', ''],
  offsets: () => fc.oneof({ weight: 5, arbitrary: fc.constantFrom(0, 1) }, fc.integer({ min: -3, max: 3 })),
  dts: () => fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 2 })),
};

/** About 10,000 sequences in all, some 20 s on two cores. */
const cases: [name: string, profile: Profile, numRuns: number][] = [
  ['mixed ops, many windows, pre-seeded registry', general, 3000],
  ['value cap pressure: tiny caps, many values, attribute changes', capPressure, 2000],
  ['horizon edges, long jumps, users leaving and coming back, maintain', horizonEdges, 2000],
  ['activity on the edges of windows, minutes and the horizon (300 s grid)', grid, 2000],
  ['equal timestamps and future ones, few users', ties, 1500],
  ['long histories, many users and distinct values', large, 300],
];

describe('engine vs naive oracle', () => {
  for (const [name, profile, numRuns] of cases) {
    it(name, () => {
      let queries = 0;
      fc.assert(
        fc.property(scenarioArb(profile), (s) => {
          queries += check(s);
        }),
        { numRuns },
      );
      // Guards the generators: a run that compared (almost) nothing proves nothing.
      expect(queries).toBeGreaterThan(numRuns);
    });
  }
});
