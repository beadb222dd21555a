import { DEFAULT_PAGE_CACHE_MIB } from '../../src/defaults.js';
import type { Backend, BackendFactory } from '../../src/store/backend.js';
import type { OpenedStore, StoreHarness } from './store-conformance.js';

/** Fresh, empty storage for one opening of a backend. */
export interface PreparedStorage<Target> {
  readonly target: Target;
  /** The data directory `serve` would be given ('' for a backend that keeps nothing on disk). */
  readonly dataDir: string;
  /** Removes what `prepare` made. */
  cleanup(): Promise<void>;
}

/**
 * The store of a backend opened as `serve` opens it, through the backend's factory: the conformance
 * suite then checks the backend that runs, wiring included. reopen() opens the factory again over
 * the same storage, as a restarted node (or another node) would.
 */
export function backendStoreHarness<Target>(
  factory: BackendFactory<Target>,
  prepare: () => Promise<PreparedStorage<Target>>,
  extensions: StoreHarness['extensions'],
): StoreHarness {
  return {
    extensions,
    async open(limits): Promise<OpenedStore> {
      const storage = await prepare();
      const start = async (): Promise<Backend> => {
        const backend = factory.open(
          storage.target,
          {
            ...limits,
            dataDir: storage.dataDir,
            durability: 'process',
            pageCacheMib: DEFAULT_PAGE_CACHE_MIB,
          },
          {},
        );
        await backend.recover();
        return backend;
      };
      let backend = await start();
      return {
        store: backend.store,
        async reopen() {
          await backend.close();
          backend = await start();
          return backend.store;
        },
        async cleanup() {
          await backend.close();
          await storage.cleanup();
        },
      };
    },
  };
}
