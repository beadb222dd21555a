/**
 * One event of one user: the unit the engine counts. Dimension values are already normalized
 * (trimmed, at most MAX_VALUE_LENGTH characters); absent means Unknown.
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
}
