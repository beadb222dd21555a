import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/http/openapi-document.js';
import { ROUTES } from '../../src/http/routes/index.js';
import { uploadRecordSchema } from '../../src/ingest/clevertap-record-schema.js';
import { MAX_FUTURE_SECONDS, MAX_USER_KEY_LENGTH, parseRecords } from '../../src/ingest/clevertap-records.js';

/**
 * The upload parser does not go through zod (it is a hot path), so the documented record schema
 * (components.schemas.UploadRecord of GET /openapi.json) is held to it here: records generated from
 * that JSON Schema are accepted, and records that break one of its constraints are refused with
 * the documented code.
 */

type JsonSchema = Readonly<Record<string, unknown>>;

const R = 1_764_145_200; // receive time, epoch seconds
const document = buildOpenApiDocument(ROUTES, { horizonSeconds: 1800, maxBodyBytes: 1024 * 1024 });
const schemas = document.components.schemas as Record<string, JsonSchema>;
const recordSchema = schemas.UploadRecord;

/** The keywords the generator understands; any other one fails the test rather than being ignored. */
const KEYWORDS = new Set([
  'description',
  '$ref',
  'type',
  'const',
  'enum',
  'anyOf',
  'oneOf',
  'allOf',
  'properties',
  'required',
  'additionalProperties',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
]);

/** Every property name the schema mentions: extra keys are generated outside them. */
function propertyNames(schema: unknown, names = new Set<string>()): Set<string> {
  if (typeof schema !== 'object' || schema === null) return names;
  const properties = (schema as JsonSchema).properties;
  if (typeof properties === 'object' && properties !== null) {
    for (const name of Object.keys(properties)) names.add(name);
  }
  for (const value of Object.values(schema)) propertyNames(value, names);
  return names;
}

const NAMED = propertyNames(recordSchema);

/**
 * Values the JSON Schema accepts. `overrides` replace a property's values where the constraint is
 * stated in its description only (the bound of `ts` depends on the receive time). String lengths
 * are UTF-16 code units, as the user key's description says.
 */
function arbitraryOf(
  schema: JsonSchema,
  overrides: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<unknown> {
  const unknown = Object.keys(schema).filter((key) => !KEYWORDS.has(key));
  if (unknown.length > 0) throw new Error(`keywords the generator does not know: ${unknown.join(', ')}`);
  const sub = (value: unknown) => arbitraryOf(value as JsonSchema, overrides);
  if (typeof schema.$ref === 'string') return sub(schemas[schema.$ref.split('/').pop() as string]);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  if (Array.isArray(schema.anyOf)) return fc.oneof(...schema.anyOf.map(sub));
  if (Array.isArray(schema.oneOf)) return fc.oneof(...schema.oneOf.map(sub));
  if (Array.isArray(schema.allOf)) {
    return fc
      .tuple(...schema.allOf.map(sub))
      .map((parts) => Object.assign({}, ...(parts as object[])) as unknown);
  }
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => sub({ ...schema, type })));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'integer':
      return fc
        .maxSafeInteger()
        .filter(
          (n) =>
            n >= ((schema.minimum as number | undefined) ?? Number.MIN_SAFE_INTEGER) &&
            n <= ((schema.maximum as number | undefined) ?? Number.MAX_SAFE_INTEGER),
        );
    case 'string': {
      const minLength = (schema.minLength as number | undefined) ?? 0;
      const maxLength = (schema.maxLength as number | undefined) ?? 200;
      const strings =
        typeof schema.pattern === 'string'
          ? fc.stringMatching(new RegExp(schema.pattern))
          : fc.string({ unit: 'binary', minLength, maxLength });
      return strings.filter((s) => s.length >= minLength && s.length <= maxLength);
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      const shape = Object.fromEntries(
        Object.entries(properties).map(([name, value]) => [name, overrides[name] ?? sub(value)]),
      );
      const known = fc.record(shape, { requiredKeys: required });
      if (schema.additionalProperties === false) return known;
      const extra = fc.dictionary(
        fc.string().filter((key) => !NAMED.has(key)),
        fc.jsonValue(),
        { maxKeys: 2 },
      );
      return fc.tuple(extra, known).map(([more, fields]) => ({ ...more, ...fields }));
    }
  }
  throw new Error(`schema the generator does not handle: ${JSON.stringify(schema)}`);
}

/** Epoch seconds up to MAX_FUTURE_SECONDS past the receive time, in each form the schema allows. */
const documentedTs = fc.oneof(
  fc.integer({ min: 1, max: R + MAX_FUTURE_SECONDS }),
  fc
    .tuple(fc.integer({ min: 1, max: R + MAX_FUTURE_SECONDS }), fc.nat(3))
    .map(([ts, zeros]) => `${'0'.repeat(zeros)}${ts}`),
  fc.constant(null),
);

const records = arbitraryOf(recordSchema, { ts: documentedTs });

describe('the documented upload record and the parser', () => {
  it('accepts every record the document describes', () => {
    fc.assert(
      fc.property(records, (record) => {
        // The generator follows the JSON Schema; the zod schema it was generated from agrees.
        expect(uploadRecordSchema.safeParse(record).error?.issues).toBeUndefined();
        const parsed = parseRecords([record], R);
        expect(parsed.unprocessed).toEqual([]);
        expect(parsed.processed).toBe(1);
        expect(parsed.activities).toHaveLength((record as { type: string }).type === 'event' ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });

  const event = { identity: 'u1', type: 'event', evtName: 'App Launched' };
  it.each<[string, unknown, number]>([
    ['not an object', 'event', 512],
    ['a type outside the enum', { ...event, type: 'page' }, 524],
    ['an event without evtName', { identity: 'u1', type: 'event' }, 509],
    ['an evtName of white space only', { ...event, evtName: ' \t\n' }, 509],
    ['no identifier', { type: 'profile' }, 523],
    ['only empty or null identifiers', { ...event, identity: '', objectId: null, FBID: '' }, 523],
    ['a user key one character too long', { ...event, identity: 'x'.repeat(MAX_USER_KEY_LENGTH + 1) }, 523],
    [
      // JSON Schema's maxLength counts 61 code points; the description says UTF-16 code units, as zod checks.
      'a user key of astral characters over the limit in UTF-16 code units',
      { ...event, identity: '😀'.repeat(MAX_USER_KEY_LENGTH / 2 + 1) },
      523,
    ],
    ['an objectId that is a number', { type: 'event', evtName: 'e', objectId: 7 }, 526],
    ['an identity that is a boolean', { ...event, identity: true }, 512],
    ['ts 0', { ...event, ts: 0 }, 525],
    ['ts "000"', { ...event, ts: '000' }, 525],
    ['ts with a fraction', { ...event, ts: R - 0.5 }, 525],
    ['ts in exponent notation', { ...event, ts: '17e8' }, 525],
    ['evtData an array', { ...event, evtData: [] }, 512],
    ['profileData a string', { identity: 'u1', type: 'profile', profileData: 'Ada' }, 512],
    ['session a string', { ...event, session: 'Push' }, 512],
    ['a session value that is a number', { ...event, session: { browser: 7 } }, 512],
  ])('refuses %s, as the schema does, with the documented code', (_name, record, code) => {
    expect(uploadRecordSchema.safeParse(record).success).toBe(false);
    expect(parseRecords([record], R).unprocessed.map((failure) => failure.code)).toEqual([code]);
    const documentedCodes = (
      (schemas.RecordFailure.properties as Record<string, JsonSchema>).code as { enum: number[] }
    ).enum;
    expect(documentedCodes).toContain(code);
  });

  it(`refuses a ts more than ${MAX_FUTURE_SECONDS} s ahead, which only the description of ts can say`, () => {
    const ahead = { ...event, ts: R + MAX_FUTURE_SECONDS + 1 };
    expect(uploadRecordSchema.safeParse(ahead).success).toBe(true);
    expect(parseRecords([ahead], R).unprocessed.map((failure) => failure.code)).toEqual([525]);
    expect(parseRecords([{ ...ahead, ts: R + MAX_FUTURE_SECONDS }], R).unprocessed).toEqual([]);
    expect(JSON.stringify(recordSchema)).toContain(`at most ${MAX_FUTURE_SECONDS} s after`);
  });
});
