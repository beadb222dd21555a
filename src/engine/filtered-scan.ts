import { type IdTable, KEY_HEADER } from './id-table.js';
import { timelineStartMinute } from './minute-timeline.js';
import { DIMENSION_HALF, FIRST, LATEST, MINUTE_MASK } from './user-table.js';

/** What a filtered query asks of the users an engine holds. */
export interface ScanRequest {
  /** Per slot, 1 when the filter keeps the users holding it (a slot belongs to one dimension). */
  readonly accepted: Uint8Array;
  /** The numbers of the dimensions the filter names. */
  readonly filtered: readonly number[];
  /** Sum the users the filter leaves out rather than those it keeps. */
  readonly complement: boolean;
  /** The numbers of the dimensions whose slots are summed (the splits asked). */
  readonly summed: readonly number[];
  /** Users active after this second are in the window. */
  readonly windowStart: number;
  /** Whether to count the kept users per minute of the timeline. */
  readonly timeline: boolean;
  readonly clock: number;
}

/**
 * What the scan found, of the users it sums (kept, or left out with `complement`); the arrays are
 * the engine's scratch, overwritten by the next scan.
 */
export interface ScanSums {
  count: number;
  fresh: number;
  /** Summed users in the window per slot of each summed dimension (slot 0 unused). */
  readonly activeSums: Float64Array;
  /** The same, of those first seen in the window. */
  readonly newSums: Float64Array;
  /** Summed users per minute of the timeline, oldest first (TIMELINE_MINUTES of them). */
  readonly minutes: Float64Array;
}

/**
 * Reads every user record of `users` once, in memory order, and sums those the filter keeps (or,
 * with `complement`, those it leaves out): a filtered answer cannot come from the counters, which
 * hold values one dimension at a time. A user is kept when, for each filtered dimension, its slot is
 * accepted. Only users whose latest time is in the window or in a minute of the timeline are read:
 * as the horizon is at least the timeline's 30 minutes, those are live, so their slots name the
 * values they hold (an expired user's may have been reused since). Cost: one pass over the table's
 * memory (`recordWords` words per slot), and the summing of the users summed.
 */
export function scanUsers(users: IdTable, request: ScanRequest, slotCount: number, out: ScanSums): void {
  const { accepted, filtered, complement, summed, windowStart, clock } = request;
  const firstMinute = timelineStartMinute(clock);
  // Earliest latest time of a user that can count: in the window, or in a minute of the timeline.
  const readAfter = request.timeline ? Math.min(windowStart, firstMinute * 60 - 1) : windowStart;
  const activeSums = out.activeSums;
  const newSums = out.newSums;
  const minutes = out.minutes;
  activeSums.fill(0, 0, slotCount);
  newSums.fill(0, 0, slotCount);
  minutes.fill(0);
  let count = 0;
  let fresh = 0;
  const words = users.words;
  const halves = users.halves;
  const stride = users.recordWords;
  // Locals, not the imported bindings: a module loader may turn those into getter calls.
  const headerWord = KEY_HEADER;
  const latestWord = LATEST;
  const firstWord = FIRST;
  const maskWord = MINUTE_MASK;
  const dimensionHalf = DIMENSION_HALF;
  const timeline = request.timeline;
  for (let at = 0; at < words.length; at += stride) {
    const latest = words[at + latestWord];
    if (latest <= readAfter || words[at + headerWord] === 0) continue;
    const dimsAt = 2 * at + dimensionHalf;
    let passed = 0;
    for (let i = 0; i < filtered.length; i++) passed += accepted[halves[dimsAt + filtered[i]]];
    if ((passed === filtered.length) === complement) continue;
    if (timeline) countMinutes(words[at + maskWord], Math.floor(latest / 60), firstMinute, minutes);
    if (latest <= windowStart) continue;
    count++;
    for (let i = 0; i < summed.length; i++) activeSums[halves[dimsAt + summed[i]]]++;
    if (words[at + firstWord] > windowStart) {
      fresh++;
      for (let i = 0; i < summed.length; i++) newSums[halves[dimsAt + summed[i]]]++;
    }
  }
  out.count = count;
  out.fresh = fresh;
}

/** Adds a user to each timeline minute its mask (bit i: i minutes before `latestMinute`) holds. */
function countMinutes(mask: number, latestMinute: number, firstMinute: number, minutes: Float64Array): void {
  for (let rest = mask; rest !== 0; rest &= rest - 1) {
    const bit = 31 - Math.clz32(rest & -rest);
    const index = latestMinute - bit - firstMinute;
    if (index >= 0 && index < minutes.length) minutes[index]++;
  }
}
