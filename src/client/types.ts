import type { SplitName as ProtocolSplitName } from '../protocol/dimensions.js';

/**
 * Request and response types of the activenow HTTP API (docs/api.md), for the typed client. This
 * file is shipped to browsers and other projects: of the server it imports only src/protocol/.
 */

/**
 * What `/1/now.json` can split and filter by: CleverTap's four dimensions, then page, country,
 * app_version and event.
 */
export type SplitName = ProtocolSplitName;

/** The `/1/now.json` body. `false` is the same as leaving a key out. */
export interface NowRequest {
  readonly user_type?: boolean;
  readonly session_source?: boolean;
  readonly browser?: boolean;
  readonly os?: boolean;
  readonly device?: boolean;
  /** activenow extension: by the page path or screen name of each user's latest activity. */
  readonly page?: boolean;
  /** activenow extension: by country, ISO 3166-1 alpha-2 codes. */
  readonly country?: boolean;
  /** activenow extension: by the app version of each user's latest activity. */
  readonly app_version?: boolean;
  /**
   * activenow extension: active users per event they did in the window; a user counts under each of
   * its events, so this split does not sum to `count`. The redis store refuses it (501).
   */
  readonly event?: boolean;
  /** activenow extension: window length in seconds, 60 to 3600 (at most the server's horizon). */
  readonly window?: number;
  /** activenow extension: distinct active users per minute over the last 30 minutes. */
  readonly timeline?: boolean;
  /**
   * activenow extension: keep the N values with the most users in each split, 1 to 1000; the users
   * of the others are counted under `Other`.
   */
  readonly top?: number;
  /** activenow extension: distinct bots active in the window, counted apart from `count`. */
  readonly bots?: boolean;
  /**
   * activenow extension: count only the users whose value of each dimension named (that of their
   * latest activity) is one of those listed, and who did one of the `event`s listed in the window:
   * `{ country: ['IN', 'US'], device: ['Mobile'], event: ['Purchase'] }`. 1 to 100 values per
   * name. The redis store refuses it (501).
   */
  readonly filter?: NowFilter;
}

/** Values to keep per dimension (or event), as the answers name them (`IN`, `/pricing`, `Unknown`). */
export type NowFilter = { readonly [D in SplitName]?: readonly string[] };

/** value → active users, zero values left out, in the server's order (count descending). */
export type Split = Record<string, number>;

export interface UserTypeSplit {
  readonly new: number;
  readonly returning: number;
}

export interface TimelinePoint {
  /** Start of the minute, epoch seconds. */
  readonly ts: number;
  /** Distinct users with an event in that minute. */
  readonly count: number;
}

/**
 * Whether a request key makes its response key present: `true` (a literal) → always, `false` or
 * absent → never, `boolean` (not known when compiling) → maybe.
 */
type Presence<R, K extends PropertyKey> = R extends { readonly [P in K]: true }
  ? 'always'
  : K extends keyof R
    ? R[K] extends false | undefined
      ? 'never'
      : 'maybe'
    : 'never';

/** Whether a request key is given a value (any value): as Presence, for keys that are not booleans. */
type Given<R, K extends PropertyKey> = K extends keyof R
  ? R[K] extends undefined
    ? 'never'
    : undefined extends R[K]
      ? 'maybe'
      : 'always'
  : 'never';

/** The presence of a key that is there when any of several request keys is. */
type AnyOf<P> = 'always' extends P ? 'always' : 'maybe' extends P ? 'maybe' : 'never';

type FieldBy<P extends 'always' | 'never' | 'maybe', Out extends PropertyKey, V> = {
  always: { readonly [K in Out]: V };
  never: unknown;
  maybe: { readonly [K in Out]?: V };
}[P];

type Field<R, K extends PropertyKey, Out extends PropertyKey, V> = FieldBy<Presence<R, K>, Out, V>;

/**
 * `as_of` is there when the request uses an activenow extension: window, timeline, top, bots,
 * filter, or one of the splits page, country, app_version and event.
 */
type AsOfField<R> = FieldBy<
  AnyOf<
    | Given<R, 'window'>
    | Presence<R, 'timeline'>
    | Given<R, 'top'>
    | Presence<R, 'bots'>
    | Given<R, 'filter'>
    | Presence<R, 'page'>
    | Presence<R, 'country'>
    | Presence<R, 'app_version'>
    | Presence<R, 'event'>
  >,
  'as_of',
  number
>;

/** The splits a request asks for, each present as `Presence` says. */
type Splits<R> = Field<R, 'session_source', 'session_source', Split> &
  Field<R, 'browser', 'browser', Split> &
  Field<R, 'os', 'os', Split> &
  Field<R, 'device', 'device', Split> &
  Field<R, 'page', 'page', Split> &
  Field<R, 'country', 'country', Split> &
  Field<R, 'app_version', 'app_version', Split> &
  Field<R, 'event', 'event', Split>;

type AnySplit<R> = {
  [K in SplitName]: Presence<R, K>;
}[SplitName];

/** `new` is there when `user_type` and at least one split are asked for. */
type NewPresence<R> =
  Presence<R, 'user_type'> extends 'never'
    ? 'never'
    : AnySplit<R> extends 'never'
      ? 'never'
      : Presence<R, 'user_type'> extends 'always'
        ? 'always' extends AnySplit<R>
          ? 'always'
          : 'maybe'
        : 'maybe';

type NewField<R> = {
  always: { readonly new: Flatten<Splits<R>> };
  never: unknown;
  maybe: { readonly new?: Flatten<Splits<R>> };
}[NewPresence<R>];

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/**
 * The `/1/now.json` answer to request `R`: `{ browser: true }` gives a result with `browser` and
 * without `os`; `{ user_type: true, browser: true }` adds `user_type` and `new.browser`.
 */
export type NowResult<R extends NowRequest = NowRequest> = Flatten<
  { readonly status: 'success'; readonly count: number } & Field<R, 'user_type', 'user_type', UserTypeSplit> &
    Splits<R> &
    NewField<R> &
    Field<R, 'timeline', 'timeline', readonly TimelinePoint[]> &
    Field<R, 'bots', 'bots', number> &
    AsOfField<R>
>;

/** What every `/1/now/stream` event carries (docs/api.md: every split, user_type, the timeline and bots). */
export const STREAM_REQUEST = {
  user_type: true,
  session_source: true,
  browser: true,
  os: true,
  device: true,
  page: true,
  country: true,
  app_version: true,
  timeline: true,
  bots: true,
  top: 100,
} as const;

/** A stream event; `event` (in `new` too) is there when the server's store counts events. */
export type StreamUpdate = NowResult<typeof STREAM_REQUEST> & {
  readonly event?: Split;
  readonly new: { readonly event?: Split };
};

/** `session` of an uploaded event (activenow extension): explicit values, or what to derive them from. */
export interface UploadSession {
  readonly source?: string;
  readonly browser?: string;
  readonly os?: string;
  readonly device?: string;
  readonly ua?: string;
  readonly referrer?: string;
  readonly url?: string;
}

/** One record of CleverTap's Upload Events/Profiles format. */
export interface UploadRecord {
  readonly type: 'event' | 'profile';
  readonly identity?: string | number;
  readonly objectId?: string;
  readonly FBID?: string | number;
  readonly GPID?: string | number;
  /** Epoch seconds; absent means when the server receives the record. */
  readonly ts?: number | string;
  readonly evtName?: string;
  readonly evtData?: Readonly<Record<string, unknown>>;
  readonly profileData?: Readonly<Record<string, unknown>>;
  readonly session?: UploadSession;
}

/** A record the server refused, with its place in the array given to `upload`. */
export interface UnprocessedRecord {
  /** Index in the caller's array (0-based). */
  readonly index: number;
  /** CleverTap's record code: 509, 512, 523, 524, 525 or 526. */
  readonly code: number;
  /** The server's message, its record number rewritten to `index + 1`. */
  readonly error: string;
  /** The record as the server read it, as a JSON string. */
  readonly record: string;
}

export interface UploadResult {
  readonly processed: number;
  /** Ordered by index. */
  readonly unprocessed: readonly UnprocessedRecord[];
}
