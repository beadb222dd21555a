import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountRegistry } from './accounts/account-registry.js';
import { SqliteAccountRegistry } from './accounts/sqlite-account-registry.js';
import type { ServeConfig, StorageConfig } from './config.js';
import { ActivityDatabase } from './store/embedded/activity-database.js';
import { EmbeddedStore } from './store/embedded/embedded-store.js';

/** The SQLite files of the embedded backend, inside the data directory. */
export const ACCOUNTS_FILE = 'activenow.db';
export const ACTIVITY_FILE = 'activity.db';

/** The one place where backends are chosen from configuration. */
export function openAccounts(config: StorageConfig): AccountRegistry {
  refuseUnbuiltBackends(config);
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteAccountRegistry(join(config.dataDir, ACCOUNTS_FILE));
}

/** The store, not yet recovered: call `recover()` once the server answers health checks. */
export function openStore(config: ServeConfig): EmbeddedStore {
  refuseUnbuiltBackends(config);
  mkdirSync(config.dataDir, { recursive: true });
  return new EmbeddedStore({
    horizonSeconds: config.horizonSeconds,
    valueCap: config.valueCap,
    database: new ActivityDatabase(join(config.dataDir, ACTIVITY_FILE), config.durability),
  });
}

function refuseUnbuiltBackends(config: StorageConfig): void {
  if (config.store.kind !== 'embedded') {
    throw new Error(`--store ${config.store.kind} is not available in this version; use --store embedded`);
  }
}
