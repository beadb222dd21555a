import type { Store } from '../store/store.js';
import type { AppMetrics, StoreOperation } from './metrics.js';

/** `store`, timing `record` and `now` into `metrics` and telling it which accounts record. */
export function instrumentStore(store: Store, metrics: AppMetrics): Store {
  async function timed<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      metrics.observeStore(operation, (performance.now() - started) / 1000);
    }
  }
  return {
    record(account, activities, at) {
      metrics.noteRecording(account, at);
      return timed('record', () => store.record(account, activities, at));
    },
    now: (account, query, at) => timed('now', () => store.now(account, query, at)),
    splitNames: store.splitNames,
    answerStamp: store.answerStamp?.bind(store),
    dropAccount: (account) => store.dropAccount(account),
    readiness: () => store.readiness(),
    close: () => store.close(),
  };
}
