import { describe, expect, it } from 'vitest';
import { ActiveUsersEngine } from '../../src/engine/active-users-engine.js';
import { InMemoryFirstSeenRegistry } from '../../src/engine/in-memory-first-seen-registry.js';
import type { Activity } from '../../src/model/activity.js';
import type { NowQuery, NowResult, TimelinePoint } from '../../src/model/now-query.js';
import type { Dimension } from '../../src/protocol/dimensions.js';
import { NaiveOracle } from '../support/naive-oracle.js';

/**
 * One small scenario per counting rule; every expected number below is worked out by hand from
 * the rule it illustrates (see the comments), never printed from the engine.
 */

/** 2025-11-24T16:00:00Z, a multiple of 60: minute arithmetic stays readable. */
const T0 = 1_764_000_000;

interface Options {
  horizonSeconds?: number;
  valueCap?: number;
  /** First-seen times already in the registry. */
  seen?: Record<string, number>;
}

/** What both the engine and the oracle offer; the oracle's maintain takes no budget. */
interface Counter {
  record(activities: readonly Activity[], now: number): void;
  query(query: NowQuery, now: number): NowResult;
  maintain(now: number, budget: number): unknown;
}

const implementations: [name: string, make: (options: Options) => Counter][] = [
  [
    'ActiveUsersEngine',
    (options) => {
      const registry = new InMemoryFirstSeenRegistry();
      for (const [user, ts] of Object.entries(options.seen ?? {})) registry.observe(user, ts);
      return new ActiveUsersEngine({
        registry,
        horizonSeconds: options.horizonSeconds ?? 1800,
        valueCap: options.valueCap ?? 256,
      });
    },
  ],
  // The same hand-computed answers hold the oracle of the property tests to the rules too.
  [
    'NaiveOracle',
    (options) =>
      new NaiveOracle({
        horizonSeconds: options.horizonSeconds ?? 1800,
        valueCap: options.valueCap ?? 256,
        preexistingFirstSeen: new Map(Object.entries(options.seen ?? {})),
      }),
  ],
];

function q(window: number, extra: Partial<Omit<NowQuery, 'window'>> = {}): NowQuery {
  return { window, userType: false, splits: [], timeline: false, ...extra };
}

function split(window: number, ...splits: Dimension[]): NowQuery {
  return q(window, { splits });
}

function act(user: string, ts: number, values: Omit<Activity, 'user' | 'ts'> = {}): Activity {
  return { user, ts, ...values };
}

describe.each(implementations)('%s', (_name, engineWith) => {
  describe('engine time', () => {
    it('clamps a ts later than the clock to the clock', () => {
      const engine = engineWith({});
      engine.record([act('u1', T0 + 100)], T0);
      // Stored at T0, not T0+100.
      expect(engine.query(q(1), T0).count).toBe(1);
      // (T0, T0+100] excludes T0; an unclamped ts of T0+100 would be inside.
      expect(engine.query(q(100), T0 + 100).count).toBe(0);
      // (T0-1, T0+100] includes T0.
      expect(engine.query(q(101), T0 + 100).count).toBe(1);
    });

    it('puts a clamped activity in the minute of the clock, not the minute of its ts', () => {
      const engine = engineWith({});
      engine.record([act('u1', T0 + 100)], T0);
      const timeline = engine.query(q(60, { timeline: true }), T0 + 100).timeline ?? [];
      // now = T0+100 is in minute T0/60 + 1: the last point is T0+60, the one before it T0.
      expect(timeline[29]).toEqual({ ts: T0 + 60, count: 0 });
      expect(timeline[28]).toEqual({ ts: T0, count: 1 });
    });

    it('reads an earlier now as the current clock', () => {
      const engine = engineWith({});
      engine.record([act('u1', T0)], T0);
      // Queried "at" T0-1000, answered at T0: (T0-60, T0] holds u1.
      expect(engine.query(q(60), T0 - 1000).count).toBe(1);
      // Recorded "at" T0-600 but the clock is T0: ts T0-100 is not in the future, so it is kept as is.
      engine.record([act('u2', T0 - 100)], T0 - 600);
      // (T0-300, T0]: u1 at T0 and u2 at T0-100.
      expect(engine.query(q(300), T0).count).toBe(2);
      expect(engine.query(q(99), T0).count).toBe(1);
    });
  });

  describe('the same question asked again', () => {
    it('is answered from the state after every change: records in the same second, time moving', () => {
      const engine = engineWith({});
      const question = q(300, { userType: true, splits: ['browser'] });
      engine.record([act('u1', T0, { browser: 'Chrome' })], T0);
      expect(engine.query(question, T0)).toMatchObject({ count: 1, splits: { browser: [['Chrome', 1]] } });
      // Same second, same question: u2 arrives and u1 moves to Safari.
      engine.record([act('u2', T0, { browser: 'Chrome' }), act('u1', T0, { browser: 'Safari' })], T0);
      expect(engine.query(question, T0)).toMatchObject({
        count: 2,
        userType: { new: 2, returning: 0 },
        splits: {
          browser: [
            ['Chrome', 1],
            ['Safari', 1],
          ],
        },
      });
      // Asked again with nothing in between: the same answer.
      expect(engine.query(question, T0)).toEqual(engine.query(question, T0));
      // Another shape in the same state is its own answer.
      expect(engine.query(q(300), T0)).toEqual({ count: 2, splits: {} });
      // Time moves: (T0+1, T0+301] no longer holds T0.
      expect(engine.query(question, T0 + 300)).toMatchObject({
        count: 0,
        userType: { new: 0, returning: 0 },
      });
    });
  });

  describe('horizon', () => {
    it('ignores an activity with ts <= clock - H except for first-seen (H = 1800)', () => {
      const engine = engineWith({ horizonSeconds: 1800 });
      engine.record([act('u1', T0 - 1800)], T0);
      expect(engine.query(q(1800, { userType: true }), T0)).toEqual({
        count: 0,
        userType: { new: 0, returning: 0 },
        splits: {},
      });
      engine.record([act('u1', T0 - 1799), act('u2', T0 - 1799)], T0);
      // Both active in (T0-1800, T0]; u1 was first seen at T0-1800, outside it, so it returns.
      expect(engine.query(q(1800, { userType: true }), T0)).toEqual({
        count: 2,
        userType: { new: 1, returning: 1 },
        splits: {},
      });
    });

    it('accepts windows up to H = 3600', () => {
      const engine = engineWith({ horizonSeconds: 3600 });
      engine.record([act('u1', T0 - 3599), act('u2', T0 - 3600), act('u3', T0 - 1800)], T0);
      // (T0-3600, T0]: u1 and u3.
      expect(engine.query(q(3600), T0).count).toBe(2);
      // (T0-1800, T0]: nobody (u3 sits on the open end).
      expect(engine.query(q(1800), T0).count).toBe(0);
    });
  });

  describe('active users', () => {
    it('counts users with an activity in (T - W, T]', () => {
      const engine = engineWith({});
      engine.record(
        [act('a', T0 - 300), act('b', T0 - 299), act('c', T0), act('d', T0 - 60), act('e', T0 - 59)],
        T0,
      );
      expect(engine.query(q(300), T0).count).toBe(4); // b c d e
      expect(engine.query(q(60), T0).count).toBe(2); // c e
      expect(engine.query(q(1), T0).count).toBe(1); // c
      expect(engine.query(q(1800), T0).count).toBe(5);
      // 200 s later, (T0-100, T0+200]: c, d and e.
      expect(engine.query(q(300), T0 + 200).count).toBe(3);
      // W = 260 at T0+200: (T0-60, T0+200] drops d, keeps e.
      expect(engine.query(q(260), T0 + 200).count).toBe(2);
    });

    it('counts a user once however many activities it has', () => {
      const engine = engineWith({});
      engine.record([act('u1', T0 - 5), act('u1', T0 - 4), act('u1', T0 - 5), act('u2', T0 - 4)], T0);
      engine.record([act('u1', T0)], T0);
      expect(engine.query(q(60), T0).count).toBe(2);
    });
  });

  describe('first-seen and new users', () => {
    it('takes the earliest of the registry value and every ts received', () => {
      const engine = engineWith({ seen: { seeded: T0 - 86_400, seededLater: T0 - 100 } });
      engine.record([act('returner', T0 - 1000)], T0 - 1000);
      engine.record(
        [
          act('seeded', T0 - 10),
          act('fresh', T0 - 10),
          act('late', T0 - 5),
          act('returner', T0 - 20),
          act('seededLater', T0 - 5),
        ],
        T0,
      );
      // Late arrivals move first-seen back: late → T0-400, seededLater → min(T0-100, T0-500).
      engine.record([act('late', T0 - 400), act('seededLater', T0 - 500)], T0);
      // First-seen: seeded T0-86400, fresh T0-10, late T0-400, returner T0-1000, seededLater T0-500.
      const at = (window: number) => engine.query(q(window, { userType: true }), T0);
      expect(at(300)).toEqual({ count: 5, userType: { new: 1, returning: 4 }, splits: {} });
      expect(at(450)).toEqual({ count: 5, userType: { new: 2, returning: 3 }, splits: {} });
      expect(at(1800)).toEqual({ count: 5, userType: { new: 4, returning: 1 }, splits: {} });
      // (T0-10, T0]: only late and seededLater (both at T0-5), neither first seen in it.
      expect(at(10)).toEqual({ count: 2, userType: { new: 0, returning: 2 }, splits: {} });
    });

    it('remembers first-seen after a user left the horizon and memory was freed', () => {
      const engine = engineWith({ horizonSeconds: 1800 });
      engine.record([act('u1', T0), act('u2', T0)], T0);
      engine.maintain(T0 + 7200, 100);
      engine.record([act('u1', T0 + 7200), act('u3', T0 + 7190)], T0 + 7200);
      expect(engine.query(q(300, { userType: true }), T0 + 7200)).toEqual({
        count: 2,
        userType: { new: 1, returning: 1 },
        splits: {},
      });
    });
  });

  describe('latest activity', () => {
    it('gives a user the values of its greatest ts, ties going to the last received', () => {
      const engine = engineWith({});
      engine.record(
        [
          act('u1', T0 - 10, { browser: 'Chrome', os: 'Android' }),
          act('u2', T0 - 10, { browser: 'Chrome' }),
          act('u2', T0 - 10, { browser: 'Safari' }), // tie in one batch: Safari wins
          act('u3', T0 - 10, { browser: '' }), // empty: Unknown
          act('u4', T0 - 10), // missing: Unknown
          act('u5', T0 - 30, { browser: 'Edge' }),
        ],
        T0,
      );
      engine.record([act('u1', T0 - 20, { browser: 'Firefox', os: 'iOS' })], T0); // late: ignored for values
      engine.record([act('u5', T0 - 30, { browser: 'Opera' })], T0); // tie across batches: Opera wins
      const all: Dimension[] = ['browser', 'os', 'device', 'session_source'];
      expect(engine.query(q(60, { splits: all }), T0)).toEqual({
        count: 5,
        splits: {
          browser: [
            ['Unknown', 2],
            ['Chrome', 1],
            ['Opera', 1],
            ['Safari', 1],
          ],
          os: [
            ['Unknown', 4],
            ['Android', 1],
          ],
          device: [['Unknown', 5]],
          session_source: [['Unknown', 5]],
        },
      });
      // (T0-15, T0]: u5 (T0-30) is gone.
      expect(engine.query(split(15, 'browser'), T0).splits).toEqual({
        browser: [
          ['Unknown', 2],
          ['Chrome', 1],
          ['Safari', 1],
        ],
      });
    });

    it('lets a newer ts win even when received after an older one, and keeps it when older ones arrive', () => {
      const engine = engineWith({});
      engine.record([act('u1', T0 - 100, { device: 'Mobile' })], T0);
      engine.record([act('u1', T0 - 50, { device: 'Desktop' })], T0);
      engine.record([act('u1', T0 - 70, { device: 'Tablet' })], T0);
      expect(engine.query(split(300, 'device'), T0).splits).toEqual({ device: [['Desktop', 1]] });
    });
  });

  describe('value cap', () => {
    it('folds a value into Other once valueCap live values exist, per dimension', () => {
      const engine = engineWith({ valueCap: 2 });
      engine.record(
        [
          act('u1', T0, { browser: 'A' }), // LIVE {} → A
          act('u2', T0, { browser: 'B' }), // LIVE {A} → B
          act('u3', T0, { browser: 'C', os: 'Z' }), // browser LIVE {A,B} → Other; os LIVE {} → Z
          act('u4', T0, { browser: 'A' }), // A is live → A
          act('u5', T0, { browser: 'Unknown' }),
          act('u6', T0, { browser: 'Other' }),
        ],
        T0,
      );
      expect(engine.query(split(60, 'browser', 'os'), T0)).toEqual({
        count: 6,
        splits: {
          browser: [
            ['A', 2],
            ['Other', 2],
            ['B', 1],
            ['Unknown', 1],
          ],
          os: [
            ['Unknown', 5],
            ['Z', 1],
          ],
        },
      });
      // At T0+1800 every latest ts (T0) is <= clock - H: nothing is live any more.
      engine.record(
        [
          act('u7', T0 + 1800, { browser: 'C' }), // LIVE {} → C
          act('u8', T0 + 1800, { browser: 'D' }), // LIVE {C} → D
          act('u9', T0 + 1800, { browser: 'E' }), // LIVE {C,D} → Other
        ],
        T0 + 1800,
      );
      expect(engine.query(split(60, 'browser'), T0 + 1800)).toEqual({
        count: 3,
        splits: {
          browser: [
            ['C', 1],
            ['D', 1],
            ['Other', 1],
          ],
        },
      });
      engine.record([act('u1', T0 + 1800, { browser: 'A' })], T0 + 1800); // LIVE {C,D} → Other
      expect(engine.query(split(60, 'browser'), T0 + 1800).splits).toEqual({
        browser: [
          ['Other', 2],
          ['C', 1],
          ['D', 1],
        ],
      });
    });

    it('keeps a value live until its holders latest activity leaves the horizon', () => {
      const engine = engineWith({ valueCap: 1, horizonSeconds: 1800 });
      engine.record([act('u1', T0, { os: 'A' })], T0); // → A
      engine.record([act('u2', T0 + 1799, { os: 'B' })], T0 + 1799); // u1's T0 > T0-1: LIVE {A} → Other
      engine.record([act('u3', T0 + 1800, { os: 'B' })], T0 + 1800); // u1 gone, u2 holds Other: LIVE {} → B
      expect(engine.query(split(1800, 'os'), T0 + 1800)).toEqual({
        count: 2,
        splits: {
          os: [
            ['B', 1],
            ['Other', 1],
          ],
        },
      });
    });

    it("counts the receiving user's own current value as live", () => {
      const engine = engineWith({ valueCap: 1 });
      engine.record([act('u1', T0, { device: 'A' })], T0); // LIVE {} → A
      engine.record([act('u1', T0 + 1, { device: 'B' })], T0 + 1); // LIVE {A} (u1 itself) → Other
      expect(engine.query(split(60, 'device'), T0 + 1).splits).toEqual({ device: [['Other', 1]] });
      engine.record([act('u1', T0 + 2, { device: 'A' })], T0 + 2); // u1 holds Other: LIVE {} → A
      expect(engine.query(split(60, 'device'), T0 + 2).splits).toEqual({ device: [['A', 1]] });
      engine.record([act('u2', T0 + 2, { device: 'B' })], T0 + 2); // LIVE {A} → Other
      expect(engine.query(split(60, 'device'), T0 + 2).splits).toEqual({
        device: [
          ['A', 1],
          ['Other', 1],
        ],
      });
    });

    it('does not let an activity that is not a latest one take a slot', () => {
      const engine = engineWith({ valueCap: 2 });
      engine.record([act('u1', T0, { sessionSource: 'A' })], T0);
      engine.record([act('u1', T0 - 10, { sessionSource: 'B' })], T0); // late: u1 still holds A
      engine.record([act('u2', T0, { sessionSource: 'C' })], T0); // LIVE {A} → C
      expect(engine.query(split(60, 'session_source'), T0).splits).toEqual({
        session_source: [
          ['A', 1],
          ['C', 1],
        ],
      });
    });
  });

  describe('splits', () => {
    it('orders by users descending then value ascending (code-unit order), keys in request order', () => {
      const engine = engineWith({});
      engine.record(
        ['b', 'B', 'a', 'A', 'z', 'z', 'Zeta'].map((browser, i) => act(`u${i}`, T0, { browser })),
        T0,
      );
      const result = engine.query(split(60, 'os', 'browser'), T0);
      expect(Object.keys(result.splits)).toEqual(['os', 'browser']);
      expect(result).toEqual({
        count: 7,
        splits: {
          os: [['Unknown', 7]],
          browser: [
            ['z', 2],
            ['A', 1],
            ['B', 1],
            ['Zeta', 1],
            ['a', 1],
            ['b', 1],
          ],
        },
      });
      // u4 and u5 (the two z users) move to a: z drops to zero and disappears.
      engine.record([act('u4', T0 + 1, { browser: 'a' }), act('u5', T0 + 1, { browser: 'a' })], T0 + 1);
      const moved = engine.query(split(60, 'browser', 'os'), T0 + 1);
      expect(Object.keys(moved.splits)).toEqual(['browser', 'os']);
      expect(moved.splits).toEqual({
        browser: [
          ['a', 3],
          ['A', 1],
          ['B', 1],
          ['Zeta', 1],
          ['b', 1],
        ],
        os: [['Unknown', 7]],
      });
      // (T0, T0+1]: only u4 and u5.
      expect(engine.query(split(1, 'browser'), T0 + 1).splits).toEqual({ browser: [['a', 2]] });
    });

    it('answers an empty splits object and no optional fields when nothing extra is asked', () => {
      const engine = engineWith({});
      engine.record([act('u1', T0, { browser: 'Chrome' })], T0);
      const result = engine.query(q(300), T0);
      expect(result).toStrictEqual({ count: 1, splits: {} });
    });
  });

  describe('new-user splits', () => {
    it('restricts the splits to new users, in request order', () => {
      const engine = engineWith({ seen: { r1: T0 - 5000 } });
      engine.record(
        [
          act('r1', T0, { browser: 'Chrome' }),
          act('n1', T0, { browser: 'Chrome' }),
          act('n2', T0, { browser: 'Safari' }),
        ],
        T0,
      );
      const result = engine.query(q(60, { userType: true, splits: ['browser', 'device'] }), T0);
      expect(result).toEqual({
        count: 3,
        userType: { new: 2, returning: 1 },
        splits: {
          browser: [
            ['Chrome', 2],
            ['Safari', 1],
          ],
          device: [['Unknown', 3]],
        },
        newSplits: {
          browser: [
            ['Chrome', 1],
            ['Safari', 1],
          ],
          device: [['Unknown', 2]],
        },
      });
      expect(Object.keys(result.newSplits ?? {})).toEqual(['browser', 'device']);
    });

    it('is absent without userType or without splits', () => {
      const engine = engineWith({});
      engine.record([act('n1', T0, { os: 'iOS' })], T0);
      expect(engine.query(q(60, { userType: true }), T0)).toStrictEqual({
        count: 1,
        userType: { new: 1, returning: 0 },
        splits: {},
      });
      expect(engine.query(split(60, 'os'), T0)).toStrictEqual({ count: 1, splits: { os: [['iOS', 1]] } });
    });

    it('holds empty splits when no active user is new', () => {
      const engine = engineWith({ seen: { r1: T0 - 5000 } });
      engine.record([act('r1', T0, { os: 'iOS' })], T0);
      expect(engine.query(q(60, { userType: true, splits: ['os'] }), T0)).toStrictEqual({
        count: 1,
        userType: { new: 0, returning: 1 },
        splits: { os: [['iOS', 1]] },
        newSplits: { os: [] },
      });
    });
  });

  describe('timeline', () => {
    function emptyTimeline(lastMinuteStart: number): TimelinePoint[] {
      return Array.from({ length: 30 }, (_, i) => ({ ts: lastMinuteStart - (29 - i) * 60, count: 0 }));
    }

    it('counts distinct users per calendar minute over the last 30 minutes, whatever the window', () => {
      const engine = engineWith({ horizonSeconds: 1800 });
      const now = T0 + 30;
      engine.record(
        [
          act('u1', T0 + 5),
          act('u1', T0 + 20), // same minute as T0+5: still one user
          act('u2', T0 - 1), // minute T0-60
          act('u1', T0 - 60), // minute T0-60
          act('u3', T0 - 1740), // oldest minute shown: T0 - 29*60
          act('u4', T0 - 1741), // one minute too old for the timeline, yet within the horizon
        ],
        now,
      );
      const expected = emptyTimeline(T0);
      expected[0] = { ts: T0 - 1740, count: 1 };
      expected[28] = { ts: T0 - 60, count: 2 };
      expected[29] = { ts: T0, count: 1 };
      // The window only sets count: (T0-30, T0+30] holds u1 and u2.
      expect(engine.query(q(60, { timeline: true }), now)).toEqual({
        count: 2,
        splits: {},
        timeline: expected,
      });

      // One minute later the series shifts by one point; u3's minute leaves it.
      const later = emptyTimeline(T0 + 60);
      later[27] = { ts: T0 - 60, count: 2 };
      later[28] = { ts: T0, count: 1 };
      expect(engine.query(q(1800, { timeline: true }), T0 + 90).timeline).toEqual(later);
    });
  });

  describe('maintain', () => {
    it('never changes an answer', () => {
      const queries: NowQuery[] = [
        q(60, { userType: true, splits: ['browser', 'os'], timeline: true }),
        q(1800, { userType: true, splits: ['device'] }),
        q(1),
      ];
      const run = (withMaintain: boolean) => {
        const engine = engineWith({ valueCap: 2, seen: { u2: T0 - 9000 } });
        const answers: unknown[] = [];
        const steps: [number, Activity[]][] = [
          [T0, [act('u1', T0, { browser: 'A' }), act('u2', T0 - 5, { browser: 'B' })]],
          [T0 + 1000, [act('u3', T0 + 1000, { browser: 'C' })]],
          [T0 + 2000, [act('u1', T0 + 1990, { browser: 'C' }), act('u4', T0 + 100, { browser: 'D' })]],
          [T0 + 9000, [act('u2', T0 + 9000, { browser: 'E' })]],
        ];
        for (const [now, batch] of steps) {
          if (withMaintain) engine.maintain(now, 1);
          engine.record(batch, now);
          if (withMaintain) engine.maintain(now, 1000);
          for (const query of queries) answers.push(engine.query(query, now));
        }
        return answers;
      };
      const without = run(false);
      expect(run(true)).toEqual(without);
      // A spot check of the last answer, by hand: at T0+9000 only u2 is active; first seen T0-9000.
      expect(without[without.length - 1]).toEqual({ count: 1, splits: {} });
      expect(without[without.length - 2]).toEqual({
        count: 1,
        userType: { new: 0, returning: 1 },
        splits: { device: [['Unknown', 1]] },
        newSplits: { device: [] },
      });
    });
  });
});
