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

/**
 * The split of users by the events they did in the window (docs/api.md#event): a user counts once
 * under each event name, so unlike a dimension's its values do not sum to the count.
 */
export const EVENT = 'event';

/** Everything a query can split or filter by: the dimensions, then events. */
export const SPLIT_NAMES = [...DIMENSIONS, EVENT] as const;

export type SplitName = (typeof SPLIT_NAMES)[number];

export function isDimension(name: SplitName): name is Dimension {
  return name !== EVENT;
}
