import { existsSync } from 'node:fs';
import { createClient, createCluster } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RedisCluster,
  type RedisClusterOptions,
  redisCommand,
  startRedisCluster,
  startRedisServer,
} from '../../support/redis-servers.js';
import { describeWithRedis } from '../support/describe-with-redis.js';

/**
 * The Redis test helpers, checked with the real `redis` client: servers that answer, come back on
 * their port after kill -9, and clusters that spread keys, fail over and move slots while a client
 * keeps reading and writing.
 */

/** What the current test started: ended after it, whatever its outcome, newest first. */
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function client(url: string) {
  const connection = createClient({ url });
  // A killed server shows up as an error event; the client reconnects on its own.
  connection.on('error', () => {});
  cleanups.push(() => connection.destroy());
  return connection.connect();
}

async function cluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const started = await startRedisCluster(options);
  cleanups.push(() => started.stop());
  return started;
}

async function clusterClient(started: RedisCluster) {
  const connection = createCluster({ rootNodes: started.nodes.map((node) => ({ url: node.url })) });
  connection.on('error', () => {});
  cleanups.push(() => connection.destroy());
  return connection.connect();
}

describeWithRedis('redis test servers', () => {
  describe('a single server', () => {
    it('answers SET and GET; stop() ends it and removes its directory', async () => {
      const server = await startRedisServer();
      cleanups.push(() => server.stop());
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      const redis = await client(server.url);
      await redis.set('greeting', 'hello');
      expect(await redis.get('greeting')).toBe('hello');

      await server.stop();
      expect(server.isRunning()).toBe(false);
      expect(existsSync(server.dir)).toBe(false);
    });

    it('comes back on the same port after kill(), with what its append-only file kept', async () => {
      const server = await startRedisServer({ appendonly: true, args: ['--appendfsync', 'always'] });
      cleanups.push(() => server.stop());
      const redis = await client(server.url);
      await redis.set('kept', 'yes');

      await server.kill();
      expect(server.isRunning()).toBe(false);
      expect(existsSync(server.dir)).toBe(true);
      await server.restart();

      // The client connected before the kill reconnects to the same port by itself.
      expect(await redis.get('kept')).toBe('yes');
      expect(server.log()).toContain('Ready to accept connections');
    });
  });

  describe('a cluster', () => {
    it('spreads keys with different hash tags over its three masters', async () => {
      const started = await cluster();
      expect(started.storeUrl).toMatch(/^redis-cluster:\/\/127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$/);
      for (const node of started.nodes) {
        expect(String(await redisCommand(node, 'CLUSTER', 'INFO'))).toMatch(/^cluster_state:ok\r?$/m);
      }
      const redis = await clusterClient(started);
      const keys = Array.from({ length: 30 }, (_, i) => `{user-${i}}:seen`);
      for (const key of keys) await redis.set(key, key);

      const masters = await started.masters();
      expect(masters).toHaveLength(3);
      const held = await Promise.all(
        masters.map(async (node) => (await redisCommand(node, 'KEYS', '*')) as string[]),
      );
      for (const keysOfOneMaster of held) expect(keysOfOneMaster.length).toBeGreaterThan(0);
      expect(held.flat().sort()).toEqual([...keys].sort());
      expect(await Promise.all(keys.map((key) => redis.get(key)))).toEqual(keys);
    });

    it('migrateSlot() moves a slot with its keys, and the client follows', async () => {
      const started = await cluster();
      const redis = await clusterClient(started);
      // More keys than one MIGRATE batch.
      const keys = Array.from({ length: 250 }, (_, i) => `{moving}:${i}`);
      await Promise.all(keys.map((key) => redis.set(key, key)));
      const slot = await started.keySlot('{moving}');
      const from = await started.slotOwner(slot);
      const to = (await started.masters()).find((node) => node.id !== from.id);
      if (to === undefined) throw new Error('no other master');

      await started.migrateSlot(slot, from, to);

      expect((await started.slotOwner(slot)).id).toBe(to.id);
      expect(await redisCommand(from, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot))).toBe(0);
      expect(await redisCommand(to, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot))).toBe(keys.length);
      expect(await Promise.all(keys.map((key) => redis.get(key)))).toEqual(keys);
      await redis.set('{moving}:new', 'here');
      expect(await redisCommand(to, 'GET', '{moving}:new')).toBe('here');
    });

    it('failover() promotes a replica, and the client follows', async () => {
      const started = await cluster({ replicasPerMaster: 1 });
      expect(started.nodes).toHaveLength(6);
      const masters = await started.masters();
      expect(masters).toHaveLength(3);
      for (const master of masters) expect(await started.replicasOf(master)).toHaveLength(1);
      const redis = await clusterClient(started);
      const key = '{failover}:value';
      await redis.set(key, 'before');
      const slot = await started.keySlot(key);
      const oldMaster = await started.slotOwner(slot);
      const [replica] = await started.replicasOf(oldMaster);

      await started.failover(replica);

      expect((await started.slotOwner(slot)).id).toBe(replica.id);
      expect((await started.replicasOf(replica)).map((node) => node.id)).toEqual([oldMaster.id]);
      expect(await redis.get(key)).toBe('before');
      await redis.set(key, 'after');
      expect(await redisCommand(replica, 'GET', key)).toBe('after');
    });
  });
});
