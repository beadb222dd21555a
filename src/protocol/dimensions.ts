/**
 * The attributes a user is split by; names are those of the `/1/now.json` request keys. The first
 * four are CleverTap's; page, country and app_version are activenow's (docs/api.md). Shared with
 * the typed client.
 */
export const DIMENSIONS = [
  'session_source',
  'browser',
  'os',
  'device',
  'page',
  'country',
  'app_version',
] as const;

export type Dimension = (typeof DIMENSIONS)[number];

/** CleverTap's own splits: an answer that asks for none of the others is byte-compatible with CleverTap's. */
export const CLEVERTAP_DIMENSIONS = [
  'session_source',
  'browser',
  'os',
  'device',
] as const satisfies readonly Dimension[];
