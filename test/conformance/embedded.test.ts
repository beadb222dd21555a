import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivityDatabase } from '../../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../../src/backends/embedded/embedded-store.js';
import { describeStoreConformance, type OpenedStore, type StoreLimits } from './store-conformance.js';

/** The embedded store over real SQLite files, in a fresh temporary directory per opening. */
async function openEmbedded(limits: StoreLimits): Promise<OpenedStore> {
  const dir = await mkdtemp(join(tmpdir(), 'activenow-conformance-'));
  const start = async (): Promise<EmbeddedStore> => {
    const store = new EmbeddedStore({
      ...limits,
      database: new ActivityDatabase(join(dir, 'activity.db'), 'process'),
    });
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
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeStoreConformance('embedded (SQLite)', { open: openEmbedded });
