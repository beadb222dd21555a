import type { FirstSeenRegistry } from './first-seen-registry.js';

/** A registry that lives as long as the process; for tests, benchmarks and ephemeral use. */
export class InMemoryFirstSeenRegistry implements FirstSeenRegistry {
  private readonly firstSeen = new Map<string, number>();

  observe(user: string, ts: number): number {
    const known = this.firstSeen.get(user);
    if (known !== undefined && known <= ts) return known;
    this.firstSeen.set(user, ts);
    return ts;
  }

  get size(): number {
    return this.firstSeen.size;
  }
}
