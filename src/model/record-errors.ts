/**
 * Per-record failures of `/1/upload`, with CleverTap's codes and messages. A failed record is
 * reported in `unprocessed` and skipped; the other records of the request are processed.
 */
export const RECORD_ERRORS = {
  eventNameMissing: { code: 509, message: 'Event name mandatory' },
  invalidStructure: { code: 512, message: 'Invalid event structure' },
  identityMissing: { code: 523, message: 'Missing identity' },
  neitherEventNorProfile: { code: 524, message: 'Data neither event nor profile' },
  invalidTimestamp: { code: 525, message: 'Timestamp not in UNIX epoch format' },
  invalidObjectId: { code: 526, message: 'objectId invalid' },
} as const satisfies Record<string, { code: number; message: string }>;

export type RecordErrorName = keyof typeof RECORD_ERRORS;
