import { z } from 'zod';
import { MAX_PAGE_LENGTH, MAX_VALUE_LENGTH } from '../model/dimensions.js';
import { KEY_FIELDS, MAX_FUTURE_SECONDS, MAX_USER_KEY_LENGTH } from './clevertap-records.js';

/**
 * The records the parser beside this file (clevertap-records.ts) accepts, as a zod schema, for the
 * OpenAPI document and for tests: uploads are not run through it. The parser is a hot path written
 * by hand, so this can only describe it; it lives here, built from the parser's own constants, so
 * that a change of the parser's rules lands beside it, and test/unit/upload-record-schema.test.ts
 * holds the two together. Null stands for absent throughout, as in the parser.
 */

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
      page: sessionText.meta({
        description: `Page path or screen name; a URL gives its path, a path or URL loses its query and fragment; cut to ${MAX_PAGE_LENGTH} characters. Absent: the path of url.`,
      }),
      country: sessionText.meta({
        description:
          'ISO 3166-1 alpha-2 code, any case. Absent or not a code: the country of ip, else Unknown.',
      }),
      app_version: sessionText,
      ua: sessionText,
      referrer: sessionText,
      url: sessionText,
      ip: sessionText.meta({
        description: "The client's IP address, looked up for country and not stored.",
      }),
    }),
  ).meta({
    description: `activenow extension. Explicit values (source, browser, os, device, app_version; trimmed, cut to ${MAX_VALUE_LENGTH} characters) win over those derived from ua, referrer and url.`,
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

/** A record `POST /1/upload` processes. */
export const uploadRecordSchema = z
  .intersection(
    z.discriminatedUnion('type', [eventRecord, profileRecord]),
    z.union(KEY_FIELDS.map((field) => z.looseObject({ [field]: userKey(field, userKeyText.min(1)) }))),
  )
  .meta({
    description: `A CleverTap event or profile. Only events make a user active. User key: the first present (not null, not empty) of ${KEY_FIELDS.join(', ')}; ${userKeyLength}. Other keys are ignored. An invalid record does not fail the request: it is reported in \`unprocessed\` with its code.`,
  });
