import { DEFAULT_WINDOW_SECONDS } from '../model/now-query.js';
import { StateFormatError, type StateReader, type StateWriter } from './state-stream.js';

/**
 * Counts per slot and per second over the retention horizon, plus per-minute sums of the same rows,
 * so that the total of any window costs at most 30 second-rows and one row per minute of the window,
 * whatever the number of users behind the counts; the totals of the default window (CleverTap's
 * five minutes, the window nearly every query asks) are kept up to date, so that one costs one row.
 *
 * The row of second `s` lives at `s mod horizon` while `s` is in (clock - horizon, clock]; moving the
 * clock forward expires the rows that fall out, subtracting them from their minute and from `totals`.
 * A slot is a column: 0 is "all users", the others are dimension values (see DimensionSlots).
 */
/** The window whose totals are kept: the default of `/1/now.json`. */
const RECENT = DEFAULT_WINDOW_SECONDS;

export class WindowCounters {
  private readonly horizon: number;
  private readonly minuteRows: number;
  private width: number;
  private seconds: Int32Array;
  private minutes: Int32Array;
  /** Per slot: the sum of every live second. */
  private totalsBySlot: Int32Array;
  /** Per slot: the sum of the seconds of the default window, (clock - DEFAULT_WINDOW_SECONDS, clock]. */
  private recentBySlot: Int32Array;
  private clock = Number.NEGATIVE_INFINITY;

  constructor(horizonSeconds: number, initialWidth: number) {
    this.horizon = horizonSeconds;
    // Enough minute rows that a minute's row is only reused once all its seconds have expired.
    this.minuteRows = Math.ceil((horizonSeconds + 60) / 60);
    this.width = initialWidth;
    this.seconds = new Int32Array(this.horizon * initialWidth);
    this.minutes = new Int32Array(this.minuteRows * initialWidth);
    this.totalsBySlot = new Int32Array(initialWidth);
    this.recentBySlot = new Int32Array(initialWidth);
  }

  exportState(out: StateWriter): void {
    out.number(this.width);
    out.number(this.clock);
    out.array(this.seconds);
    out.array(this.minutes);
    out.array(this.totalsBySlot);
  }

  /** Replaces the counts with those of `exportState`, from counters of the same horizon. */
  importState(input: StateReader): void {
    const width = input.count();
    const clock = input.number();
    const seconds = input.array(Int32Array);
    const minutes = input.array(Int32Array);
    const totals = input.array(Int32Array);
    if (
      seconds.length !== this.horizon * width ||
      minutes.length !== this.minuteRows * width ||
      totals.length !== width
    )
      throw new StateFormatError('counters of another horizon or width');
    this.width = width;
    this.clock = clock;
    this.seconds = seconds;
    this.minutes = minutes;
    this.totalsBySlot = totals;
    // Derived from the seconds, so not in the state.
    this.recentBySlot = new Int32Array(width);
    if (Number.isFinite(clock))
      for (let second = clock - RECENT + 1; second <= clock; second++)
        this.addRow(second, this.recentBySlot, 1);
  }

  /** Live total of `slot` over the whole horizon. */
  total(slot: number): number {
    return this.totalsBySlot[slot];
  }

  /** Makes room for slots 0..slots-1, keeping every count. */
  ensureWidth(slots: number): void {
    if (slots <= this.width) return;
    let width = this.width;
    while (width < slots) width *= 2;
    this.seconds = widen(this.seconds, this.width, width);
    this.minutes = widen(this.minutes, this.width, width);
    const totals = new Int32Array(width);
    totals.set(this.totalsBySlot);
    this.totalsBySlot = totals;
    const recent = new Int32Array(width);
    recent.set(this.recentBySlot);
    this.recentBySlot = recent;
    this.width = width;
  }

  /** Moves the clock to `now` (never backwards), expiring the seconds that leave the horizon. */
  advance(now: number): void {
    if (now <= this.clock) return;
    if (now - this.clock >= this.horizon) {
      this.seconds.fill(0);
      this.minutes.fill(0);
      this.totalsBySlot.fill(0);
      this.recentBySlot.fill(0);
    } else {
      for (let second = this.clock + 1; second <= now; second++) {
        this.addRow(second - RECENT, this.recentBySlot, -1);
        this.expire(second - this.horizon);
      }
    }
    this.clock = now;
  }

  private expire(second: number): void {
    const w = this.width;
    const row = (second % this.horizon) * w;
    const minuteRow = (Math.floor(second / 60) % this.minuteRows) * w;
    const seconds = this.seconds;
    const minutes = this.minutes;
    const totals = this.totalsBySlot;
    for (let slot = 0; slot < w; slot++) {
      const n = seconds[row + slot];
      if (n !== 0) {
        minutes[minuteRow + slot] -= n;
        totals[slot] -= n;
        seconds[row + slot] = 0;
      }
    }
  }

  /** Adds `delta` at `second` (which must be live) to slot 0 and to each of `slots` (one per dimension). */
  addUser(second: number, slots: Uint16Array, delta: number): void {
    const w = this.width;
    const row = (second % this.horizon) * w;
    const minuteRow = (Math.floor(second / 60) % this.minuteRows) * w;
    const seconds = this.seconds;
    const minutes = this.minutes;
    const totals = this.totalsBySlot;
    seconds[row] += delta;
    minutes[minuteRow] += delta;
    totals[0] += delta;
    for (let d = 0; d < slots.length; d++) {
      const slot = slots[d];
      seconds[row + slot] += delta;
      minutes[minuteRow + slot] += delta;
      totals[slot] += delta;
    }
    if (second > this.clock - RECENT) {
      const recent = this.recentBySlot;
      recent[0] += delta;
      for (let d = 0; d < slots.length; d++) recent[slots[d]] += delta;
    }
  }

  /** Adds `delta` at `second` (which must be live) to `slot` alone, slot 0 left as it is. */
  addToSlot(second: number, slot: number, delta: number): void {
    const w = this.width;
    this.seconds[(second % this.horizon) * w + slot] += delta;
    this.minutes[(Math.floor(second / 60) % this.minuteRows) * w + slot] += delta;
    this.totalsBySlot[slot] += delta;
    if (second > this.clock - RECENT) this.recentBySlot[slot] += delta;
  }

  /** Adds `sign` times the row of `second` (which must be live) to `out`. */
  private addRow(second: number, out: Int32Array, sign: number): void {
    const w = this.width;
    const row = (second % this.horizon) * w;
    const seconds = this.seconds;
    for (let slot = 0; slot < w; slot++) {
      const n = seconds[row + slot];
      if (n !== 0) out[slot] += sign * n;
    }
  }

  /**
   * Writes into `out[0..slots-1]` the sums over the window (clock - window, clock]. The window must
   * not exceed the horizon. Cost: at most 30 second-rows plus one minute-row per minute touched.
   */
  sumWindow(window: number, slots: number, out: Float64Array): void {
    if (window === RECENT) {
      const recent = this.recentBySlot;
      for (let slot = 0; slot < slots; slot++) out[slot] = recent[slot];
      return;
    }
    out.fill(0, 0, slots);
    const first = this.clock - window + 1;
    const firstMinute = Math.floor(first / 60);
    const lastMinute = Math.floor(this.clock / 60);
    // Every minute after the first is whole up to the clock: no second beyond the clock has counts.
    for (let minute = firstMinute + 1; minute <= lastMinute; minute++) this.addMinute(minute, slots, out);
    const minuteStart = firstMinute * 60;
    const minuteEnd = Math.min(minuteStart + 59, this.clock);
    // The first minute is partial: add its seconds from `first`, or add the whole minute and take
    // away the seconds before `first` that are still live, whichever reads fewer rows.
    const liveStart = Math.max(minuteStart, this.clock - this.horizon + 1);
    if (minuteEnd - first + 1 <= first - liveStart) {
      for (let second = first; second <= minuteEnd; second++) this.addSecond(second, slots, out, 1);
    } else {
      this.addMinute(firstMinute, slots, out);
      for (let second = liveStart; second < first; second++) this.addSecond(second, slots, out, -1);
    }
  }

  private addMinute(minute: number, slots: number, out: Float64Array): void {
    const row = (minute % this.minuteRows) * this.width;
    const minutes = this.minutes;
    for (let slot = 0; slot < slots; slot++) out[slot] += minutes[row + slot];
  }

  private addSecond(second: number, slots: number, out: Float64Array, sign: number): void {
    const row = (second % this.horizon) * this.width;
    const seconds = this.seconds;
    for (let slot = 0; slot < slots; slot++) out[slot] += sign * seconds[row + slot];
  }
}

function widen(rows: Int32Array, oldWidth: number, newWidth: number): Int32Array {
  const count = rows.length / oldWidth;
  const wider = new Int32Array(count * newWidth);
  for (let r = 0; r < count; r++) wider.set(rows.subarray(r * oldWidth, (r + 1) * oldWidth), r * newWidth);
  return wider;
}
