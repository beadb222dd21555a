import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uploadBodies } from '../../bench/support/upload-bodies.js';
import { Workload } from '../../bench/support/workload.js';
import { MAX_JSON_DEPTH } from '../../src/defaults.js';
import { decodeJsonBody } from '../../src/http/json-body-parser.js';
import { recordsOf } from '../../src/http/routes/upload.js';
import {
  type ParsedUpload,
  parseRecords,
  RECORD_FIELDS,
  SESSION_FIELDS,
} from '../../src/ingest/clevertap-records.js';
import { loadCountryOfIp } from '../../src/ingest/country-of-ip.js';
import { deriveSession } from '../../src/ingest/derive-session.js';
import {
  parseUploadFast,
  parseUploadFastInSlices,
  RECORDS_PER_SLICE,
} from '../../src/ingest/upload-fast-path.js';
import { ApiError } from '../../src/model/api-errors.js';
import { MAX_RECORDS_PER_UPLOAD } from '../../src/protocol/upload-limits.js';

/**
 * The upload fast path (src/ingest/upload-fast-path.ts) against the reference path it falls back to
 * (decodeJsonBody, the route's recordsOf, parseRecords), the route's options on both: on every body
 * it answers, its result must be the reference path's, deep and strictly equal (activities in order,
 * `unprocessed` with codes, messages and record strings); on the bodies it does not answer, the
 * reference path decides. Bodies are generated as text, so that syntax JSON.stringify never writes
 * (escapes of every kind, white space anywhere, numbers in every form, duplicate keys) is in them.
 */

const R = 1_764_145_200;
const OPTIONS = { deriveSession, countryOfIp: loadCountryOfIp() };

type Outcome = { readonly upload: ParsedUpload } | { readonly error: { kind: string; message: string } };

function reference(body: Buffer): Outcome {
  try {
    return { upload: parseRecords(recordsOf(decodeJsonBody(body)), R, OPTIONS) };
  } catch (error) {
    if (error instanceof ApiError) return { error: { kind: error.kind, message: error.message } };
    throw error;
  }
}

/** The fast path's answer, which must then be the reference path's; undefined when it falls back. */
function fastAgrees(body: Buffer): ParsedUpload | undefined {
  const fast = parseUploadFast(body, R, OPTIONS);
  if (fast !== undefined) expect({ upload: fast }).toStrictEqual(reference(body));
  return fast;
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

// ---------------------------------------------------------------------------------------------
// JSON as text.

const ws = fc.constantFrom('', '', '', '', ' ', '\n', '\t', '\r\n', '  ');

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

const hex4 = (unit: number, upper: boolean) => {
  const digits = unit.toString(16).padStart(4, '0');
  return `\\u${upper ? digits.toUpperCase() : digits}`;
};

/**
 * `text` as a JSON string literal, each character written as `ways` says: as itself where JSON
 * allows it (never a control character, `"`, `\` or a lone surrogate), as its short escape, or
 * as `\u` escapes in lower or upper case (a surrogate pair as two).
 */
function literal(text: string, ways: readonly number[]): string {
  let out = '"';
  for (let i = 0, k = 0; i < text.length; i++, k++) {
    const unit = text.charCodeAt(i);
    const pair =
      unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const character = pair ? text.slice(i, i + 2) : text[i];
    const way = ways[k % ways.length] ?? 0;
    const lone = !pair && unit >= 0xd800 && unit <= 0xdfff;
    const mustEscape = unit < 0x20 || character === '"' || character === '\\' || lone;
    if (way <= 1 && !mustEscape) out += character;
    else if (way === 2 && SHORT_ESCAPES[character] !== undefined) out += SHORT_ESCAPES[character];
    else for (let u = 0; u < character.length; u++) out += hex4(character.charCodeAt(u), way === 3);
    if (pair) i++;
  }
  return `${out}"`;
}

/** Text content: ASCII, any code point, astral ones, lone surrogates, control characters. */
const anyText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 8, unit: 'binary' }),
  fc.string({ maxLength: 6, unit: fc.integer({ min: 0x1f600, max: 0x1f64f }).map(String.fromCodePoint) }),
  fc.string({
    maxLength: 4,
    unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u)),
  }),
  fc.string({
    maxLength: 6,
    unit: fc.constantFrom('"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\u0001', '\u007f'),
  }),
);

const ways = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 6 });

/** A JSON string literal of one of `texts`, written in any of the ways JSON allows. */
const stringOf = (texts: fc.Arbitrary<string>) => fc.tuple(texts, ways).map(([text, w]) => literal(text, w));

const digits = (min: number, max: number) =>
  fc
    .array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max, size: 'max' })
    .map((d) => d.join(''));

/** Any JSON number: sign, integer part, fraction, exponent in every form. */
const anyNumber = fc
  .tuple(
    fc.constantFrom('', '-'),
    fc.oneof(
      fc.constant('0'),
      fc.tuple(fc.integer({ min: 1, max: 9 }), digits(0, 22)).map(([a, b]) => `${a}${b}`),
    ),
    fc.oneof(
      fc.constant(''),
      digits(1, 4).map((d) => `.${d}`),
    ),
    fc.oneof(
      fc.constant(''),
      fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3)).map((p) => p.join('')),
    ),
  )
  .map((parts) => parts.join(''));

/** Numbers a record's rules tell apart: epoch seconds around R written in other forms, -0, huge ones. */
const telling = fc.constantFrom(
  String(R),
  String(R - 3600),
  String(R + 60),
  String(R + 61),
  `${R}.0`,
  '1.7641452e9',
  '1.7641452E+9',
  '17641452000e-1',
  `${R}.5`,
  '0',
  '-0',
  '-0.0',
  '1',
  '-1',
  '1e21',
  '1e400',
  '-1e400',
  '9007199254740993',
  // Digit by digit in doubles, these would round otherwise than JSON.parse.
  '34479836354718171',
  '663721169624271755046',
  '123456789012345678901234567890',
  '0.1',
  '5e-324',
);
const numberText = fc.oneof(anyNumber, telling);

/** Keys that bodies, records and sessions have. */
const KEYS = ['d', ...RECORD_FIELDS, ...SESSION_FIELDS];
/** Keys secure-json-parse refuses or looks into, which the fast path leaves to the reference path. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor'];
/** Any other text (fast-check's strings include those names now and then). */
const ordinaryKey = anyText.filter((text) => !PROTOTYPE_NAMES.includes(text));
const keyText = fc.oneof(fc.constantFrom(...KEYS), ordinaryKey);

/** A JSON value as text, nesting at most `depth` levels of objects and arrays. */
function jsonValue(depth: number, keys: fc.Arbitrary<string> = keyText): fc.Arbitrary<string> {
  const scalar = fc.oneof(stringOf(anyText), numberText, fc.constantFrom('true', 'false', 'null'));
  if (depth === 0) return scalar;
  const inner = jsonValue(depth - 1, keys);
  return fc.oneof(
    { weight: 3, arbitrary: scalar },
    { weight: 1, arbitrary: objectOf(fc.tuple(stringOf(keys), inner), 4) },
    { weight: 1, arbitrary: arrayOf(inner, 4) },
  );
}

/** `[a, b, …]` with white space anywhere. */
function arrayOf(elements: fc.Arbitrary<string>, maxLength: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(fc.tuple(ws, elements, ws), { maxLength }), ws)
    .map(([items, inside]) =>
      items.length === 0 ? `[${inside}]` : `[${items.map((i) => i.join('')).join(',')}]`,
    );
}

/** `{"k": v, …}` from [key literal, value] members, with white space anywhere. */
function objectOf(members: fc.Arbitrary<readonly [string, string]>, maxLength: number): fc.Arbitrary<string> {
  return membersObject(fc.array(members, { maxLength }));
}

function membersObject(members: fc.Arbitrary<readonly (readonly [string, string])[]>): fc.Arbitrary<string> {
  return fc
    .tuple(members, fc.array(fc.tuple(ws, ws, ws, ws), { minLength: 1, maxLength: 20 }), ws)
    .map(([list, spaces, inside]) => {
      if (list.length === 0) return `{${inside}}`;
      const text = list.map(([key, value], i) => {
        const [a, b, c, d] = spaces[i % spaces.length];
        return `${a}${key}${b}:${c}${value}${d}`;
      });
      return `{${text.join(',')}}`;
    });
}

/** Members in a generated order: `sortKeys` has one number per member. */
const shuffled = <T>(items: readonly T[], sortKeys: readonly number[]) =>
  items
    .map((item, i) => [item, sortKeys[i] ?? i] as const)
    .sort((a, b) => a[1] - b[1])
    .map(([item]) => item);

// ---------------------------------------------------------------------------------------------
// Records.

const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'curl/8.5.0',
  '',
];
const REFERRERS = [
  'https://www.google.com/',
  'https://t.co/x',
  'android-app://com.slack',
  'https://shop.example/',
  '',
];
const URLS = [
  'https://shop.example/?utm_medium=email&utm_source=news',
  'https://shop.example/?gclid=1',
  '/x',
  '',
];
const SESSION_VALUES = [
  'Push',
  'organic_search',
  ' Direct ',
  'PAID-SEARCH',
  'unknown',
  'newsletter',
  'Chrome',
  'App',
  'mac os',
  'Android',
  'MOBILE',
  'fridge',
  ' ',
  'o'.repeat(80),
];
const PAGES = ['/cart', 'https://shop.example/a?b=1#c', 'Home Screen', '/x?', ' ', 'p'.repeat(140)];
const COUNTRIES = ['IN', 'us', ' de ', 'ZZ', 'India', ''];
const ADDRESSES = ['8.8.8.8', '::ffff:8.8.8.8', '2001:4860:4860::8888', '10.0.0.1', 'not an ip'];

/** A field's values: those its rule accepts, and those it refuses. */
interface FieldValues {
  readonly valid: fc.Arbitrary<string>;
  readonly invalid: fc.Arbitrary<string>;
}

/** Mostly a valid value, now and then an invalid one. */
const mostly = ({ valid, invalid }: FieldValues) =>
  fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: invalid });
/** Valid and invalid values alike. */
const either = ({ valid, invalid }: FieldValues) => fc.oneof(valid, invalid);

/** A value of another type than a string, or null. */
const otherValue = fc.oneof(
  numberText,
  fc.constantFrom('true', 'false', 'null', '{}', '[]', '{"a":1}', '["x"]'),
);

/** A session field's values: strings of `pool` or null, and values of other types. */
const sessionText = (pool: readonly string[]): FieldValues => ({
  valid: fc.oneof(
    { weight: 6, arbitrary: stringOf(fc.constantFrom(...pool)) },
    { weight: 1, arbitrary: fc.constant('null') },
  ),
  invalid: otherValue.filter((value) => value !== 'null'),
});

const sessionMember = (pick: (values: FieldValues) => fc.Arbitrary<string>) =>
  fc.oneof(
    fc.tuple(
      stringOf(fc.constantFrom('source', 'browser', 'os', 'device')),
      pick(sessionText(SESSION_VALUES)),
    ),
    fc.tuple(stringOf(fc.constant('ua')), pick(sessionText(USER_AGENTS))),
    fc.tuple(stringOf(fc.constant('referrer')), pick(sessionText(REFERRERS))),
    fc.tuple(stringOf(fc.constant('url')), pick(sessionText(URLS))),
    fc.tuple(stringOf(fc.constant('page')), pick(sessionText(PAGES))),
    fc.tuple(stringOf(fc.constant('country')), pick(sessionText(COUNTRIES))),
    fc.tuple(stringOf(fc.constant('app_version')), pick(sessionText(SESSION_VALUES))),
    fc.tuple(stringOf(fc.constant('ip')), pick(sessionText(ADDRESSES))),
    fc.tuple(stringOf(ordinaryKey), jsonValue(1)),
  );

const session: FieldValues = {
  valid: fc.oneof(objectOf(sessionMember(mostly), 6), fc.constant('null')),
  invalid: fc.oneof(objectOf(sessionMember(either), 6), otherValue, stringOf(anyText)),
};

const userKey: FieldValues = {
  valid: fc.oneof(
    { weight: 4, arbitrary: stringOf(fc.string({ minLength: 1, maxLength: 20 })) },
    { weight: 2, arbitrary: stringOf(anyText.filter((text) => text !== '')) },
    // 120 UTF-16 code units, in ASCII and in astral characters (two units each).
    { weight: 1, arbitrary: stringOf(fc.constantFrom('i'.repeat(120), '😀'.repeat(60))) },
    { weight: 2, arbitrary: numberText },
  ),
  invalid: fc.oneof(
    stringOf(fc.constantFrom('i'.repeat(121), '😀'.repeat(61))),
    otherValue,
    fc.constant('""'),
  ),
};

/** An epoch second from an hour before R to 60 s after it, in one of the ways JSON can write it. */
const validTs = fc
  .tuple(fc.integer({ min: R - 3600, max: R + 60 }), fc.integer({ min: 0, max: 5 }))
  .map(
    ([second, way]) =>
      [`${second}`, `${second}.0`, `${second}e0`, `${second}0E-1`, `"${second}"`, `"000${second}"`][way],
  );

const ts: FieldValues = {
  valid: fc.oneof(validTs, fc.constant('null')),
  invalid: fc.oneof(
    numberText,
    stringOf(fc.constantFrom(String(R + 61), '17641452OO', ` ${R}`, '', '0', '-1')),
    otherValue,
  ),
};

const evtName: FieldValues = {
  valid: fc.oneof(
    { weight: 4, arbitrary: stringOf(fc.constantFrom('App Launched', 'Charged', ' Charged ', 'é', '😀')) },
    { weight: 1, arbitrary: stringOf(anyText.filter((text) => text.trim() !== '')) },
  ),
  invalid: fc.oneof(stringOf(fc.constantFrom('', ' ', '\t\n', '\u00a0', '\u2028', '\ufeff')), otherValue),
};

const type: FieldValues = {
  valid: stringOf(fc.constantFrom('event', 'event', 'event', 'profile')),
  invalid: fc.oneof(stringOf(fc.constantFrom('Event', 'page', 'event ', '')), otherValue),
};

/** evtData or profileData: an object (or null), else any value. */
const payload: FieldValues = {
  valid: fc.oneof(objectOf(fc.tuple(stringOf(keyText), jsonValue(2)), 5), fc.constant('null')),
  invalid: jsonValue(3),
};

const field = (name: string, value: fc.Arbitrary<string>) =>
  fc.tuple(stringOf(fc.constant(name)), value) as fc.Arbitrary<readonly [string, string]>;

const anyField = fc.oneof(
  field('type', either(type)),
  field('identity', either(userKey)),
  field('objectId', either(userKey)),
  field('FBID', either(userKey)),
  field('GPID', either(userKey)),
  field('ts', either(ts)),
  field('evtName', either(evtName)),
  field('evtData', either(payload)),
  field('profileData', either(payload)),
  field('session', either(session)),
  fc.tuple(stringOf(keyText), jsonValue(2)),
);

/** A record as clients send it (identity, type, evtName, …), in any order, sometimes with more fields. */
const usualRecord = membersObject(
  fc
    .tuple(
      field('identity', mostly(userKey)),
      field('type', mostly(type)),
      field('evtName', mostly(evtName)),
      fc.option(field('ts', mostly(ts)), { nil: undefined }),
      fc.option(field('evtData', mostly(payload)), { nil: undefined }),
      fc.option(field('session', mostly(session)), { nil: undefined }),
      fc.array(anyField, { maxLength: 2 }),
      fc.array(fc.double(), { minLength: 8, maxLength: 8 }),
    )
    .map(([identity, t, name, stamp, data, s, extra, order]) =>
      shuffled(
        [identity, t, name, stamp, data, s, ...extra].filter((m) => m !== undefined),
        order,
      ),
    ),
);

const record = fc.oneof(
  { weight: 5, arbitrary: usualRecord },
  { weight: 2, arbitrary: objectOf(anyField, 8) },
  { weight: 1, arbitrary: jsonValue(2) },
);

// ---------------------------------------------------------------------------------------------
// Bodies.

/** A body the fast path must answer: an object with one `d`, an array of at most 1000 records. */
const handledBody = fc
  .tuple(
    arrayOf(record, 6),
    fc.array(fc.tuple(stringOf(ordinaryKey.filter((key) => key !== 'd')), jsonValue(2)), { maxLength: 3 }),
    fc.nat(),
  )
  .chain(([records, extra, at]) => {
    const members = [...extra];
    members.splice(at % (extra.length + 1), 0, [literal('d', [0]), records]);
    return membersObject(fc.constant(members));
  })
  .chain((body) => fc.tuple(ws, ws).map(([before, after]) => `${before}${body}${after}`));

/** Nested arrays `levels` deep around `inner`. */
const nested = (levels: number, inner = '1') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;

/** The keys secure-json-parse looks for, plainly and escaped (`prototype` alone it lets through). */
const PROTOTYPE_KEYS = [
  '"__proto__"',
  '"\\u005f_proto__"',
  '"constructor"',
  '"\\u0063onstructor"',
  '"prototype"',
];

/** Ways a body can go wrong, or be unusual, each applied to a handled body. */
const mutation: fc.Arbitrary<(text: string) => Buffer> = fc.oneof(
  // Cut short, or a byte replaced or inserted anywhere.
  fc.nat().map((at) => (text: string) => utf8(text).subarray(0, at % (utf8(text).length + 1))),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom(',', '}', ']', '"', '\\', '0', ' ', '\u0001', 'x', ':', '{', '['),
      fc.boolean(),
    )
    .map(([at, char, replace]) => (text: string) => {
      const i = at % (text.length + 1);
      return utf8(text.slice(0, i) + char + text.slice(replace ? i + 1 : i));
    }),
  // Bytes that are not UTF-8: a lone continuation byte, a cut sequence, an overlong form, a surrogate.
  fc
    .tuple(fc.nat(), fc.constantFrom([0xff], [0x80], [0xc3], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80]))
    .map(([at, bytes]) => (text: string) => {
      const body = utf8(text);
      const i = at % (body.length + 1);
      return Buffer.concat([body.subarray(0, i), Buffer.from(bytes), body.subarray(i)]);
    }),
  // A prototype key where a key can be: the body, the records, the sessions, nested payloads.
  fc
    .tuple(
      fc.constantFrom(...PROTOTYPE_KEYS),
      fc.constantFrom('1', '{}', '{"prototype":{}}', 'null'),
      fc.nat(),
    )
    .map(([key, value, nth]) => (text: string) => {
      const opens = [...text.matchAll(/\{/g)];
      if (opens.length === 0) return utf8(text);
      const at = (opens[nth % opens.length].index as number) + 1;
      const after = /^\s*\}/.test(text.slice(at)) ? '' : ',';
      return utf8(`${text.slice(0, at)}${key}:${value}${after}${text.slice(at)}`);
    }),
  // The body as another value; d twice, not an array, or absent; a BOM; text after the body.
  fc.constantFrom(
    (text: string) => utf8(`[${text}]`),
    (text: string) => utf8(`{"d":[],${text.trim().slice(1)}`),
    (text: string) => utf8(text.replace(/"d"\s*:/, '"d":{"x":').replace(/\}\s*$/, '}}')),
    (text: string) => utf8(text.replace(/"d"\s*:/, '"e":')),
    (text: string) => utf8(`\ufeff${text}`),
    (text: string) => utf8(`${text} 1`),
    (text: string) => utf8(`${text}${text}`),
  ),
);

/** Bodies nested around the limit, too many records, and the other shapes of a body. */
const edgeBody = fc.oneof(
  fc
    .tuple(fc.integer({ min: MAX_JSON_DEPTH - 6, max: MAX_JSON_DEPTH + 2 }), fc.boolean())
    .map(([depth, inRecord]) =>
      inRecord
        ? // body, d, record, evtData: three levels above the payload.
          `{"d":[{"identity":"u","type":"event","evtName":"e","evtData":{"x":${nested(depth - 4)}}}]}`
        : `{"x":${nested(depth - 1)},"d":[]}`,
    ),
  fc
    .constantFrom(MAX_RECORDS_PER_UPLOAD, MAX_RECORDS_PER_UPLOAD + 1)
    .map(
      (n) =>
        `{"d":[${Array.from({ length: n }, (_, i) => `{"identity":"u${i}","type":"event","evtName":"e"}`).join(',')}]}`,
    ),
  fc.constantFrom(
    '',
    ' ',
    '[]',
    '"d"',
    '1',
    'null',
    '{}',
    '{"d":null}',
    '{"d":"[]"}',
    '{"d":{}}',
    '{"D":[]}',
  ),
);

const anyBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: handledBody.map(utf8) },
  { weight: 5, arbitrary: fc.tuple(handledBody, mutation).map(([text, mutate]) => mutate(text)) },
  { weight: 1, arbitrary: edgeBody.map(utf8) },
);

// ---------------------------------------------------------------------------------------------

describe('upload fast path against the reference path', () => {
  it('answers every object with one array `d` of at most 1000 records, as the reference path', () => {
    const seen = { activities: 0, withValues: 0, codes: new Set<number>() };
    fc.assert(
      fc.property(handledBody, (text) => {
        const fast = fastAgrees(utf8(text));
        expect(fast).toBeDefined();
        for (const activity of fast?.activities ?? []) {
          seen.activities++;
          if (activity.sessionSource ?? activity.browser ?? activity.os ?? activity.device) seen.withValues++;
        }
        for (const failure of fast?.unprocessed ?? []) seen.codes.add(failure.code);
      }),
      { numRuns: 2000 },
    );
    // The bodies must have held valid events, some with session values, and refused records of every code.
    expect(seen.activities).toBeGreaterThan(500);
    expect(seen.withValues).toBeGreaterThan(100);
    expect([...seen.codes].sort()).toEqual([509, 512, 523, 524, 525, 526]);
  });

  it('on any body, answers as the reference path or leaves it to it', () => {
    const seen = { answered: 0, fellBack: 0, refused: 0 };
    fc.assert(
      fc.property(anyBody, (body) => {
        if (fastAgrees(body) !== undefined) seen.answered++;
        else {
          seen.fellBack++;
          if ('error' in reference(body)) seen.refused++;
        }
      }),
      { numRuns: 3000 },
    );
    // Both sides must have been exercised, and refused bodies too.
    expect(seen.answered).toBeGreaterThan(300);
    expect(seen.fellBack).toBeGreaterThan(300);
    expect(seen.refused).toBeGreaterThan(300);
  });

  it('answers every body of the benchmarks, as the reference path', () => {
    const workload = new Workload({
      users: 2000,
      activities: 3000,
      batchSize: 1000,
      spanSeconds: 1,
      seed: 7,
    });
    for (const body of uploadBodies(workload, R)) {
      const fast = fastAgrees(body);
      expect(fast?.processed).toBe(1000);
    }
  });
});

/** Bodies of up to a few slices' records (their records repeated), and some that are not handled. */
const longBody: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.array(record, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 50 }))
      .map(([records, times]) =>
        utf8(`{"d":[${Array.from({ length: times }, () => records.join(',')).join(',')}]}`),
      ),
  },
  { weight: 1, arbitrary: anyBody },
);

describe('upload fast path read in slices', () => {
  it('gives what it gives read whole, with other uploads read in between', async () => {
    /** Answered bodies of more than one slice: the generator must make some. */
    let sliced = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(longBody, { minLength: 1, maxLength: 4 }), async (bodies) => {
        const whole = bodies.map((body) => parseUploadFast(body, R, OPTIONS));
        const inSlices = await Promise.all(bodies.map((body) => parseUploadFastInSlices(body, R, OPTIONS)));
        expect(inSlices).toStrictEqual(whole);
        for (const upload of whole) {
          if (upload !== undefined && upload.processed + upload.unprocessed.length > RECORDS_PER_SLICE)
            sliced++;
        }
      }),
      { numRuns: 120 },
    );
    expect(sliced).toBeGreaterThan(20);
  });

  it('lets the event loop turn while it reads', async () => {
    const records = Array.from({ length: 3 * RECORDS_PER_SLICE }, (_, i) =>
      JSON.stringify({ identity: `u${i}`, type: 'event', evtName: 'x', ts: R }),
    );
    const body = utf8(`{"d":[${records.join(',')}]}`);
    const ticks = () => new Promise((resolve) => setImmediate(resolve));
    let done = false;
    const reading = parseUploadFastInSlices(body, R, OPTIONS).then((result) => {
      done = true;
      return result;
    });
    let immediates = 0;
    while (!done) {
      await ticks();
      immediates++;
    }
    expect((await reading)?.processed).toBe(3 * RECORDS_PER_SLICE);
    // Three slices: at least two pauses, each a turn in which this loop's own immediate ran too.
    expect(immediates).toBeGreaterThanOrEqual(2);
  });
});

describe('upload fast path: examples', () => {
  const event = '"type":"event","evtName":"e"';

  it.each<[string, string]>([
    [
      'escapes of every kind',
      `{"d":[{"identity":"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\ude00\\ud800",${event}}]}`,
    ],
    ['raw non-ASCII', `{"d":[{"identity":"é😀ü",${event},"session":{"browser":"Fire\u00e9fox"}}]}`],
    ['escaped keys', `{"\\u0064":[{"\\u0069dentity":"u",${event},"s\\u0065ssion":{"\\u006fs":"ios"}}]}`],
    [
      'a duplicate key: the last wins',
      `{"d":[{"identity":"a","identity":"b",${event},"session":{"os":"x"},"session":null}]}`,
    ],
    ['white space everywhere', ` \n{ "x" : [ 1 , { } ] ,\t"d" :\r\n[ { "identity" : 12 , ${event} } ] } \n`],
    ['ts written with an exponent', `{"d":[{"identity":"u",${event},"ts":1.7641452e9}]}`],
    [
      'refused records of every kind',
      `{"d":[5,"x",null,[],{"identity":"u","type":"event"},{"type":"profile","identity":{}},{"b":1,"2":[],"type":"x"}]}`,
    ],
    [
      'a refused record keeps its duplicate keys as JSON.parse does',
      `{"d":[{"type":"x","a":1,"a":2,"1":0}]}`,
    ],
    [
      'prototype keys (secure-json-parse refuses them only in a constructor)',
      `{"d":[{"identity":"u",${event},"prototype":{"prototype":1}}],"prototype":[]}`,
    ],
    [
      'the largest integers and -0',
      `{"d":[{"identity":-0,${event}},{"FBID":123456789012345678,${event}},{"GPID":1e400,${event}}]}`,
    ],
    [
      'nesting at the limit',
      `{"d":[{"identity":"u",${event},"evtData":${nested(MAX_JSON_DEPTH - 4, '{}')}}]}`,
    ],
  ])('answers: %s', (_name, text) => {
    expect(fastAgrees(utf8(text))).toBeDefined();
  });

  /** A body it leaves to the reference path, and what that answers. */
  it.each<[string, Buffer, string | number]>([
    [
      'bytes that are not UTF-8 (refused before JSON)',
      Buffer.from([0x7b, 0x22, 0xff, 0x22]),
      'invalidEncoding',
    ],
    ['invalid JSON', utf8(`{"d":[{"identity":01,${event}}]}`), 'invalidJson'],
    ['text after the body', utf8('{"d":[]} {}'), 'invalidJson'],
    ['a __proto__ key', utf8(`{"d":[{"identity":"u",${event},"__proto__":{}}]}`), 'invalidJson'],
    ['an escaped __proto__ key', utf8(`{"d":[],"x":{"\\u005f_proto__":1}}`), 'invalidJson'],
    ['constructor.prototype', utf8(`{"d":[{"constructor":{"prototype":1}}]}`), 'invalidJson'],
    [
      'a constructor key the reference path accepts',
      utf8(`{"d":[{"identity":"u",${event},"constructor":1}]}`),
      1,
    ],
    ['nesting beyond the limit', utf8(`{"d":[],"x":${nested(MAX_JSON_DEPTH)}}`), 'invalidJson'],
    ['a body that is not an object', utf8('[]'), 'bodyNotObject'],
    ['no d', utf8('{"e":[]}'), 'recordsMissing'],
    ['d not an array', utf8('{"d":{}}'), 'recordsMissing'],
    ['no bytes', Buffer.alloc(0), 'recordsMissing'],
    [
      'too many records',
      utf8(
        `{"d":[${Array(MAX_RECORDS_PER_UPLOAD + 1)
          .fill('{}')
          .join(',')}]}`,
      ),
      'tooManyRecords',
    ],
    ['d twice: the last counts', utf8(`{"d":[],"d":[{"identity":"u",${event}}]}`), 1],
    ['a byte order mark, which secure-json-parse skips', utf8(`\ufeff{"d":[{"identity":"u",${event}}]}`), 1],
  ])('leaves to the reference path: %s', (_name, body, expected) => {
    expect(parseUploadFast(body, R, OPTIONS)).toBeUndefined();
    const outcome = reference(body);
    if (typeof expected === 'number') expect(outcome).toMatchObject({ upload: { processed: expected } });
    else expect(outcome).toMatchObject({ error: { kind: expected } });
  });
});
