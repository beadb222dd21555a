import { describe, expect, it } from 'vitest';
import { ActiveUsersEngine } from '../../src/engine/active-users-engine.js';
import { InMemoryFirstSeenRegistry } from '../../src/engine/in-memory-first-seen-registry.js';
import type { Activity } from '../../src/model/activity.js';
import type { NowQuery } from '../../src/model/now-query.js';
import { DIMENSIONS } from '../../src/protocol/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';
import { NaiveOracle } from '../support/naive-oracle.js';

/**
 * The engine against the brute-force oracle with hundreds of users, which the property tests (a few
 * dozen users) never reach: the user table grows in the middle of batches, users of every id length
 * and width expire and are swept in small steps, the table shrinks, users come back. (The oracle's
 * time grows with the square of the activities, which bounds the size.)
 */

const BASE = 1_764_000_000;
const HORIZON = 1800;

function userId(u: number): string {
  switch (u % 4) {
    case 0:
      return `u${u}`;
    case 1:
      return `user-${u}-${'x'.repeat(u % 90)}`;
    case 2:
      return `\u7528\u6237${u}\ud83d\ude00`;
    default:
      return `${u}\u00e9`.padEnd(12 + (u % 30), '\u00ff');
  }
}

describe('engine vs naive oracle, many users', () => {
  it('gives the same answers while hundreds of users come, expire, are swept and come back', () => {
    const random = seededRandom(7);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    const users = 1200;
    const registry = new InMemoryFirstSeenRegistry();
    const preexisting = new Map<string, number>();
    for (let u = 0; u < users; u += 3) {
      registry.observe(userId(u), BASE - 5000 - u);
      preexisting.set(userId(u), BASE - 5000 - u);
    }
    const engine = new ActiveUsersEngine({ registry, horizonSeconds: HORIZON, valueCap: 3 });
    const oracle = new NaiveOracle({
      horizonSeconds: HORIZON,
      valueCap: 3,
      preexistingFirstSeen: preexisting,
    });
    const queries: NowQuery[] = [
      { window: 60, userType: true, splits: [...DIMENSIONS], timeline: true },
      { window: HORIZON, userType: true, splits: ['browser'], timeline: false },
    ];
    let now = BASE;
    let largest = 0;
    for (let step = 0; step < 12; step++) {
      // Small steps, and twice a jump past the horizon, so that everyone expires.
      now += step % 6 === 5 ? HORIZON + 100 : Math.floor(random() * 200);
      const batch: Activity[] = Array.from({ length: 60 + Math.floor(random() * 200) }, () => ({
        user: userId(Math.floor(random() * random() * users)),
        ts: now - (random() < 0.9 ? Math.floor(random() * 30) : Math.floor(random() * 2 * HORIZON)),
        sessionSource: pick(['Direct', 'Social', 'Email', 'SMS', undefined]),
        browser: pick(['Chrome', 'Safari', 'Edge']),
        os: pick(['Android', 'iOS', undefined]),
        device: pick(['Mobile', 'Desktop']),
      }));
      engine.record(batch, now);
      oracle.record(batch, now);
      largest = Math.max(largest, engine.trackedUsers);
      engine.maintain(now, 100);
      oracle.maintain(now);
      for (const query of queries) {
        expect(engine.query(query, now), `step ${step}`).toStrictEqual(oracle.query(query, now));
      }
    }
    expect(largest).toBeGreaterThan(400);
    for (let sweeps = 0; sweeps < 100 && engine.trackedUsers > 0; sweeps++)
      engine.maintain(now + HORIZON, 100);
    expect(engine.trackedUsers).toBe(0);
  });
});
