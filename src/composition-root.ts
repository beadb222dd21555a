import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountRegistry } from './accounts/account-registry.js';
import { SqliteAccountRegistry } from './accounts/sqlite-account-registry.js';
import type { ServeConfig, StorageConfig } from './config.js';
import { InMemoryFirstSeenRegistry } from './engine/in-memory-first-seen-registry.js';
import { EmbeddedStore } from './store/embedded/embedded-store.js';

/** The SQLite file of the embedded backend, inside the data directory. */
export const DATABASE_FILE = 'activenow.db';

/** The one place where backends are chosen from configuration. */
export function openAccounts(config: StorageConfig): AccountRegistry {
  refuseUnbuiltBackends(config);
  mkdirSync(config.dataDir, { recursive: true });
  return new SqliteAccountRegistry(join(config.dataDir, DATABASE_FILE));
}

export function openStore(config: ServeConfig): EmbeddedStore {
  refuseUnbuiltBackends(config);
  return new EmbeddedStore({
    horizonSeconds: config.horizonSeconds,
    valueCap: config.valueCap,
    // Kept in memory until the durable first-seen registry lands: new/returning resets on restart.
    firstSeenRegistry: () => new InMemoryFirstSeenRegistry(),
  });
}

function refuseUnbuiltBackends(config: StorageConfig): void {
  if (config.store.kind !== 'embedded') {
    throw new Error(`--store ${config.store.kind} is not available in this version; use --store embedded`);
  }
}
