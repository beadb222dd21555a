import { describe, expect, it } from 'vitest';
import { ActiveUsersEngine } from '../../src/engine/active-users-engine.js';
import type { FirstSeenRegistry } from '../../src/engine/first-seen-registry.js';
import { StateFormatError, StateReader, StateWriter } from '../../src/engine/state-stream.js';
import type { Activity } from '../../src/model/activity.js';
import type { NowQuery, NowResult } from '../../src/model/now-query.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';

/**
 * An engine's exported state (for checkpoints) given to a new engine: the new one answers, records
 * and forgets exactly as the original from then on, and a state it cannot take is refused. (The
 * engine itself is held to the naive oracle elsewhere; with thousands of users the oracle is slow.)
 */

const T0 = 1_764_000_000;
const HORIZON = 1800;
const VALUE_CAP = 4;
const QUERIES: readonly NowQuery[] = [
  { window: 300, userType: true, splits: DIMENSIONS, timeline: true },
  { window: 1800, userType: true, splits: DIMENSIONS, timeline: false },
];

/** First-seen times in a Map, so that a second registry can start with the same times. */
class MapRegistry implements FirstSeenRegistry {
  constructor(readonly times = new Map<string, number>()) {}

  observe(user: string, ts: number): number {
    const known = this.times.get(user);
    if (known !== undefined && known <= ts) return known;
    this.times.set(user, ts);
    return ts;
  }
}

function engine(registry: FirstSeenRegistry, options: { horizonSeconds?: number; valueCap?: number } = {}) {
  return new ActiveUsersEngine({
    registry,
    horizonSeconds: options.horizonSeconds ?? HORIZON,
    valueCap: options.valueCap ?? VALUE_CAP,
  });
}

function exported(source: ActiveUsersEngine): Buffer {
  const out = new StateWriter();
  source.exportState(out);
  return Buffer.concat(out.finish());
}

const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'Edge', 'Opera', 'Brave', undefined];
const OSES = ['Android', 'iOS', 'Windows', 'Linux', 'macOS', 'ChromeOS', undefined];

/**
 * Batches of random activity from `t`: thousands of users (the user table grows, and shrinks once
 * they leave), ids short, too long for a record, and beyond Latin-1, values past the cap, late ones.
 */
function* batches(random: () => number, t: number, count: number): Generator<[Activity[], number]> {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  for (let b = 0; b < count; b++) {
    t += Math.floor(random() * 60);
    const activities = Array.from({ length: 1 + Math.floor(random() * 200) }, (): Activity => {
      const n = Math.floor(random() * 4000);
      const kind = random();
      return {
        user: kind < 0.6 ? `u${n}` : kind < 0.85 ? `an-identifier-longer-than-a-record-${n}` : `ユーザー${n}`,
        ts: random() < 0.8 ? t : t - Math.floor(random() * 1200),
        browser: pick(BROWSERS),
        os: pick(OSES),
        sessionSource: `source ${Math.floor(random() * 6)}\ud800`,
      };
    });
    yield [activities, t];
  }
}

function answers(counter: { query(q: NowQuery, now: number): NowResult }, now: number): NowResult[] {
  return QUERIES.map((query) => counter.query(query, now));
}

describe('ActiveUsersEngine exportState / importState', () => {
  it('a new engine given the state answers, records and forgets as the original', () => {
    const random = seededRandom(42);
    const registry = new MapRegistry();
    const original = engine(registry);
    let t = T0;
    for (const [activities, now] of batches(random, T0, 120)) {
      original.record(activities, now);
      if (random() < 0.3) original.maintain(now, 500);
      t = now;
    }
    expect(original.trackedUsers).toBeGreaterThan(1000);
    const state = exported(original);
    const copy = engine(new MapRegistry(new Map(registry.times)));
    copy.importState(new StateReader(state));
    // The very same bytes: nothing is lost or reordered on the way.
    expect(Buffer.from(exported(copy)).equals(state)).toBe(true);
    expect(answers(copy, t + 1)).toEqual(answers(original, t + 1));
    expect(answers(copy, t + 1)[0].count).toBeGreaterThan(100);

    // Three horizons more: every user leaves and others come; sweeps shrink the table.
    for (const [activities, now] of batches(random, t + 2, 300)) {
      original.record(activities, now);
      copy.record(activities, now);
      if (random() < 0.3) {
        original.maintain(now, 2000);
        copy.maintain(now, 2000);
      }
      t = now;
      if (random() < 0.1) expect(answers(copy, now)).toEqual(answers(original, now));
    }
    expect(Buffer.from(exported(copy)).equals(exported(original))).toBe(true);
  });

  it('refuses a truncated state, one with bytes left over, and one of another horizon or value cap', () => {
    const random = seededRandom(7);
    const original = engine(new MapRegistry());
    for (const [activities, now] of batches(random, T0, 20)) original.record(activities, now);
    const state = exported(original);
    const take =
      (bytes: Uint8Array, options = {}) =>
      () => {
        const reader = new StateReader(bytes);
        engine(new MapRegistry(), options).importState(reader);
        reader.end();
      };
    expect(take(state)).not.toThrow();
    expect(take(state.subarray(0, state.length - 8))).toThrow(StateFormatError);
    expect(take(Buffer.concat([state, Buffer.alloc(8)]))).toThrow(/bytes left over/);
    expect(take(state, { horizonSeconds: 3600 })).toThrow(/another horizon/);
    expect(take(state, { valueCap: 5 })).toThrow(/another value cap/);
  });
});
