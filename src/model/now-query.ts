import type { SplitName } from '../protocol/dimensions.js';

/** Default sliding window of `/1/now.json`, seconds. */
export const DEFAULT_WINDOW_SECONDS = 300;
/** Bounds of the `window` extension, seconds. */
export const MIN_WINDOW_SECONDS = 60;
export const MAX_WINDOW_SECONDS = 3600;
/** Minutes covered by the `timeline` extension, the current (partial) minute included. */
export const TIMELINE_MINUTES = 30;

/** Most values a filter may list for one dimension (docs/api.md#filter). */
export const MAX_FILTER_VALUES = 100;
/** Longest value a filter may list: a page path is the longest value kept (128). */
export const MAX_FILTER_VALUE_LENGTH = 256;

/**
 * The users a query is restricted to: for each dimension named, those whose value (that of their
 * latest activity, as in the splits) is one of the values listed; for `event`, those who did one of
 * the events listed in the window. Every name must match.
 */
export type NowFilter = Readonly<Partial<Record<SplitName, readonly string[]>>>;

export interface NowQuery {
  /** Window length in seconds: users active in (now - window, now]. */
  readonly window: number;
  readonly userType: boolean;
  /** Splits to compute, in the order they should appear in the response. */
  readonly splits: readonly SplitName[];
  readonly timeline: boolean;
  /** Absent: every user. Present: only the users it keeps, in the count, splits and timeline alike. */
  readonly filter?: NowFilter;
}

/** value → active users; zero counts omitted; ordered by count descending, then value ascending. */
export type Split = ReadonlyArray<readonly [value: string, users: number]>;

export type Splits = Partial<Record<SplitName, Split>>;

export interface TimelinePoint {
  /** Start of the minute, epoch seconds (a multiple of 60). */
  readonly ts: number;
  /** Distinct users with at least one activity in that minute. */
  readonly count: number;
}

export interface NowResult {
  readonly count: number;
  readonly userType?: { readonly new: number; readonly returning: number };
  readonly splits: Splits;
  /** The same splits restricted to new users; present when userType and at least one split are asked. */
  readonly newSplits?: Splits;
  /** Oldest minute first, TIMELINE_MINUTES points. */
  readonly timeline?: readonly TimelinePoint[];
}

/** Throws unless `window` is a whole number of seconds in 1..horizon, the windows a store can answer. */
export function assertWindowWithin(window: number, horizonSeconds: number): void {
  if (!Number.isInteger(window) || window < 1 || window > horizonSeconds) {
    throw new RangeError(`window must be an integer in 1..${horizonSeconds}`);
  }
}

/** Puts a split's entries in response order: count descending, then value ascending. */
export function orderSplit(entries: [string, number][]): Split {
  return entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
