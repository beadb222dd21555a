import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { uploadRecordSchema } from '../../ingest/clevertap-record-schema.js';
import { parseRecords, type RecordFailure } from '../../ingest/clevertap-records.js';
import { deriveSession } from '../../ingest/derive-session.js';
import { ApiError } from '../../model/api-errors.js';
import { RECORD_ERRORS } from '../../model/record-errors.js';
import { MAX_RECORDS_PER_UPLOAD } from '../../protocol/upload-limits.js';
import type { Store } from '../../store/store.js';
import { accountOf } from '../request-account.js';

/** Describes the body `recordsOf` reads (the records are parsed by hand: see uploadRecordSchema). */
export const uploadRequestSchema = z
  .looseObject({
    d: z.array(uploadRecordSchema).max(MAX_RECORDS_PER_UPLOAD),
  })
  .meta({ description: 'Other top-level keys are ignored.' });

export const recordFailureSchema = z.strictObject({
  status: z.literal('fail'),
  code: z.literal(Object.values(RECORD_ERRORS).map((entry) => entry.code)),
  error: z
    .string()
    .meta({ description: 'The code\'s message, then ". Skipped record number : N" (N from 1).' }),
  record: z.string().meta({ description: 'The failed record as a JSON string.' }),
});

export const uploadResponseSchema = z.strictObject({
  status: z.literal('success'),
  processed: z.int().nonnegative().meta({ description: 'Valid records, events and profiles.' }),
  unprocessed: z.array(recordFailureSchema),
});

export interface UploadRouteOptions {
  /** Authenticates and admits the request before its body is read. */
  readonly guard: onRequestAsyncHookHandler;
  readonly store: Store;
  readonly clock: () => number;
  /** Told what was stored (not on dry runs): records processed and those refused. */
  readonly onStored?: (processed: number, unprocessed: readonly RecordFailure[]) => void;
}

/**
 * `POST /1/upload`: CleverTap events and profiles. Invalid records are reported one by one in
 * `unprocessed` and skipped; the valid ones are stored before the 200 is sent (not with ?dryRun=1).
 */
export function registerUploadRoute(app: FastifyInstance, options: UploadRouteOptions): void {
  app.post('/1/upload', { onRequest: options.guard }, async (request, reply) => {
    const dryRun = parseDryRun(request.query);
    const records = recordsOf(request.body);
    const at = options.clock();
    const { activities, processed, unprocessed } = parseRecords(records, at, { deriveSession });
    if (!dryRun) {
      if (activities.length > 0) await options.store.record(accountOf(request), activities, at);
      options.onStored?.(processed, unprocessed);
    }
    return reply
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ status: 'success', processed, unprocessed }));
  });
}

function recordsOf(body: unknown): readonly unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw body === undefined ? new ApiError('recordsMissing') : new ApiError('bodyNotObject');
  }
  const records = (body as { d?: unknown }).d;
  if (!Array.isArray(records)) throw new ApiError('recordsMissing');
  if (records.length > MAX_RECORDS_PER_UPLOAD)
    throw new ApiError('tooManyRecords', { max: MAX_RECORDS_PER_UPLOAD });
  return records;
}

function parseDryRun(query: unknown): boolean {
  const value = (query as Record<string, unknown> | undefined)?.dryRun;
  if (value === undefined || value === '0' || value === 'false') return false;
  if (value === '' || value === '1' || value === 'true') return true;
  throw new ApiError('invalidParameter', { name: 'dryRun', reason: 'expected 1, true, 0 or false' });
}
