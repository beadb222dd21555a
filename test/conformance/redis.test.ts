import { describe, expect, it } from 'vitest';
import type { AccountRegistry } from '../../src/accounts/account-registry.js';
import { redisBackend } from '../../src/backends/redis/redis-backend.js';
import {
  connectRegistry,
  describeEachRedisDeployment,
  flushAll,
  type RedisDeployment,
} from '../support/redis-deployment.js';
import {
  type AccountRegistryHarness,
  describeAccountRegistryConformance,
  type OpenedRegistry,
} from './account-registry-conformance.js';
import { backendStoreHarness } from './backend-store-harness.js';
import { describeStoreConformance } from './store-conformance.js';

/**
 * The Redis backend's conformance, on a redis-server and on a three-master Redis Cluster that this
 * file starts: its store (each opening empties the servers; reopen() is another stateless node) and
 * its account registry.
 */

/** The registry's default: how long a node may answer from what it read of an account. */
const CACHE_MS = 1000;

function storeHarness(deployment: RedisDeployment) {
  return backendStoreHarness(
    redisBackend,
    async () => {
      await flushAll(deployment);
      // The Redis backend keeps nothing on disk.
      return { target: deployment.target(), dataDir: '', cleanup: async () => {} };
    },
    'refuse',
  );
}

/**
 * Each opening empties the servers; every registry it opens has its own connection and caches for
 * `cacheMs`, so another's change may take that long to show.
 */
function registryHarness(deployment: RedisDeployment, cacheMs: number): AccountRegistryHarness {
  return {
    staleMs: cacheMs,
    async open(now): Promise<OpenedRegistry> {
      await flushAll(deployment);
      const open: AccountRegistry[] = [];
      const start = async () => {
        const registry = await connectRegistry(deployment, { now, cacheMs });
        open.push(registry);
        return registry;
      };
      const registry = await start();
      let first = registry;
      return {
        registry,
        openAnother: start,
        async reopen() {
          await first.close();
          open.splice(open.indexOf(first), 1);
          first = await start();
          return first;
        },
        async cleanup() {
          for (const each of open.splice(0)) await each.close();
        },
      };
    },
  };
}

describe("the Redis backend's --store forms", () => {
  it('takes a server URL (redis or rediss, optional database) and a list of cluster nodes', () => {
    expect(redisBackend.parseStore('redis://127.0.0.1:6379')).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379',
    });
    expect(redisBackend.parseStore('rediss://cache.example:6380/2')).toEqual({
      kind: 'redis',
      url: 'rediss://cache.example:6380/2',
    });
    expect(redisBackend.parseStore('redis-cluster://a:7000,b.example:7001,10.0.0.3:7002')).toEqual({
      kind: 'redis-cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b.example', port: 7001 },
        { host: '10.0.0.3', port: 7002 },
      ],
    });
  });

  it('refuses anything else', () => {
    for (const other of [
      'embedded',
      'redis://',
      'redis://host:6379/db',
      'http://host:6379',
      'redis-cluster://',
      'redis-cluster://a:7000,b',
      'redis-cluster://a:7000,,b:7001',
      'redis-cluster://a:123456',
    ]) {
      expect(redisBackend.parseStore(other), other).toBeUndefined();
    }
  });
});

describeEachRedisDeployment('Redis conformance', (deployment, label) => {
  describeStoreConformance(label, storeHarness(deployment));
  describeAccountRegistryConformance(`${label}, cacheMs ${CACHE_MS}`, registryHarness(deployment, CACHE_MS));
  // A registry that never caches sees every change at once: the suite then allows no staleness.
  describeAccountRegistryConformance(`${label}, cacheMs 0`, registryHarness(deployment, 0));
});
