/**
 * A token bucket per account: `perSecond` on average, bursts up to twice that. It bounds browser
 * hits (the public token is in every page, so this is what bounds what a stranger can add to an
 * account) and, when configured, every authenticated request of an account.
 */
export class RateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.capacity = 2 * perSecond;
  }

  /** Takes one token from the account's bucket; false when it is empty. */
  take(account: string): boolean {
    const now = this.nowMs();
    let bucket = this.buckets.get(account);
    if (bucket === undefined) {
      bucket = { tokens: this.capacity, at: now };
      this.buckets.set(account, bucket);
    }
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
