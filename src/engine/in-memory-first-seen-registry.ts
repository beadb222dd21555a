import type { FirstSeenRegistry } from './first-seen-registry.js';

/** A registry that lives as long as the process; for tests, benchmarks and ephemeral use. */
export class InMemoryFirstSeenRegistry implements FirstSeenRegistry {
  private readonly firstSeen = new Map<string, number>();

  get(user: string): number | undefined {
    return this.firstSeen.get(user);
  }

  remember(user: string, ts: number): void {
    const known = this.firstSeen.get(user);
    if (known === undefined || ts < known) this.firstSeen.set(user, ts);
  }

  get size(): number {
    return this.firstSeen.size;
  }
}
