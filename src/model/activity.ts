import type { Dimension } from '../protocol/dimensions.js';

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

export type ActivityValues = { -readonly [K in (typeof VALUE_KEY_OF)[Dimension]]: string | undefined };

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
  };
}
