import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AccountRegistry } from '../accounts/account-registry.js';
import { ApiError } from '../model/api-errors.js';
import type { Store } from '../store/store.js';
import { authenticate } from './authenticate.js';
import type { InFlightLimit } from './in-flight-limit.js';
import type { RateLimit } from './rate-limit.js';
import { assertReady } from './store-readiness.js';

export interface AdmissionOptions {
  readonly store: Store;
  readonly accounts: AccountRegistry;
  readonly region: string;
  readonly inFlight: InFlightLimit;
  /** Authenticated requests per account; undefined: no limit. */
  readonly requestRate?: RateLimit;
}

/**
 * What an authenticated request must pass before its body is read, so that requests without valid
 * credentials cost no parsing: the store ready, the credentials, the account's request rate and its
 * requests in flight. Returns the account; its place in flight is given back when `response` closes.
 */
export async function admit(
  options: AdmissionOptions,
  headers: IncomingHttpHeaders,
  response: ServerResponse,
): Promise<string> {
  assertReady(options.store);
  const account = await authenticate(headers, options.accounts, options.region);
  if (options.requestRate !== undefined && !options.requestRate.take(account)) {
    throw new ApiError('tooManyRequests', {}, { 'retry-after': '1' });
  }
  const release = options.inFlight.acquire(account);
  // A client may have gone while the credentials were looked up (Redis): its 'close' has passed.
  if (response.destroyed) release();
  else response.once('close', release);
  return account;
}
