import { DIMENSIONS } from '../model/dimensions.js';

const INITIAL_CAPACITY = 1024;
const DIMS = DIMENSIONS.length;

/**
 * The users an engine holds, as parallel typed arrays indexed by a small integer per user, so a
 * user costs its key, one Map entry and 20 bytes of state. Index slots of removed users are reused.
 */
export class UserTable {
  private readonly indexByUser = new Map<string, number>();
  private readonly freeIndexes: number[] = [];
  private nextIndex = 0;
  private sweeper: Iterator<[string, number]> | undefined;

  /** Epoch second of each user's latest activity. */
  latest = new Uint32Array(INITIAL_CAPACITY);
  /** Epoch second of each user's first-ever activity, as far as known. */
  first = new Uint32Array(INITIAL_CAPACITY);
  /** DIMENSIONS.length slots per user: the dimension values of its latest activity. */
  dims = new Uint16Array(INITIAL_CAPACITY * DIMS);
  /** Minutes the user was active in, relative to the minute of its latest activity (MinuteTimeline). */
  minuteMasks = new Uint32Array(INITIAL_CAPACITY);

  get size(): number {
    return this.indexByUser.size;
  }

  indexOf(user: string): number | undefined {
    return this.indexByUser.get(user);
  }

  /** Adds a user that is not in the table and returns its index; its state must be written next. */
  add(user: string): number {
    let index = this.freeIndexes.pop();
    if (index === undefined) {
      index = this.nextIndex++;
      if (index >= this.latest.length) this.grow();
    }
    this.indexByUser.set(user, index);
    return index;
  }

  /**
   * Looks at up to `budget` users, continuing where the last call stopped, and removes those for
   * which `isExpired(index)` holds. Returns how many were removed.
   */
  sweep(budget: number, isExpired: (index: number) => boolean): number {
    let removed = 0;
    let restarted = false;
    for (let seen = 0; seen < budget; seen++) {
      this.sweeper ??= this.indexByUser.entries();
      const next = this.sweeper.next();
      if (next.done) {
        this.sweeper = undefined;
        if (restarted) break;
        restarted = true;
        continue;
      }
      const [user, index] = next.value;
      if (isExpired(index)) {
        this.indexByUser.delete(user);
        this.freeIndexes.push(index);
        removed++;
      }
    }
    return removed;
  }

  private grow(): void {
    const capacity = this.latest.length * 2;
    this.latest = grown(this.latest, new Uint32Array(capacity));
    this.first = grown(this.first, new Uint32Array(capacity));
    this.dims = grown(this.dims, new Uint16Array(capacity * DIMS));
    this.minuteMasks = grown(this.minuteMasks, new Uint32Array(capacity));
  }
}

function grown<T extends Uint32Array | Uint16Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
