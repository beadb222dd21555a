import { z } from 'zod';
import { KEY_FIELDS, MAX_FUTURE_SECONDS, MAX_USER_KEY_LENGTH } from '../../ingest/clevertap-records.js';
import { MAX_VALUE_LENGTH } from '../../model/dimensions.js';
import { MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS, TIMELINE_MINUTES } from '../../model/now-query.js';
import { RECORD_ERRORS } from '../../model/record-errors.js';
import { DIMENSIONS } from '../../protocol/dimensions.js';
import { API_ERRORS } from '../../protocol/error-catalogue.js';
import { MAX_RECORDS_PER_UPLOAD } from '../../protocol/upload-limits.js';

/**
 * The shapes of the HTTP API, once: request bodies the routes validate with (`/1/now.json`,
 * `/1/now/token`; `/1/collect`'s lives with its parser in ingest/browser-hit.ts), and the response
 * bodies. GET /openapi.json is generated from these schemas, and tests parse real responses with
 * them. Upload records are the exception: the parser (ingest/clevertap-records.ts) is a hot path
 * that does not go through zod, so `uploadRecordSchema` only describes it, built from the
 * parser's own constants, and test/unit/upload-record-schema.test.ts holds the two together.
 */

// ---------------------------------------------------------------------------------------------
// Requests

const booleanParameter = z.boolean({ error: 'expected true or false' });

/**
 * The `/1/now.json` body. `window` is bounded by the server's retention horizon, so the schema is
 * made per horizon; each issue's message is the reason the 400 gives.
 */
export function nowRequestSchema(horizonSeconds: number) {
  const maxWindow = Math.min(MAX_WINDOW_SECONDS, horizonSeconds);
  const reason = { error: `expected an integer from ${MIN_WINDOW_SECONDS} to ${maxWindow} (seconds)` };
  const splits = Object.fromEntries(
    DIMENSIONS.map((dimension) => [
      dimension,
      booleanParameter.optional().meta({ description: `Split active users by ${dimension}.` }),
    ]),
  ) as Record<(typeof DIMENSIONS)[number], z.ZodOptional<z.ZodBoolean>>;
  return z
    .strictObject({
      user_type: booleanParameter
        .optional()
        .meta({ description: 'Split into new (first-ever activity within the window) and returning.' }),
      ...splits,
      window: z
        .int(reason)
        .min(MIN_WINDOW_SECONDS, reason)
        .max(maxWindow, reason)
        .optional()
        .meta({ description: 'activenow extension: window length in seconds; default 300.' }),
      timeline: booleanParameter.optional().meta({
        description: `activenow extension: distinct active users per calendar minute for the last ${TIMELINE_MINUTES} minutes.`,
      }),
    })
    .meta({ description: 'No body, `{}`, or any of these keys; `false` is the same as leaving a key out.' });
}

/** `/1/now/token` takes no parameters: `{}` or no body. */
export const emptyBodySchema = z.strictObject({}).meta({ description: '`{}` or no body.' });

const absentOr = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

type KeyField = (typeof KEY_FIELDS)[number];

/** An identifier's value: a string or, except objectId (else code 526), a number taken as its decimal string. */
function userKey(field: KeyField, text: z.ZodString) {
  return field === 'objectId' ? text : z.union([text, z.number()]);
}

/**
 * maxLength for JSON Schema, which counts code points; the refinement counts UTF-16 code units, as
 * the parser and CleverTap do, so that zod agrees with the parser on astral characters too.
 */
const userKeyText = z
  .string()
  .max(MAX_USER_KEY_LENGTH)
  .refine((key) => key.length <= MAX_USER_KEY_LENGTH, `at most ${MAX_USER_KEY_LENGTH} UTF-16 code units`);
const userKeyLength = `at most ${MAX_USER_KEY_LENGTH} characters, counted in UTF-16 code units as CleverTap does (JSON Schema's maxLength counts code points: a key of astral characters holds fewer)`;

const sessionText = absentOr(z.string());

const recordFields = {
  ...Object.fromEntries(KEY_FIELDS.map((field) => [field, absentOr(userKey(field, userKeyText))])),
  ts: absentOr(z.union([z.int().min(1), z.string().regex(/^0*[1-9][0-9]*$/)])).meta({
    description: `Epoch seconds, an integer or a string of digits, at most ${MAX_FUTURE_SECONDS} s after the server's receive time (further ahead: code 525). Absent or null: the receive time.`,
  }),
  session: absentOr(
    z.looseObject({
      source: sessionText,
      browser: sessionText,
      os: sessionText,
      device: sessionText,
      ua: sessionText,
      referrer: sessionText,
      url: sessionText,
    }),
  ).meta({
    description: `activenow extension. Explicit values (source, browser, os, device; trimmed, cut to ${MAX_VALUE_LENGTH} characters) win over those derived from ua, referrer and url.`,
  }),
};

const eventRecord = z.looseObject({
  ...recordFields,
  type: z.literal('event'),
  evtName: z.string().regex(/\S/).meta({ description: 'Not empty, not only white space (else code 509).' }),
  evtData: absentOr(z.looseObject({})),
});

const profileRecord = z.looseObject({
  ...recordFields,
  type: z.literal('profile'),
  profileData: absentOr(z.looseObject({})),
});

/**
 * A record `/1/upload` processes, for the document and for tests: uploads are not run through it.
 * Null stands for absent throughout, as in the parser.
 */
export const uploadRecordSchema = z
  .intersection(
    z.discriminatedUnion('type', [eventRecord, profileRecord]),
    z.union(KEY_FIELDS.map((field) => z.looseObject({ [field]: userKey(field, userKeyText.min(1)) }))),
  )
  .meta({
    description: `A CleverTap event or profile. Only events make a user active. User key: the first present (not null, not empty) of ${KEY_FIELDS.join(', ')}; ${userKeyLength}. Other keys are ignored. An invalid record does not fail the request: it is reported in \`unprocessed\` with its code.`,
  });

export const uploadRequestSchema = z
  .looseObject({
    d: z.array(uploadRecordSchema).max(MAX_RECORDS_PER_UPLOAD),
  })
  .meta({ description: 'Other top-level keys are ignored.' });

// ---------------------------------------------------------------------------------------------
// Responses

/** Every error of every route; HTTP status = code. */
export const errorEnvelopeSchema = z.strictObject({
  status: z.literal('fail'),
  error: z
    .string()
    .meta({ description: 'The catalogue message (docs/api.md, Errors), placeholders filled in.' }),
  code: z.literal([...new Set(Object.values(API_ERRORS).map((entry) => entry.status))]).meta({
    description: 'Equal to the HTTP status.',
  }),
});

const users = z.int().nonnegative();

const split = z.record(z.string(), users).meta({
  description:
    'Value → active users; values with no user left out; keys ordered by count descending, then value. Sums to count (to user_type.new under `new`).',
});

const splits = Object.fromEntries(DIMENSIONS.map((dimension) => [dimension, split.optional()])) as Record<
  (typeof DIMENSIONS)[number],
  z.ZodOptional<typeof split>
>;

export const nowResponseSchema = z.strictObject({
  status: z.literal('success'),
  count: users.meta({ description: 'Distinct users with at least one event in (now − window, now].' }),
  user_type: z.strictObject({ new: users, returning: users }).optional(),
  ...splits,
  new: z.strictObject(splits).optional().meta({
    description: 'Present when user_type and at least one split are asked: the splits of new users.',
  }),
  timeline: z
    .array(
      z.strictObject({
        ts: z.int().meta({ description: 'Start of the minute, epoch seconds.' }),
        count: users,
      }),
    )
    .length(TIMELINE_MINUTES)
    .optional()
    .meta({ description: 'activenow extension: oldest minute first, the current partial minute last.' }),
});

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

export const readTokenResponseSchema = z.strictObject({
  status: z.literal('success'),
  token: z.string(),
  expires_in: z.int().positive().meta({ description: 'Seconds the token stays valid.' }),
});

export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });

export const readyResponseSchema = z.strictObject({ status: z.literal('ready') });
