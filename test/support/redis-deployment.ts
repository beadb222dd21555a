import { afterAll, beforeAll } from 'vitest';
import type { AccountRegistry } from '../../src/accounts/account-registry.js';
import { RedisAccountRegistry } from '../../src/backends/redis/redis-account-registry.js';
import { RedisConnection, type RedisTarget } from '../../src/backends/redis/redis-connection.js';
import {
  type RedisAddress,
  type RedisCluster,
  type RedisServer,
  redisCommand,
  startRedisCluster,
  startRedisServer,
} from '../../support/redis-servers.js';
import { describeWithRedis } from './describe-with-redis.js';

/** A Redis server or cluster a test file started: where the backend connects, and what to empty. */
export interface RedisDeployment {
  target(): RedisTarget;
  /** The servers holding data now (the masters of a cluster). */
  servers(): Promise<RedisAddress[]>;
}

/**
 * Runs `body` twice, each in a describe block of its own: against a redis-server and against a
 * three-master Redis Cluster, which the block starts before its tests and stops after them.
 */
export function describeEachRedisDeployment(
  name: string,
  body: (deployment: RedisDeployment, label: string) => void,
): void {
  describeWithRedis(`${name} (single node)`, () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(async () => {
      await server?.stop();
    });
    body(
      { target: () => ({ kind: 'redis', url: server.url }), servers: async () => [server] },
      'Redis (single node)',
    );
  });
  describeWithRedis(`${name} (cluster)`, () => {
    let cluster: RedisCluster;
    let masters: RedisAddress[];
    beforeAll(async () => {
      cluster = await startRedisCluster({ masters: 3 });
      masters = await cluster.masters();
    });
    afterAll(async () => {
      await cluster?.stop();
    });
    body(
      {
        target: () => ({
          kind: 'redis-cluster',
          nodes: cluster.nodes.map(({ host, port }) => ({ host, port })),
        }),
        // Nothing here fails over: the masters found when the cluster started stay the masters.
        servers: async () => masters,
      },
      'Redis Cluster (3 masters)',
    );
  });
}

export async function flushAll(deployment: RedisDeployment): Promise<void> {
  for (const server of await deployment.servers()) await redisCommand(server, 'FLUSHALL');
}

/** A registry on its own connection, as another node or a one-shot CLI command would have it. */
export async function connectRegistry(
  deployment: RedisDeployment,
  options: ConstructorParameters<typeof RedisAccountRegistry>[1],
): Promise<AccountRegistry> {
  const connection = new RedisConnection(deployment.target());
  await connection.connect();
  return new RedisAccountRegistry(connection, { ...options, ownsConnection: true });
}
