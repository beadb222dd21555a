/** Browser hits accepted per second and account by default (bursts up to twice). */
export const DEFAULT_MAX_HITS_PER_SECOND = 1000;

/**
 * A token bucket per account for public hits: `perSecond` on average, bursts up to twice that.
 * The public token is in every page, so this is what bounds what a stranger can add to an account.
 */
export class HitRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.capacity = 2 * perSecond;
  }

  /** Takes one hit from the account's bucket; false when it is empty. */
  take(account: string): boolean {
    const now = this.nowMs();
    const bucket = this.buckets.get(account) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(account, bucket);
      return false;
    }
    bucket.tokens -= 1;
    this.buckets.set(account, bucket);
    return true;
  }
}
