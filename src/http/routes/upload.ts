import { z } from 'zod';
import { uploadRecordSchema } from '../../ingest/clevertap-record-schema.js';
import { type ParseRecordsOptions, parseRecords } from '../../ingest/clevertap-records.js';
import { deriveSession } from '../../ingest/derive-session.js';
import { parseUploadFastInSlices } from '../../ingest/upload-fast-path.js';
import { ApiError } from '../../model/api-errors.js';
import { botLaneOf } from '../../model/bot-lane.js';
import { RECORD_ERRORS } from '../../model/record-errors.js';
import { MAX_RECORDS_PER_UPLOAD } from '../../protocol/upload-limits.js';
import { JSON_UTF8 } from '../error-envelope.js';
import { decodeJsonBody, registerJsonBodyBytes } from '../json-body-parser.js';
import { CREDENTIALS_SECURITY, GUARD, JSON_BODY, jsonBody, jsonResponse, ref } from '../operation-docs.js';
import { accountOf } from '../request-account.js';
import type { Route } from '../route.js';

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

const PATH = '/1/upload';

const EXAMPLE = {
  d: [
    {
      identity: 'u1',
      type: 'event',
      evtName: 'App Launched',
      ts: 1764145200,
      evtData: {},
      session: { source: 'Push', browser: 'App', os: 'Android', device: 'Mobile' },
    },
    { identity: 'u2', type: 'profile', profileData: { Name: 'Ada' } },
  ],
};

/**
 * `POST /1/upload`: CleverTap events and profiles. Invalid records are reported one by one in
 * `unprocessed` and skipped; the valid ones are stored before the 200 is sent (not with ?dryRun=1).
 */
export const uploadRoute: Route = {
  paths: {
    [PATH]: {
      post: {
        operationId: 'upload',
        summary: 'Upload events and profiles (CleverTap Upload Events/Profiles)',
        description: `At most ${MAX_RECORDS_PER_UPLOAD} records. Answered 200 whenever the request itself is valid: invalid records are listed in \`unprocessed\` with their code and skipped. A 200 means every processed record is stored; re-sending an event changes no distinct count, so a request that failed with 5xx can be retried.`,
        tags: ['Real-Time Counts'],
        security: CREDENTIALS_SECURITY,
        parameters: [ref('parameters', 'dryRun')],
        requestBody: jsonBody('UploadRequest', { events: EXAMPLE }),
        responses: {
          200: jsonResponse('Records processed; the failed ones, each with its code.', 'UploadResponse', {
            status: 'success',
            processed: 1,
            unprocessed: [
              {
                status: 'fail',
                code: 523,
                error: 'Missing identity. Skipped record number : 2',
                record: '{"type":"event","evtName":"x"}',
              },
            ],
          }),
        },
        errors: [
          ...GUARD,
          ...JSON_BODY,
          'bodyTooLarge',
          'bodyNotObject',
          'recordsMissing',
          'tooManyRecords',
          'invalidParameter',
        ],
      },
    },
  },
  schemas: () => ({
    UploadRequest: uploadRequestSchema,
    UploadRecord: uploadRecordSchema,
    UploadResponse: uploadResponseSchema,
    RecordFailure: recordFailureSchema,
  }),
  register(app, { guard, store, clock, metrics, countryOfIp }) {
    const parseOptions: ParseRecordsOptions = { deriveSession, countryOfIp };
    app.register(async (scope) => {
      // The body stays bytes here: the fast path reads them without JSON.parse.
      registerJsonBodyBytes(scope);
      scope.post(PATH, { onRequest: guard }, async (request, reply) => {
        const bytes = request.body as Buffer | undefined;
        const at = clock();
        const fast = bytes === undefined ? undefined : await parseUploadFastInSlices(bytes, at, parseOptions);
        // Else the reference path, whose errors come in its order: the body's, dryRun's, the records'.
        let body: unknown;
        if (fast === undefined && bytes !== undefined) {
          try {
            body = decodeJsonBody(bytes);
          } catch (error) {
            // As Fastify does after a body its parser refused (other routes): the connection is not kept.
            reply.header('connection', 'close');
            throw error;
          }
        }
        const dryRun = parseDryRun(request.query);
        const { activities, bots, processed, unprocessed } =
          fast ?? parseRecords(recordsOf(body), at, parseOptions);
        if (!dryRun) {
          const account = accountOf(request);
          await Promise.all([
            activities.length > 0 ? store.record(account, activities, at) : undefined,
            bots.length > 0 ? store.record(botLaneOf(account), bots, at) : undefined,
          ]);
          metrics.countUpload(processed, unprocessed);
        }
        return reply.type(JSON_UTF8).send(JSON.stringify({ status: 'success', processed, unprocessed }));
      });
    });
  },
};

/** The request-level checks of the reference path, on the parsed body: its records. */
export function recordsOf(body: unknown): readonly unknown[] {
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
