import type { FirstSeenRegistry } from './first-seen-registry.js';
import { IdTable, PAYLOAD, PREPARE_LIMIT } from './id-table.js';

/**
 * A registry that lives as long as the process; for tests, benchmarks and ephemeral use. Times are
 * epoch seconds below 2^32, as the engine's are. Ids are kept as words in an IdTable rather than as
 * strings in a Map: a lookup reads one place in memory instead of three or four, and `prefetch`
 * reads the places of a whole batch at once, so that `observe` then finds them in the cache.
 */
export class InMemoryFirstSeenRegistry implements FirstSeenRegistry {
  private readonly firstSeen = new IdTable(1);

  observe(user: string, ts: number): number {
    const table = this.firstSeen;
    table.prepareOne(user);
    const index = table.indexOfPrepared(0);
    if (index < 0) {
      const added = table.addPrepared(0);
      table.words[added * table.recordWords + PAYLOAD] = ts;
      return ts;
    }
    const at = index * table.recordWords + PAYLOAD;
    const known = table.words[at];
    if (known <= ts) return known;
    table.words[at] = ts;
    return ts;
  }

  prefetch(users: readonly string[]): void {
    for (let from = 0; from < users.length; from += PREPARE_LIMIT) {
      this.firstSeen.prepare(users, from, Math.min(PREPARE_LIMIT, users.length - from));
    }
  }

  get size(): number {
    return this.firstSeen.size;
  }
}
