import { ApiError } from '../model/api-errors.js';
import type { Store } from '../store/store.js';

/** Throws the 503 that says why the store cannot serve yet: still starting, or storage lost. */
export function assertReady(store: Store): void {
  const readiness = store.readiness();
  if (readiness === 'starting') throw new ApiError('notReady');
  if (readiness === 'unavailable') throw new ApiError('storeUnavailable');
}
