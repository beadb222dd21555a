import { OTHER, UNKNOWN } from '../model/dimensions.js';
import { DIMENSIONS } from '../protocol/dimensions.js';
import { StateFormatError, type StateReader, type StateWriter } from './state-stream.js';

/**
 * Maps each dimension's values to counter slots (columns of WindowCounters), with the per-dimension
 * cap on distinct values. Slot 0 is "all users"; every dimension owns an Unknown and an Other slot
 * that do not count against the cap.
 *
 * Cap rule: a value keeps its own slot if some user whose latest activity is within the horizon
 * holds it ("live"), or if fewer than `cap` values of its dimension are live; otherwise it folds
 * into Other. Slots of values no longer live are reused, so the slots of a dimension stay bounded
 * by `cap + 2` whatever clients send, and the rule depends only on the activity of the horizon.
 */
export class DimensionSlots {
  private readonly cap: number;
  private readonly slotsByValue: Map<string, number>[] = [];
  /** Slots of each dimension's named values (not Unknown, not Other). */
  private readonly namedSlots: number[][] = [];
  private readonly unknownSlots: number[] = [];
  private readonly otherSlots: number[] = [];
  private readonly names: string[] = ['(all)'];
  /** Per dimension, its slots in the order of their names (code units), built when first asked. */
  private readonly byName: (Uint16Array | undefined)[] = [];

  /** `dimensions`: how many dimensions, numbered from 0 (by default DIMENSIONS, in that order). */
  constructor(cap: number, dimensions: number = DIMENSIONS.length) {
    this.cap = cap;
    for (let d = 0; d < dimensions; d++) {
      this.slotsByValue.push(new Map());
      this.namedSlots.push([]);
      this.unknownSlots.push(this.allocate(UNKNOWN));
      this.otherSlots.push(this.allocate(OTHER));
    }
  }

  /** The names of the slots and which are each dimension's named values (the rest follows). */
  exportState(out: StateWriter): void {
    out.number(this.cap);
    out.number(this.names.length);
    for (const name of this.names) out.string(name);
    for (const named of this.namedSlots) out.array(Uint32Array.from(named));
  }

  /** Replaces the slots with those of `exportState`, from slots of the same cap. */
  importState(input: StateReader): void {
    if (input.count() !== this.cap) throw new StateFormatError('slots of another value cap');
    const names: string[] = [];
    for (let count = input.count(), i = 0; i < count; i++) names.push(input.string());
    const named = this.namedSlots.map(() => [...input.array(Uint32Array)]);
    // Unknown and Other come first, in the same order in every instance (the constructor).
    if (names.length < this.names.length || named.some((slots) => slots.some((s) => s >= names.length)))
      throw new StateFormatError('slot numbers beyond the slots');
    this.names.splice(0, this.names.length, ...names);
    named.forEach((slots, d) => {
      this.namedSlots[d] = slots;
      this.slotsByValue[d] = new Map(slots.map((slot) => [names[slot], slot]));
    });
    this.byName.fill(undefined);
  }

  /** Number of slots in use; every slot id is below it. */
  get size(): number {
    return this.names.length;
  }

  name(slot: number): string {
    return this.names[slot];
  }

  /**
   * Every slot of dimension number `d` (named values, Unknown, Other), ordered by name in UTF-16
   * code-unit order: the order of a split's values of equal count. Kept until a name changes, so
   * that a query ranks values without comparing strings.
   */
  slotsByName(d: number): Uint16Array {
    let ordered = this.byName[d];
    if (ordered === undefined) {
      const names = this.names;
      const slots = [...this.namedSlots[d], this.unknownSlots[d], this.otherSlots[d]];
      slots.sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
      ordered = Uint16Array.from(slots);
      this.byName[d] = ordered;
    }
    return ordered;
  }

  /** The slot that holds `value` of dimension number `d` now, if any: a lookup that allocates nothing. */
  slotOf(d: number, value: string): number | undefined {
    if (value === UNKNOWN) return this.unknownSlots[d];
    if (value === OTHER) return this.otherSlots[d];
    return this.slotsByValue[d].get(value);
  }

  /**
   * The slot for `value` of dimension number `d`. `liveUsers(slot)` tells how many users with a
   * latest activity in the horizon hold the slot.
   */
  resolve(d: number, value: string | undefined, liveUsers: (slot: number) => number): number {
    if (value === undefined || value === '' || value === UNKNOWN) return this.unknownSlots[d];
    if (value === OTHER) return this.otherSlots[d];
    const known = this.slotsByValue[d].get(value);
    if (known !== undefined && liveUsers(known) > 0) return known;
    const named = this.namedSlots[d];
    let live = 0;
    let reusable = -1;
    for (const slot of named) {
      if (liveUsers(slot) > 0) live++;
      else if (reusable < 0 || slot === known) reusable = slot;
    }
    if (live >= this.cap) return this.otherSlots[d];
    if (known !== undefined) return known;
    this.byName[d] = undefined;
    if (named.length < this.cap) {
      const slot = this.allocate(value);
      named.push(slot);
      this.slotsByValue[d].set(value, slot);
      return slot;
    }
    // At the cap with a value not live: hand its slot (all of whose counts are zero) to `value`.
    this.slotsByValue[d].delete(this.names[reusable]);
    this.names[reusable] = value;
    this.slotsByValue[d].set(value, reusable);
    return reusable;
  }

  /** True when `slot`, resolved for `value`, is Other although the value named something else. */
  isFolded(d: number, value: string | undefined, slot: number): boolean {
    return (
      slot === this.otherSlots[d] &&
      value !== undefined &&
      value !== '' &&
      value !== UNKNOWN &&
      value !== OTHER
    );
  }

  private allocate(name: string): number {
    this.names.push(name);
    return this.names.length - 1;
  }
}
