/**
 * The four attributes a user is split by; names are those of the `/1/now.json` request keys.
 * Shared with the typed client.
 */
export const DIMENSIONS = ['session_source', 'browser', 'os', 'device'] as const;

export type Dimension = (typeof DIMENSIONS)[number];
