import { DIMENSIONS } from '../protocol/dimensions.js';
import { IdTable, PAYLOAD } from './id-table.js';

// A user's state, in the payload of its IdTable record; offsets are from the record's first word.
/** Epoch second of the user's latest activity. */
export const LATEST = PAYLOAD;
/** Epoch second of the user's first-ever activity, as far as known. */
export const FIRST = PAYLOAD + 1;
/** Minutes the user was active in, relative to the minute of its latest activity (MinuteTimeline). */
export const MINUTE_MASK = PAYLOAD + 2;
/** Where the events the user did in the horizon are in the engine's EventLists (NO_LIST: none). */
export const EVENT_LIST = PAYLOAD + 3;
/**
 * The dimension slots of the user's latest activity, 16 bits each, in DIMENSIONS order: those of the
 * record at word `at` are `halves[2 * at + DIMENSION_HALF + d]`.
 */
export const DIMENSION_HALF = 2 * (PAYLOAD + 4);
/**
 * In the half after the dimension slots: bit `slot % 16` is set for each event slot in the user's
 * event list, so that a filter naming events passes over most users without reading their lists.
 */
export const EVENT_MASK_HALF = DIMENSION_HALF + DIMENSIONS.length;
const STATE_WORDS = 4 + Math.ceil((DIMENSIONS.length + 1) / 2);

/** The users an engine holds, by id: 32 bytes of state each (7 dimensions), beside the id in one record. */
export function newUserTable(): IdTable {
  return new IdTable(STATE_WORDS);
}
