import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_INTERVAL_SECONDS } from '../../defaults.js';
import type { AccountSettings, BackendFactory } from '../../store/backend.js';
import { ActivityDatabase } from './activity-database.js';
import { Checkpoints } from './checkpoints.js';
import { EmbeddedStore } from './embedded-store.js';
import { SqliteAccountRegistry } from './sqlite-account-registry.js';

/** The SQLite files of the embedded backend, inside the data directory. */
export const ACCOUNTS_FILE = 'activenow.db';
export const ACTIVITY_FILE = 'activity.db';
/** The engines as of a batch of that log, so that a start replays only the batches after it. */
export const CHECKPOINT_FILE = 'activity.checkpoint';

/** The embedded target: everything in the data directory; `--store embedded` names nothing else. */
export type EmbeddedTarget = { readonly kind: 'embedded' };

/** One process: the engines in memory, made durable by SQLite files in the data directory. */
export const embeddedBackend: BackendFactory<EmbeddedTarget> = {
  storeForms: ['embedded'],
  parseStore: (value) => (value === 'embedded' ? { kind: 'embedded' } : undefined),
  open(_target, settings, options) {
    const accounts = openRegistry(settings);
    const database = new ActivityDatabase(
      join(settings.dataDir, ACTIVITY_FILE),
      settings.durability,
      settings.pageCacheMib,
    );
    const store = new EmbeddedStore({
      horizonSeconds: settings.horizonSeconds,
      valueCap: settings.valueCap,
      database,
      checkpoints: new Checkpoints(
        join(settings.dataDir, CHECKPOINT_FILE),
        CHECKPOINT_INTERVAL_SECONDS,
        options.onStorageEvent,
      ),
    });
    return {
      accounts,
      store,
      // Ready once the writer thread is too: the first upload does not wait for it to start.
      recover: async () => {
        await store.recover();
        await database.startWriter();
      },
      maintain: (now) => store.maintain(now),
      close: async () => {
        await store.close();
        await accounts.close();
      },
    };
  },
  openAccounts: async (_target, settings) => openRegistry(settings),
};

function openRegistry(settings: AccountSettings): SqliteAccountRegistry {
  mkdirSync(settings.dataDir, { recursive: true });
  return new SqliteAccountRegistry(join(settings.dataDir, ACCOUNTS_FILE));
}
