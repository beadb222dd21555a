import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountRegistry } from './accounts/account-registry.js';
import { RedisAccountRegistry } from './accounts/redis-account-registry.js';
import { SqliteAccountRegistry } from './accounts/sqlite-account-registry.js';
import type { ServeConfig, StorageConfig, StoreConfig } from './config.js';
import { ActivityDatabase } from './store/embedded/activity-database.js';
import { EmbeddedStore } from './store/embedded/embedded-store.js';
import { RedisConnection, type RedisTarget } from './store/redis/redis-connection.js';
import { RedisStore } from './store/redis/redis-store.js';
import type { Store } from './store/store.js';

/** The SQLite files of the embedded backend, inside the data directory. */
export const ACCOUNTS_FILE = 'activenow.db';
export const ACTIVITY_FILE = 'activity.db';

/** How long a one-shot command (the CLI's) waits for Redis before giving up. */
const CLI_CONNECT_TIMEOUT_MS = 5000;

/** Accounts and activity of one backend, as `serve` uses them. */
export interface Backend {
  readonly accounts: AccountRegistry;
  readonly store: Store;
  /** Replays the activity log (embedded) or connects (Redis); the API answers 503 until then. */
  recover(): Promise<void>;
  /** Housekeeping the backend wants from time to time, at time `now` (epoch seconds). */
  maintain(now: number): void;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Told of storage problems that no request sees (a lost Redis connection). */
  readonly onStorageError?: (error: Error) => void;
}

/** The one place where backends are chosen from configuration. */
export function openBackend(config: ServeConfig, options: BackendOptions = {}): Backend {
  const target = redisTarget(config.store);
  if (target === undefined) {
    const accounts = openSqliteAccounts(config);
    const store = new EmbeddedStore({
      horizonSeconds: config.horizonSeconds,
      valueCap: config.valueCap,
      database: new ActivityDatabase(
        join(config.dataDir, ACTIVITY_FILE),
        config.durability,
        config.pageCacheMib,
      ),
    });
    return {
      accounts,
      store,
      recover: () => store.recover(),
      maintain: (now) => store.maintain(now),
      close: async () => {
        await store.close();
        await accounts.close();
      },
    };
  }
  const connection = new RedisConnection(target, { onError: options.onStorageError });
  const store = new RedisStore({
    connection,
    horizonSeconds: config.horizonSeconds,
    valueCap: config.valueCap,
  });
  return {
    accounts: new RedisAccountRegistry(connection),
    store,
    recover: () => store.recover(),
    maintain: () => {},
    close: () => connection.close(),
  };
}

/** The account registry alone, for one-shot commands; closing it releases its storage. */
export async function openAccounts(config: StorageConfig): Promise<AccountRegistry> {
  const target = redisTarget(config.store);
  if (target === undefined) return openSqliteAccounts(config);
  const connection = new RedisConnection(target);
  await connection.connect(CLI_CONNECT_TIMEOUT_MS);
  return new RedisAccountRegistry(connection, { ownsConnection: true });
}

function openSqliteAccounts(config: StorageConfig): SqliteAccountRegistry {
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteAccountRegistry(join(config.dataDir, ACCOUNTS_FILE));
}

function redisTarget(store: StoreConfig): RedisTarget | undefined {
  return store.kind === 'embedded' ? undefined : store;
}
