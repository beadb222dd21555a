import { DimensionSlots } from './dimension-slots.js';
import { ENTRY_WORDS, EventLists } from './event-lists.js';
import type { StateReader, StateWriter } from './state-stream.js';
import { WindowCounters } from './window-counters.js';

const INITIAL_SLOT_WIDTH = 16;

/**
 * Distinct users per event over a sliding window (docs/semantics.md §14): a user counts once under
 * each event it did in the window. Each pair of user and event holds the latest second the user did
 * it (the user's EventLists list); counters per second and event (WindowCounters) count the pairs by
 * that second, as the engine counts users by their latest second, and the pairs of users first seen
 * in the horizon by the user's first second. Event names share one cap, as a dimension's values do.
 */
export class UserEvents {
  readonly lists = new EventLists();
  readonly slots: DimensionSlots;
  /** Pairs by the latest second the user did the event. */
  readonly active: WindowCounters;
  /** Pairs by the first second of their user, while that is within the horizon. */
  readonly newcomers: WindowCounters;
  private width = INITIAL_SLOT_WIDTH;
  private readonly livePairs = (slot: number): number => this.active.total(slot);

  constructor(horizonSeconds: number, cap: number) {
    this.slots = new DimensionSlots(cap, 1);
    this.active = new WindowCounters(horizonSeconds, INITIAL_SLOT_WIDTH);
    this.newcomers = new WindowCounters(horizonSeconds, INITIAL_SLOT_WIDTH);
  }

  advance(now: number): void {
    this.active.advance(now);
    this.newcomers.advance(now);
  }

  /** The slot of event `name`: its own, or Other once the cap is reached. */
  resolve(name: string): number {
    const slot = this.slots.resolve(0, name, this.livePairs);
    if (this.slots.size > this.width) {
      this.width = this.slots.size;
      this.active.ensureWidth(this.width);
      this.newcomers.ensureWidth(this.width);
    }
    return slot;
  }

  /** True when `slot`, resolved for `name`, is Other although the name was another. */
  isFolded(name: string, slot: number): boolean {
    return this.slots.isFolded(0, name, slot);
  }

  /**
   * Records that the user of `list` (first seen at `first`) did the event of `slot` at `ts`, which is
   * live; returns where its list is now.
   */
  record(list: number, slot: number, ts: number, first: number, liveAfter: number): number {
    const words = this.lists.words;
    const length = this.lists.length(list);
    for (let i = 0; i < length; i++) {
      const at = list + 1 + ENTRY_WORDS * i;
      if (words[at] !== slot) continue;
      const latest = words[at + 1];
      if (latest > liveAfter) {
        if (ts > latest) {
          this.active.addToSlot(latest, slot, -1);
          this.active.addToSlot(ts, slot, 1);
          words[at + 1] = ts;
        }
      } else {
        // Done before, but long enough ago to have left the horizon: a pair anew.
        words[at + 1] = ts;
        this.enter(slot, ts, first, liveAfter);
      }
      return list;
    }
    this.enter(slot, ts, first, liveAfter);
    return this.lists.append(list, slot, ts, liveAfter);
  }

  /** The user of `list` turned out to be first seen at `first` rather than `was`. */
  moveFirst(list: number, was: number, first: number, liveAfter: number): void {
    const words = this.lists.words;
    const length = this.lists.length(list);
    for (let i = 0; i < length; i++) {
      const at = list + 1 + ENTRY_WORDS * i;
      if (words[at + 1] <= liveAfter) continue;
      if (was > liveAfter) this.newcomers.addToSlot(was, words[at], -1);
      if (first > liveAfter) this.newcomers.addToSlot(first, words[at], 1);
    }
  }

  /** Writes the window's pairs per event slot into `active`, and those of new users into `fresh`. */
  sumWindow(window: number, active: Float64Array, fresh: Float64Array | undefined): void {
    this.active.sumWindow(window, this.slots.size, active);
    if (fresh !== undefined) this.newcomers.sumWindow(window, this.slots.size, fresh);
  }

  exportState(out: StateWriter): void {
    out.number(this.width);
    this.slots.exportState(out);
    this.active.exportState(out);
    this.newcomers.exportState(out);
    this.lists.exportState(out);
  }

  importState(input: StateReader): void {
    this.width = input.count();
    this.slots.importState(input);
    this.active.importState(input);
    this.newcomers.importState(input);
    this.lists.importState(input);
  }

  private enter(slot: number, ts: number, first: number, liveAfter: number): void {
    this.active.addToSlot(ts, slot, 1);
    if (first > liveAfter) this.newcomers.addToSlot(first, slot, 1);
  }
}
