import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryFirstSeenRegistry } from '../../src/engine/in-memory-first-seen-registry.js';

/** The registry against a Map of earliest times, with and without prefetches, past many resizes. */

function observeWithMap(map: Map<string, number>, user: string, ts: number): number {
  const known = map.get(user);
  if (known !== undefined && known <= ts) return known;
  map.set(user, ts);
  return ts;
}

describe('InMemoryFirstSeenRegistry', () => {
  it('returns the earliest time of each user, like a Map, whatever the prefetches', () => {
    const observation = fc.record({
      user: fc.integer({ min: 0, max: 60 }),
      ts: fc.integer({ min: 1_700_000_000, max: 1_700_000_100 }),
    });
    const step = fc.oneof(
      { weight: 5, arbitrary: observation },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 80 }), { maxLength: 20 }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80, size: 'max' }), (steps) => {
        const registry = new InMemoryFirstSeenRegistry();
        const map = new Map<string, number>();
        for (const s of steps) {
          if (Array.isArray(s)) registry.prefetch(s.map((u) => `user-${u}`));
          else
            expect(registry.observe(`user-${s.user}`, s.ts)).toBe(
              observeWithMap(map, `user-${s.user}`, s.ts),
            );
        }
        expect(registry.size).toBe(map.size);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every time while it grows, including the one whose addition made it grow', () => {
    const registry = new InMemoryFirstSeenRegistry();
    const map = new Map<string, number>();
    const users = Array.from({ length: 50_000 }, (_, i) =>
      i % 3 === 0 ? `long-${'u'.repeat(30)}-${i}` : `u${i}`,
    );
    for (let i = 0; i < users.length; i += 1000) {
      const batch = users.slice(i, i + 1000);
      registry.prefetch(batch);
      for (const [j, user] of batch.entries())
        observeWithMap(map, user, registry.observe(user, 2_000_000 + j));
    }
    for (const [user, first] of map) expect(registry.observe(user, 3_000_000)).toBe(first);
    expect(registry.size).toBe(users.length);
  });
});
