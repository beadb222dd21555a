import { ApiError } from '../model/api-errors.js';

/** Seconds a client told to back off should wait before trying again. */
const RETRY_AFTER_SECONDS = '1';

/** Bounds the requests each account has in flight, so one account cannot occupy the server. */
export class InFlightLimit {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly maxPerAccount: number) {}

  /** Takes a place for `account` or throws 429; the returned function gives it back (once). */
  acquire(account: string): () => void {
    const current = this.inFlight.get(account) ?? 0;
    if (current >= this.maxPerAccount) {
      throw new ApiError('tooManyConcurrent', {}, { 'retry-after': RETRY_AFTER_SECONDS });
    }
    this.inFlight.set(account, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(account) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(account);
      else this.inFlight.set(account, left);
    };
  }
}
