import { DIMENSIONS, type Dimension } from '../protocol/dimensions.js';

/**
 * One event of one user: the unit the engine counts. Dimension values are already normalized
 * (trimmed, cut to their dimension's length); absent means Unknown.
 */
export interface Activity {
  /** The user key: first present of identity, objectId, FBID, GPID. */
  readonly user: string;
  /** Epoch seconds, integer. */
  readonly ts: number;
  readonly sessionSource?: string;
  readonly browser?: string;
  readonly os?: string;
  readonly device?: string;
  /** Path of the page (no query, no fragment) or the app's screen name. */
  readonly page?: string;
  /** ISO 3166-1 alpha-2 code, upper case. */
  readonly country?: string;
  readonly appVersion?: string;
  /**
   * Name of the event the user did (docs/semantics.md §14); absent for activity that names none
   * (a profile update, a tracker heartbeat).
   */
  readonly event?: string;
}

/** The Activity property that carries each dimension's value. */
export const VALUE_KEY_OF = {
  session_source: 'sessionSource',
  browser: 'browser',
  os: 'os',
  device: 'device',
  page: 'page',
  country: 'country',
  app_version: 'appVersion',
} as const satisfies Record<Dimension, keyof Activity>;

/**
 * The Activity properties that hold values, in the order the log keeps them: the dimensions' in
 * DIMENSIONS order, then the event's (whose number in FoldListener reports is DIMENSIONS.length).
 */
export const LOGGED_VALUE_KEYS = [
  ...DIMENSIONS.map((dimension) => VALUE_KEY_OF[dimension]),
  'event',
] as const;

export type ActivityValues = {
  -readonly [K in (typeof VALUE_KEY_OF)[Dimension] | 'event']: string | undefined;
};

/**
 * An activity with every key present (a value not given is undefined), in one order: activities of
 * one shape keep the engine's reads monomorphic.
 */
export function activityOf(
  user: string,
  ts: number,
  values: Partial<ActivityValues> = {},
): Activity & ActivityValues {
  return {
    user,
    ts,
    sessionSource: values.sessionSource,
    browser: values.browser,
    os: values.os,
    device: values.device,
    page: values.page,
    country: values.country,
    appVersion: values.appVersion,
    event: values.event,
  };
}
