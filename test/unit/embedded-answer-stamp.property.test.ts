import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../../src/backends/embedded/embedded-store.js';
import type { NowQuery } from '../../src/model/now-query.js';

/**
 * `EmbeddedStore.answerStamp` lets the HTTP layer send a remembered answer again (store.ts): the
 * answer under a stamp must be the answer whenever the same stamp comes back. Random sequences of
 * recordings, queries, maintenance, drops and clock moves over two accounts check it against the
 * store's own answers, which are computed afresh every time; and a stamp must be given once a query
 * has moved the clock, or nothing would ever be remembered.
 */

const T0 = 1_764_145_200;
const ACCOUNTS = ['a', 'b'] as const;
const QUERIES: NowQuery[] = [
  { window: 300, userType: true, splits: ['browser', 'os'], timeline: true },
  { window: 60, userType: false, splits: [], timeline: false },
];

type Step =
  | { kind: 'record'; account: number; users: number[]; age: number; advance: number }
  | { kind: 'now'; account: number; advance: number }
  | { kind: 'maintain'; advance: number }
  | { kind: 'drop'; account: number };

const account = fc.integer({ min: 0, max: ACCOUNTS.length - 1 });
const advance = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 2000 }));
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      account,
      users: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
      age: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 1900 })),
      advance,
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('now' as const), account, advance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('maintain' as const), advance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), account }) },
);

async function check(store: EmbeddedStore, steps: readonly Step[]): Promise<void> {
  let at = T0;
  /** `account stamp` → the answers given under it. */
  const seen = new Map<string, string>();
  for (const s of steps) {
    if (s.kind === 'drop') {
      await store.dropAccount(ACCOUNTS[s.account]);
      continue;
    }
    at += s.advance;
    if (s.kind === 'maintain') {
      store.maintain(at);
      continue;
    }
    const id = ACCOUNTS[s.account];
    if (s.kind === 'record') {
      const browsers = ['Chrome', 'Safari', 'Firefox'];
      await store.record(
        id,
        s.users.map((user) => ({
          user: `u${user}`,
          ts: at - s.age,
          browser: browsers[user % 3],
          os: 'Linux',
        })),
        at,
      );
      continue;
    }
    const before = store.answerStamp(id, at);
    const answers = JSON.stringify(await Promise.all(QUERIES.map((query) => store.now(id, query, at))));
    const after = store.answerStamp(id, at);
    expect(after, 'a stamp once the query moved the clock').not.toBeUndefined();
    if (before !== undefined) expect(after).toBe(before);
    const key = `${id} ${after}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) expect(answers).toBe(earlier);
    else seen.set(key, answers);
  }
}

describe('EmbeddedStore.answerStamp', () => {
  it('comes back only with the same answers (in memory)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const store = new EmbeddedStore({ horizonSeconds: 1800, valueCap: 50 });
        await store.recover();
        await check(store, steps);
      }),
      { numRuns: 300 },
    );
  });

  it('comes back only with the same answers (with the log)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'activenow-answer-stamp-'));
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
          const database = new ActivityDatabase(join(dir, `store-${n++}.db`), 'process');
          const store = new EmbeddedStore({ horizonSeconds: 1800, valueCap: 50, database });
          await store.recover();
          try {
            await check(store, steps);
          } finally {
            await store.close();
          }
        }),
        { numRuns: 60 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('changes with a recording at the same second', async () => {
    const store = new EmbeddedStore({ horizonSeconds: 1800, valueCap: 50 });
    await store.recover();
    await store.now('a', QUERIES[0], T0);
    const stamp = store.answerStamp('a', T0);
    await store.record('a', [{ user: 'u', ts: T0 }], T0);
    expect(store.answerStamp('a', T0)).not.toBe(stamp);
    expect((await store.now('a', QUERIES[0], T0)).count).toBe(1);
  });
});
