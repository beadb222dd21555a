import type { BackendFactory } from '../../store/backend.js';
import { RedisAccountRegistry } from './redis-account-registry.js';
import { RedisConnection, type RedisTarget } from './redis-connection.js';
import { RedisStore } from './redis-store.js';

/** How long a one-shot command (the CLI's) waits for Redis before giving up. */
const CLI_CONNECT_TIMEOUT_MS = 5000;

const SINGLE_NODE = /^rediss?:\/\/[^/\s]+(\/\d+)?$/;
const CLUSTER = /^redis-cluster:\/\/(.+)$/;
const CLUSTER_NODE = /^([^:,\s]+):(\d{1,5})$/;

/** Stateless nodes sharing one Redis server or Redis Cluster: all state is there. */
export const redisBackend: BackendFactory<RedisTarget> = {
  storeForms: ['redis://HOST:PORT[/DB]', 'redis-cluster://H1:P1,H2:P2'],
  parseStore(value) {
    if (SINGLE_NODE.test(value)) return { kind: 'redis', url: value };
    const nodes = CLUSTER.exec(value)?.[1]
      .split(',')
      .map((node) => CLUSTER_NODE.exec(node));
    if (nodes?.every((node) => node !== null)) {
      return {
        kind: 'redis-cluster',
        nodes: nodes.map((node) => ({ host: node[1], port: Number(node[2]) })),
      };
    }
    return undefined;
  },
  open(target, settings, options) {
    const connection = new RedisConnection(target, { onError: options.onStorageError });
    const store = new RedisStore({
      connection,
      horizonSeconds: settings.horizonSeconds,
      valueCap: settings.valueCap,
    });
    return {
      accounts: new RedisAccountRegistry(connection),
      store,
      recover: () => store.recover(),
      maintain: () => {},
      close: () => connection.close(),
    };
  },
  async openAccounts(target) {
    const connection = new RedisConnection(target);
    await connection.connect(CLI_CONNECT_TIMEOUT_MS);
    return new RedisAccountRegistry(connection, { ownsConnection: true });
  },
};
