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
  return backendStoreHarness(redisBackend, async () => {
    await flushAll(deployment);
    // The Redis backend keeps nothing on disk.
    return { target: deployment.target(), dataDir: '', cleanup: async () => {} };
  });
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

describeEachRedisDeployment('Redis conformance', (deployment, label) => {
  describeStoreConformance(label, storeHarness(deployment));
  describeAccountRegistryConformance(`${label}, cacheMs ${CACHE_MS}`, registryHarness(deployment, CACHE_MS));
  // A registry that never caches sees every change at once: the suite then allows no staleness.
  describeAccountRegistryConformance(`${label}, cacheMs 0`, registryHarness(deployment, 0));
});
