import type { AccountRegistry } from '../../src/accounts/account-registry.js';
import { RedisAccountRegistry } from '../../src/backends/redis/redis-account-registry.js';
import { RedisConnection, type RedisTarget } from '../../src/backends/redis/redis-connection.js';
import {
  type RedisAddress,
  type RedisCluster,
  type RedisServer,
  redisCommand,
} from '../../support/redis-servers.js';

/** A Redis server or cluster a test file started: where the backend connects, and what to empty. */
export interface RedisDeployment {
  target(): RedisTarget;
  /** The servers holding data now (the masters of a cluster). */
  servers(): Promise<RedisAddress[]>;
}

export function singleNode(server: () => RedisServer): RedisDeployment {
  return {
    target: () => ({ kind: 'redis', url: server().url }),
    servers: async () => [server()],
  };
}

/** Nothing here fails over: the masters found when the cluster started stay the masters. */
export function clusterDeployment(
  cluster: () => RedisCluster,
  masters: () => RedisAddress[],
): RedisDeployment {
  return {
    target: () => ({
      kind: 'redis-cluster',
      nodes: cluster().nodes.map(({ host, port }) => ({ host, port })),
    }),
    servers: async () => masters(),
  };
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
