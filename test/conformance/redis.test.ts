import { afterAll, beforeAll } from 'vitest';
import { RedisConnection, type RedisTarget } from '../../src/backends/redis/redis-connection.js';
import { RedisStore } from '../../src/backends/redis/redis-store.js';
import {
  type RedisCluster,
  type RedisServer,
  redisCommand,
  startRedisCluster,
  startRedisServer,
} from '../../support/redis-servers.js';
import { describeWithRedis } from '../support/describe-with-redis.js';
import { describeStoreConformance, type OpenedStore, type StoreLimits } from './store-conformance.js';

/**
 * The Redis store over a redis-server (or cluster) this file starts. Each opening empties the
 * servers; reopen() connects a new store to the same data, as another stateless node would.
 */
function redisHarness(target: () => RedisTarget, flush: () => Promise<void>) {
  return {
    async open(limits: StoreLimits): Promise<OpenedStore> {
      await flush();
      const start = async (): Promise<RedisStore> => {
        const store = new RedisStore({ connection: new RedisConnection(target()), ...limits });
        await store.recover();
        return store;
      };
      let store = await start();
      return {
        store,
        async reopen() {
          await store.close();
          store = await start();
          return store;
        },
        async cleanup() {
          await store.close();
        },
      };
    },
  };
}

describeWithRedis('Redis store conformance', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  describeStoreConformance(
    'Redis (single node)',
    redisHarness(
      () => ({ kind: 'redis', url: server.url }),
      async () => {
        await redisCommand(server, 'FLUSHALL');
      },
    ),
  );
});

describeWithRedis('Redis Cluster store conformance', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  describeStoreConformance(
    'Redis Cluster (3 masters)',
    redisHarness(
      () => ({ kind: 'redis-cluster', nodes: cluster.nodes.map(({ host, port }) => ({ host, port })) }),
      async () => {
        for (const master of await cluster.masters()) await redisCommand(master, 'FLUSHALL');
      },
    ),
  );
});
