import { ENTRY_WORDS, listLength } from './event-lists.js';
import { type IdTable, KEY_HEADER } from './id-table.js';
import { timelineStartMinute } from './minute-timeline.js';
import { DIMENSION_HALF, EVENT_LIST, EVENT_MASK_HALF, FIRST, LATEST, MINUTE_MASK } from './user-table.js';

/** What a filtered query asks of the users an engine holds. */
export interface ScanRequest {
  /** Per slot, 1 when the filter keeps the users holding it (a slot belongs to one dimension). */
  readonly accepted: Uint8Array;
  /** The numbers of the dimensions the filter names. */
  readonly filtered: readonly number[];
  /**
   * Per event slot, 1 when the filter keeps the users who did that event in the window; undefined
   * when it names no event.
   */
  readonly acceptedEvents: Uint8Array | undefined;
  /** The bits of the accepted event slots in a user's EVENT_MASK_HALF: a user with none is not kept. */
  readonly eventMask: number;
  /** Sum the users the filter leaves out rather than those it keeps. */
  readonly complement: boolean;
  /** The numbers of the dimensions whose slots are summed (the splits asked). */
  readonly summed: readonly number[];
  /** Whether to sum the events the summed users did in the window. */
  readonly withEvents: boolean;
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
  /** Summed users in the window per event slot they did in it (slot 0 unused). */
  readonly eventSums: Float64Array;
  /** The same, of those first seen in the window. */
  readonly newEventSums: Float64Array;
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
export function scanUsers(
  users: IdTable,
  eventWords: Uint32Array,
  request: ScanRequest,
  slotCount: number,
  out: ScanSums,
): void {
  const {
    accepted,
    filtered,
    acceptedEvents,
    eventMask,
    complement,
    summed,
    withEvents,
    windowStart,
    clock,
  } = request;
  const firstMinute = timelineStartMinute(clock);
  // Earliest latest time of a user that can count: in the window, or in a minute of the timeline.
  const readAfter = request.timeline ? Math.min(windowStart, firstMinute * 60 - 1) : windowStart;
  const activeSums = out.activeSums;
  const newSums = out.newSums;
  const minutes = out.minutes;
  activeSums.fill(0, 0, slotCount);
  newSums.fill(0, 0, slotCount);
  out.eventSums.fill(0);
  out.newEventSums.fill(0);
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
  const eventListWord = EVENT_LIST;
  const eventMaskHalf = EVENT_MASK_HALF;
  const timeline = request.timeline;
  for (let at = 0; at < words.length; at += stride) {
    const latest = words[at + latestWord];
    if (latest <= readAfter || words[at + headerWord] === 0) continue;
    const dimsAt = 2 * at + dimensionHalf;
    let passed = 0;
    for (let i = 0; i < filtered.length; i++) passed += accepted[halves[dimsAt + filtered[i]]];
    const kept =
      passed === filtered.length &&
      (acceptedEvents === undefined ||
        ((halves[2 * at + eventMaskHalf] & eventMask) !== 0 &&
          didAny(eventWords, words[at + eventListWord], acceptedEvents, windowStart)));
    if (kept === complement) continue;
    if (timeline) countMinutes(words[at + maskWord], Math.floor(latest / 60), firstMinute, minutes);
    if (latest <= windowStart) continue;
    count++;
    for (let i = 0; i < summed.length; i++) activeSums[halves[dimsAt + summed[i]]]++;
    const isNew = words[at + firstWord] > windowStart;
    if (isNew) {
      fresh++;
      for (let i = 0; i < summed.length; i++) newSums[halves[dimsAt + summed[i]]]++;
    }
    if (withEvents) sumEvents(eventWords, words[at + eventListWord], windowStart, out, isNew);
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

/** Whether the list holds an accepted event done after `after`. */
function didAny(eventWords: Uint32Array, list: number, acceptedEvents: Uint8Array, after: number): boolean {
  const length = listLength(eventWords, list);
  for (let i = 0; i < length; i++) {
    const at = list + 1 + ENTRY_WORDS * i;
    if (eventWords[at + 1] > after && acceptedEvents[eventWords[at]] === 1) return true;
  }
  return false;
}

/** Adds one to the event sums (and new event sums) of each event of the list done in the window. */
function sumEvents(
  eventWords: Uint32Array,
  list: number,
  windowStart: number,
  out: ScanSums,
  isNew: boolean,
): void {
  const length = listLength(eventWords, list);
  for (let i = 0; i < length; i++) {
    const at = list + 1 + ENTRY_WORDS * i;
    if (eventWords[at + 1] <= windowStart) continue;
    out.eventSums[eventWords[at]]++;
    if (isNew) out.newEventSums[eventWords[at]]++;
  }
}
