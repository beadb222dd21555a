import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { RedisConnection } from '../../src/backends/redis/redis-connection.js';
import { RedisStore } from '../../src/backends/redis/redis-store.js';
import type { Activity } from '../../src/model/activity.js';
import { type RedisServer, redisCommand, startRedisServer } from '../../support/redis-servers.js';
import { describeWithRedis } from '../support/describe-with-redis.js';

const HORIZON = 1800;
const T0 = 1_764_000_000;
const COUNT_ONLY = { window: 300, userType: false, splits: [], timeline: false } as const;
const key = (part: string) => (part === 'first' ? 'an:{acct}:first' : `an:{acct}:v2:${part}`);

describeWithRedis('Redis store on a redis-server', () => {
  let server: RedisServer;
  let store: RedisStore;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await store?.close();
    await redisCommand(server, 'FLUSHALL');
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function openStore(): Promise<RedisStore> {
    store = new RedisStore({
      connection: new RedisConnection({ kind: 'redis', url: server.url }),
      horizonSeconds: HORIZON,
      valueCap: 256,
    });
    await store.recover();
    return store;
  }

  const users = (from: number, count: number, ts: number): Activity[] =>
    Array.from({ length: count }, (_, k) => ({ user: `u${from + k}`, ts, browser: `B${(from + k) % 5}` }));

  it('sends a script again when the server has forgotten it (restart, failover: NOSCRIPT)', async () => {
    const s = await openStore();
    await s.record('acct', users(0, 10, T0), T0);
    expect(await redisCommand(server, 'SCRIPT', 'FLUSH')).toBe('OK');
    await s.record('acct', users(10, 5, T0 + 1), T0 + 1);
    expect((await s.now('acct', COUNT_ONLY, T0 + 1)).count).toBe(15);
  });

  it('keeps the live state within the horizon: expired users are swept, old seconds deleted', async () => {
    const s = await openStore();
    // Only new users, every 10 s for three horizons: the worst case for the sweep.
    let next = 0;
    for (let at = T0; at < T0 + 3 * HORIZON; at += 10) {
      await s.record('acct', users(next, 100, at), at);
      next += 100;
    }
    const at = T0 + 3 * HORIZON - 10;
    const live = (await s.now('acct', { ...COUNT_ONLY, window: HORIZON }, at)).count;
    expect(live).toBe(100 * (HORIZON / 10));
    const tracked = Number(await redisCommand(server, 'HLEN', key('users')));
    expect(tracked).toBeGreaterThanOrEqual(live);
    expect(tracked).toBeLessThanOrEqual(2 * live + 100);
    // Counters: one field per (live second, slot) at most, plus per-minute rows and the timeline.
    const counters = (await redisCommand(server, 'HKEYS', key('counts'))) as string[];
    const seconds = new Set(
      counters.filter((f) => /^[an]\d+:/.test(f)).map((f) => Number(f.slice(1, f.indexOf(':')))),
    );
    for (const second of seconds) expect(second).toBeGreaterThan(at - HORIZON);
    // First-seen times are kept for every user ever seen.
    expect(Number(await redisCommand(server, 'HLEN', key('first')))).toBe(next);
  });

  it('gives the live keys one deadline of twice the horizon, and first-seen none', async () => {
    const s = await openStore();
    await s.record('acct', users(0, 3, T0), T0);
    await s.now('acct', COUNT_ONLY, T0);
    for (const part of ['meta', 'users', 'counts', 'slots']) {
      const ttl = Number(await redisCommand(server, 'TTL', key(part)));
      expect(ttl, part).toBeGreaterThan(2 * HORIZON - 60);
      expect(ttl, part).toBeLessThanOrEqual(2 * HORIZON);
    }
    expect(Number(await redisCommand(server, 'TTL', key('first')))).toBe(-1);
  });
});
