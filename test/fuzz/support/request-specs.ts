import fc from 'fast-check';
import { SESSION_FIELDS } from '../../../src/ingest/clevertap-records.js';
import type { NowFilter } from '../../../src/model/now-query.js';
import { SPLIT_NAMES } from '../../../src/protocol/dimensions.js';

/**
 * Symbolic descriptions of fuzzed HTTP requests. They name accounts, users and mutations rather
 * than holding credentials or bytes, so a counterexample reads as what was sent, and the same spec
 * can be turned into bytes for whichever accounts a run uses (wire.ts). Every mutation here is
 * either known to keep a request valid (then the oracle learns what it stores) or known to make it
 * invalid (then nothing may change): nothing in between, so the oracle never has to guess.
 */

/** The two accounts of this region a run writes to; `C` (another region) must stay empty. */
export type Who = 'A' | 'B';

/** Users of the fuzzed uploads and hits: plain, numeric, unicode, with NUL and trailing space. */
export const USERS = [
  ...Array.from({ length: 24 }, (_, i) => `fz-${i}`),
  '42',
  'fz-ü-ß-𝄞',
  'fz-\u0000-nul',
  'fz-trailing ',
  'фз-кириллица',
  '🙂',
] as const;

/** Explicit dimension values, as canonical names (normalization has its own tests). */
const SOURCES = ['Direct', 'Organic Search', 'Push', 'Email', 'Deep Link'] as const;
const BROWSERS = ['Chrome', 'Safari', 'Firefox', 'App', 'Brave'] as const;
const OSES = ['Android', 'iOS', 'Windows', 'Linux', 'HarmonyOS'] as const;
const DEVICES = ['Mobile', 'Desktop', 'Tablet', 'TV'] as const;
/** Pages as sent, all already normalized, so each is the value the server keeps. */
export const PAGES = ['/', '/pricing', '/docs/start', 'Home Screen', 'Other'] as const;
const COUNTRIES = ['IN', 'US', 'DE', 'BR'] as const;
const APP_VERSIONS = ['5.2.0', '5.3.0-beta', '6'] as const;

// ------------------------------------------------------------------------------------------ routes

export interface RouteSpec {
  readonly path: string;
  /** The method the route serves; fuzzing favours it. */
  readonly method: string;
  /** Needs the CleverTap credential headers. */
  readonly authenticated: boolean;
}

/** Every route of the server (a test checks this list against the routes the app registers). */
export const ROUTES: readonly RouteSpec[] = [
  { path: '/1/now.json', method: 'POST', authenticated: true },
  { path: '/1/upload', method: 'POST', authenticated: true },
  { path: '/1/now/token', method: 'POST', authenticated: true },
  { path: '/1/now/stream', method: 'GET', authenticated: false },
  { path: '/1/collect', method: 'POST', authenticated: false },
  { path: '/activenow.js', method: 'GET', authenticated: false },
  { path: '/dashboard', method: 'GET', authenticated: false },
  { path: '/dashboard/app.js', method: 'GET', authenticated: false },
  { path: '/dashboard/style.css', method: 'GET', authenticated: false },
  { path: '/healthz', method: 'GET', authenticated: false },
  { path: '/readyz', method: 'GET', authenticated: false },
  { path: '/metrics', method: 'GET', authenticated: false },
  { path: '/openapi.json', method: 'GET', authenticated: false },
];

/** Paths that are no route, fuzzed beside the real ones. */
const JUNK_ROUTES: readonly RouteSpec[] = [
  '/',
  '/1',
  '/1/',
  '/favicon.ico',
  '/1/accounts',
  '/2/now.json',
  '/1/now',
  '/.env',
].map((path) => ({ path, method: 'GET', authenticated: false }));

export type PathMutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'trailing-slash' }
  | { readonly kind: 'upper-case' }
  /** Percent-encodes the character at `at` (a fraction of the length) of the last segment. */
  | { readonly kind: 'encode-char'; readonly at: number; readonly lowerHex: boolean }
  | { readonly kind: 'encoded-slash' }
  | { readonly kind: 'dot-segment'; readonly parent: boolean }
  | { readonly kind: 'double-slash' }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'repeat'; readonly times: number };

const pathMutationArb: fc.Arbitrary<PathMutation> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.constant({ kind: 'trailing-slash' as const }),
  fc.constant({ kind: 'upper-case' as const }),
  fc.record({
    kind: fc.constant('encode-char' as const),
    at: fc.double({ min: 0, max: 0.999, noNaN: true }),
    lowerHex: fc.boolean(),
  }),
  fc.constant({ kind: 'encoded-slash' as const }),
  fc.record({ kind: fc.constant('dot-segment' as const), parent: fc.boolean() }),
  fc.constant({ kind: 'double-slash' as const }),
  fc.record({
    kind: fc.constant('suffix' as const),
    suffix: fc.oneof(
      fc.constantFrom(';x=1', '%00', '%', '%zz', '/..', '/.', '.bak', '~', '\u00e9', '/𝄞', '%C0%AF', '*'),
      fc.string({ maxLength: 12 }),
    ),
  }),
  fc.record({ kind: fc.constant('repeat' as const), times: fc.constantFrom(2, 50, 400, 4000) }),
);

/** Query parameters, each kept as written: `dryRun` values with a documented meaning, or junk. */
export type QueryPart =
  | { readonly kind: 'dryRun'; readonly value: '1' | 'true' | '0' | 'false' | 'maybe' | '%31' }
  | { readonly kind: 'token'; readonly token: TokenSpec }
  | { readonly kind: 'junk'; readonly text: string };

const junkQueryArb = fc.oneof(
  fc.constantFrom('a=1', 'x', '=', '&&', 'a=%ZZ', '__proto__=1', 'constructor[prototype]=1', 'a[]=1&a[]=2'),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .filter((text) => !/^(dryRun|token)=/i.test(text)),
);

// ------------------------------------------------------------------------------------ credentials

export type CredentialSpec =
  | { readonly kind: 'right'; readonly who: Who; readonly padded: boolean }
  /** The account id of `who` with the other account's passcode. */
  | { readonly kind: 'wrong-passcode'; readonly who: Who }
  | { readonly kind: 'unknown-account' }
  | { readonly kind: 'foreign-region' }
  | { readonly kind: 'missing'; readonly which: 'id' | 'passcode' | 'both' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'long'; readonly which: 'id' | 'passcode'; readonly length: number }
  | { readonly kind: 'garbage'; readonly id: string; readonly passcode: string }
  /** Both headers twice (raw socket: two lines; fetch: one value joined with a comma). */
  | { readonly kind: 'duplicated'; readonly who: Who; readonly secondWrong: boolean };

export const credentialArb: fc.Arbitrary<CredentialSpec> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant('right' as const),
      who: fc.constantFrom<Who>('A', 'A', 'B'),
      padded: fc.boolean(),
    }),
  },
  fc.record({ kind: fc.constant('wrong-passcode' as const), who: fc.constantFrom<Who>('A', 'B') }),
  fc.constant({ kind: 'unknown-account' as const }),
  fc.constant({ kind: 'foreign-region' as const }),
  fc.record({ kind: fc.constant('missing' as const), which: fc.constantFrom('id', 'passcode', 'both') }),
  fc.constant({ kind: 'empty' as const }),
  fc.record({
    kind: fc.constant('long' as const),
    which: fc.constantFrom('id', 'passcode'),
    length: fc.constantFrom(256, 257, 300, 8000),
  }),
  fc.record({
    kind: fc.constant('garbage' as const),
    id: fc.string({ unit: 'binary', maxLength: 40 }),
    passcode: fc.string({ unit: 'binary', maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant('duplicated' as const),
    who: fc.constantFrom<Who>('A', 'B'),
    secondWrong: fc.boolean(),
  }),
);

/** Read tokens for `GET /1/now/stream?token=`: issued for real, or forged in some way. */
export type TokenSpec =
  | { readonly kind: 'issued'; readonly who: Who; readonly idHeader: 'none' | 'same' | 'other' }
  | { readonly kind: 'expired'; readonly who: Who }
  | { readonly kind: 'foreign-region' }
  | { readonly kind: 'tampered'; readonly who: Who; readonly at: number }
  | { readonly kind: 'garbage'; readonly text: string };

const tokenArb: fc.Arbitrary<TokenSpec> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('issued' as const),
      who: fc.constantFrom<Who>('A', 'B'),
      idHeader: fc.constantFrom('none', 'none', 'same', 'other'),
    }),
  },
  fc.record({ kind: fc.constant('expired' as const), who: fc.constantFrom<Who>('A', 'B') }),
  fc.constant({ kind: 'foreign-region' as const }),
  fc.record({
    kind: fc.constant('tampered' as const),
    who: fc.constantFrom<Who>('A', 'B'),
    at: fc.double({ min: 0, max: 0.999, noNaN: true }),
  }),
  fc.record({ kind: fc.constant('garbage' as const), text: fc.string({ maxLength: 600 }) }),
);

// ------------------------------------------------------------------------------------------ bodies

/** JSON with no string equal to "event" or "profile" and no prototype keys: never a valid record. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const KEYS = [
  'd',
  'type',
  'identity',
  'objectId',
  'evtName',
  'evtData',
  'ts',
  'session',
  'user_type',
  'window',
];
const jsonStringArb = fc
  .oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...KEYS))
  .filter((s) => s !== 'event' && s !== 'profile');
const jsonKeyArb = jsonStringArb.filter((s) => s !== '__proto__' && s !== 'constructor');

export const jsonArb: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    jsonStringArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(jsonKeyArb, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const jsonObjectArb = fc.dictionary(jsonKeyArb, jsonArb, { maxKeys: 4 });

/** One activity of an upload: user, age (absent: no ts) and explicit session values. */
export interface EventSpec {
  readonly user: number;
  /** Seconds before the server clock; negative up to -60 lies in the allowed future. */
  readonly age: number | undefined;
  readonly tsAsString: boolean;
  readonly idField: 'identity' | 'objectId' | 'FBID' | 'GPID';
  /** `identity` sent as a JSON number when the user key is all digits. */
  readonly numericId: boolean;
  readonly evtName: string;
  readonly evtData: { [key: string]: Json } | undefined;
  readonly source: string | undefined;
  readonly browser: string | undefined;
  readonly os: string | undefined;
  readonly device: string | undefined;
  readonly page: string | undefined;
  readonly country: string | undefined;
  readonly appVersion: string | undefined;
}

const optionalOf = (values: readonly string[]) => fc.option(fc.constantFrom(...values), { nil: undefined });

export const eventSpecArb: fc.Arbitrary<EventSpec> = fc.record({
  user: fc.nat({ max: USERS.length - 1 }),
  age: fc.option(
    fc.oneof(
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: -60, max: -1 }),
      fc.constantFrom(0, 299, 300, 301, 1799, 1800, 1801),
      fc.integer({ min: 1801, max: 100_000 }),
    ),
    { nil: undefined },
  ),
  tsAsString: fc.boolean(),
  idField: fc.constantFrom('identity', 'identity', 'identity', 'objectId', 'FBID', 'GPID'),
  numericId: fc.boolean(),
  evtName: fc
    .oneof(fc.constant('App Launched'), fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }))
    .filter((name) => name.trim() !== ''),
  evtData: fc.option(jsonObjectArb, { nil: undefined }),
  source: optionalOf(SOURCES),
  browser: optionalOf(BROWSERS),
  os: optionalOf(OSES),
  device: optionalOf(DEVICES),
  page: optionalOf(PAGES),
  country: optionalOf(COUNTRIES),
  appVersion: optionalOf(APP_VERSIONS),
});

/** Breaks exactly one rule of a valid event record; `code` is the record error it must get. */
export type RecordMutation =
  | { readonly kind: 'not-object'; readonly value: Json }
  | { readonly kind: 'type'; readonly value: Json | undefined }
  | { readonly kind: 'no-identifier' }
  | { readonly kind: 'identity'; readonly value: Json }
  | { readonly kind: 'object-id'; readonly value: Json }
  | { readonly kind: 'ts'; readonly value: Json; readonly future: number | undefined }
  | { readonly kind: 'evt-name'; readonly value: Json | undefined }
  | { readonly kind: 'evt-data'; readonly value: Json }
  | { readonly kind: 'session'; readonly value: Json }
  | { readonly kind: 'session-field'; readonly field: string; readonly value: Json };

export const MUTATION_CODES: Record<RecordMutation['kind'], number> = {
  'not-object': 512,
  type: 524,
  'no-identifier': 523,
  identity: 523,
  'object-id': 526,
  ts: 525,
  'evt-name': 509,
  'evt-data': 512,
  session: 512,
  'session-field': 512,
};

const mutationArb: fc.Arbitrary<RecordMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('not-object' as const),
    value: fc.constantFrom<Json>(null, 1, 'x', [], [{ type: 'x' }], true),
  }),
  fc.record({
    kind: fc.constant('type' as const),
    value: fc.constantFrom<Json | undefined>(
      undefined,
      'Event',
      'EVENT',
      'events',
      ' event',
      '',
      1,
      null,
      true,
      {},
      ['x'],
    ),
  }),
  fc.constant({ kind: 'no-identifier' as const }),
  // 523: empty or longer than 120 characters. Other types are 512, tested below as `identity-type`.
  fc.record({
    kind: fc.constant('identity' as const),
    value: fc.constantFrom<Json>('', 'x'.repeat(121), '🙂'.repeat(61)),
  }),
  fc.record({ kind: fc.constant('object-id' as const), value: fc.constantFrom<Json>(5, true, {}, [], 1.5) }),
  fc.record({
    kind: fc.constant('ts' as const),
    value: fc.constantFrom<Json>(
      0,
      -5,
      1.5,
      '12a',
      '',
      true,
      {},
      [1],
      '1e9',
      ' 1764145200',
      '99999999999999999999',
    ),
    future: fc.constant(undefined),
  }),
  fc.record({
    kind: fc.constant('ts' as const),
    value: fc.constant(null),
    future: fc.integer({ min: 61, max: 10_000_000 }),
  }),
  fc.record({
    kind: fc.constant('evt-name' as const),
    value: fc.constantFrom<Json | undefined>(undefined, '', '   ', '\t\n', 5, null, {}, ['x'], true),
  }),
  fc.record({ kind: fc.constant('evt-data' as const), value: fc.constantFrom<Json>([1], 'x', 5, true, '') }),
  fc.record({ kind: fc.constant('session' as const), value: fc.constantFrom<Json>('Push', [], 5, true, '') }),
  fc.record({
    kind: fc.constant('session-field' as const),
    field: fc.constantFrom(...SESSION_FIELDS),
    value: fc.constantFrom<Json>(5, {}, [], true, ['Chrome']),
  }),
);

export type RecordSpec =
  | { readonly kind: 'event'; readonly event: EventSpec }
  | { readonly kind: 'profile'; readonly user: number; readonly data: { [key: string]: Json } | undefined }
  | { readonly kind: 'broken'; readonly event: EventSpec; readonly mutation: RecordMutation };

const recordSpecArb: fc.Arbitrary<RecordSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('event' as const), event: eventSpecArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('profile' as const),
      user: fc.nat({ max: USERS.length - 1 }),
      data: fc.option(jsonObjectArb, { nil: undefined }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('broken' as const),
      event: eventSpecArb,
      mutation: mutationArb,
    }),
  },
);

/** How the records are wrapped: the documented `{"d":[…]}` or one of the ways it goes wrong. */
export type UploadWrapper =
  | { readonly kind: 'ok'; readonly extra: { [key: string]: Json } }
  /** An extra top-level key nested `depth` levels deep (the limit is 128 levels in all). */
  | { readonly kind: 'nested'; readonly depth: number; readonly open: '[' | '{' }
  /** An extra top-level string padding the body to about `bytes` (the limit is 1 MiB). */
  | { readonly kind: 'padded'; readonly bytes: number }
  | { readonly kind: 'd-missing' }
  | { readonly kind: 'd-not-array'; readonly value: Json }
  | { readonly kind: 'not-object' }
  | { readonly kind: 'too-many' };

const wrapperArb: fc.Arbitrary<UploadWrapper> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('ok' as const), extra: jsonObjectArb }) },
  fc.record({
    kind: fc.constant('nested' as const),
    depth: fc.oneof(fc.integer({ min: 1, max: 140 }), fc.constantFrom(126, 127, 128, 129, 100_000)),
    open: fc.constantFrom('[' as const, '{' as const),
  }),
  fc.record({
    kind: fc.constant('padded' as const),
    bytes: fc.constantFrom(64 * 1024, 1024 * 1024 - 200, 1024 * 1024 + 1, 3 * 1024 * 1024),
  }),
  fc.constant({ kind: 'd-missing' as const }),
  fc.record({
    kind: fc.constant('d-not-array' as const),
    value: fc.constantFrom<Json>(null, {}, 'x', 7, true),
  }),
  fc.constant({ kind: 'not-object' as const }),
  fc.constant({ kind: 'too-many' as const }),
);

export type NowBodySpec =
  | {
      readonly kind: 'valid';
      readonly flags: Readonly<Record<string, boolean>>;
      readonly window: number | undefined;
      readonly top: number | undefined;
      readonly filter: NowFilter | undefined;
    }
  | { readonly kind: 'unknown-key'; readonly key: string }
  | { readonly kind: 'mistyped'; readonly key: string; readonly value: Json };

const NOW_FLAGS = ['user_type', ...SPLIT_NAMES, 'timeline'] as const;

/** Values a filter lists: some the records send, the two buckets, and one nobody holds. */
const FILTER_VALUES = [
  ...BROWSERS,
  ...DEVICES,
  ...PAGES,
  ...COUNTRIES,
  ...APP_VERSIONS,
  'App Launched',
  'Page Viewed',
  'Unknown',
  'Other',
  'Nobody',
];

const filterArb: fc.Arbitrary<NowFilter> = fc.dictionary(
  fc.constantFrom(...SPLIT_NAMES),
  fc.uniqueArray(fc.constantFrom(...FILTER_VALUES), { minLength: 1, maxLength: 3 }),
  { minKeys: 0, maxKeys: 2 },
) as fc.Arbitrary<NowFilter>;

const nowBodyArb: fc.Arbitrary<NowBodySpec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      flags: fc.dictionary(fc.constantFrom(...NOW_FLAGS), fc.boolean(), { maxKeys: 9 }),
      window: fc.option(fc.oneof(fc.constantFrom(60, 300, 1800), fc.integer({ min: 60, max: 1800 })), {
        nil: undefined,
      }),
      top: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      filter: fc.option(filterArb, { nil: undefined, freq: 3 }),
    }),
  },
  fc.record({
    kind: fc.constant('unknown-key' as const),
    key: jsonKeyArb.filter(
      (key) =>
        !(NOW_FLAGS as readonly string[]).includes(key) && !['window', 'top', 'bots', 'filter'].includes(key),
    ),
  }),
  fc.record({
    kind: fc.constant('mistyped' as const),
    key: fc.constantFrom(...NOW_FLAGS),
    value: jsonArb.filter((v) => typeof v !== 'boolean'),
  }),
  fc.record({
    kind: fc.constant('mistyped' as const),
    key: fc.constant('window'),
    value: fc.constantFrom<Json>(59, 0, -300, 1801, 3601, 300.5, '300', null, true, [300], 1e300),
  }),
  fc.record({
    kind: fc.constant('mistyped' as const),
    key: fc.constant('top'),
    value: fc.constantFrom<Json>(0, -1, 1001, 2.5, '3', null, true, [3]),
  }),
  fc.record({
    kind: fc.constant('mistyped' as const),
    key: fc.constant('filter'),
    value: fc.constantFrom<Json>(
      null,
      'IN',
      ['IN'],
      { country: 'IN' },
      { country: [] },
      { country: [''] },
      { country: ['IN', 7] },
      { colour: ['red'] },
      { user_type: ['new'] },
      { page: ['x'.repeat(257)] },
    ),
  }),
);

/** User-Agents of hits, with the dimensions they stand for (undefined: a bot, not counted). */
export const HIT_AGENTS: readonly {
  readonly ua: string;
  readonly dims: { browser?: string; os?: string; device?: string } | undefined;
}[] = [
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    dims: { browser: 'Chrome', os: 'Windows', device: 'Desktop' },
  },
  {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    dims: { browser: 'Safari', os: 'iOS', device: 'Mobile' },
  },
  { ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', dims: undefined },
  { ua: '', dims: {} },
];

/** Landing page and referrer of a hit, with the session source docs/classification.md gives them. */
export const HIT_PAGES: readonly { url?: string; referrer?: string; source: string | undefined }[] = [
  { source: undefined },
  { url: 'https://shop.example/?utm_medium=email', source: 'Email' },
  { referrer: 'https://www.google.com/', source: 'Organic Search' },
  { url: 'https://shop.example/', referrer: '', source: 'Direct' },
];

/** Breaks one rule of a valid hit; it must be refused. */
export type HitMutation =
  | 'wrong-token'
  | 'passcode-as-token'
  | 'unknown-account'
  | 'foreign-region'
  | 'unknown-field'
  | 'bad-kind'
  | 'blank-user'
  | 'long-user'
  | 'long-url'
  | 'url-not-string'
  | 'no-token'
  | 'not-object';

export interface HitSpec {
  readonly who: Who;
  readonly user: number;
  readonly kind: 'pageview' | 'heartbeat';
  readonly page: number;
  /** The page shown (`page` above is the landing page and referrer); undefined: not sent. */
  readonly path: string | undefined;
  readonly agent: number;
  readonly mutation: HitMutation | undefined;
}

const hitArb: fc.Arbitrary<HitSpec> = fc.record({
  who: fc.constantFrom<Who>('A', 'B'),
  user: fc.nat({ max: USERS.length - 1 }),
  kind: fc.constantFrom('pageview' as const, 'heartbeat' as const),
  page: fc.nat({ max: HIT_PAGES.length - 1 }),
  path: optionalOf(PAGES),
  agent: fc.nat({ max: HIT_AGENTS.length - 1 }),
  mutation: fc.option(
    fc.constantFrom<HitMutation>(
      'wrong-token',
      'passcode-as-token',
      'unknown-account',
      'foreign-region',
      'unknown-field',
      'bad-kind',
      'blank-user',
      'long-user',
      'long-url',
      'url-not-string',
      'no-token',
      'not-object',
    ),
    { nil: undefined, freq: 2 },
  ),
});

export type BodySpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'upload'; readonly wrapper: UploadWrapper; readonly records: readonly RecordSpec[] }
  | { readonly kind: 'now'; readonly body: NowBodySpec }
  | { readonly kind: 'hit'; readonly hit: HitSpec }
  | { readonly kind: 'json'; readonly value: Json }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: readonly number[] }
  | { readonly kind: 'deep'; readonly depth: number };

const uploadBodyArb = fc.record({
  kind: fc.constant('upload' as const),
  wrapper: wrapperArb,
  records: fc.array(recordSpecArb, { maxLength: 12 }),
});

const anyBodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('json' as const), value: jsonArb }),
  fc.record({ kind: fc.constant('json' as const), value: jsonObjectArb }),
  fc.record({
    kind: fc.constant('text' as const),
    text: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom(
        '',
        ' ',
        '{}',
        '[]',
        'null',
        '{"d":[]}',
        '{"user_type":true"}',
        '\u0000',
        '{"a":1}\u0000',
      ),
    ),
  }),
  fc.record({
    kind: fc.constant('bytes' as const),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }),
  }),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.constantFrom(129, 5000, 100_000) }),
  uploadBodyArb,
  fc.record({ kind: fc.constant('now' as const), body: nowBodyArb }),
  fc.record({ kind: fc.constant('hit' as const), hit: hitArb }),
);

/** The body a route is meant to get, most of the time, or anything at all. */
function bodyFor(route: RouteSpec): fc.Arbitrary<BodySpec> {
  const meant: fc.Arbitrary<BodySpec> | undefined =
    route.path === '/1/upload'
      ? uploadBodyArb
      : route.path === '/1/now.json'
        ? fc.oneof(
            { weight: 5, arbitrary: fc.record({ kind: fc.constant('now' as const), body: nowBodyArb }) },
            fc.constant({ kind: 'none' as const }),
          )
        : route.path === '/1/collect'
          ? fc.record({ kind: fc.constant('hit' as const), hit: hitArb })
          : route.path === '/1/now/token'
            ? fc.constantFrom<BodySpec>({ kind: 'none' }, { kind: 'json', value: {} })
            : undefined;
  if (meant === undefined) {
    return fc.oneof({ weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) }, anyBodyArb);
  }
  return fc.oneof({ weight: 6, arbitrary: meant }, anyBodyArb);
}

/** Damage to the encoded body that always leaves it invalid JSON (or invalid UTF-8). */
export type Corruption =
  | { readonly kind: 'nul'; readonly at: number }
  | { readonly kind: 'invalid-utf8'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'append'; readonly junk: string };

const corruptionArb: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('nul' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('invalid-utf8' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80]),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 0.999, noNaN: true }) }),
  fc.record({
    kind: fc.constant('append' as const),
    junk: fc.constantFrom('x', '}', ',', '{}', '\u0000', '"'),
  }),
);

// ----------------------------------------------------------------------------------------- headers

export type HeaderCasing = 'canonical' | 'lower' | 'upper' | 'alternating';

/** Content-Type values: the accepted forms first, then refused ones; undefined sends none. */
export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON;charset=UTF-8',
  'application/json ; foo=bar',
  'text/plain',
  'text/plain;charset=UTF-8',
  '',
  'application/jsonx',
  'application/json, text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/*',
  `application/json; x=${'a'.repeat(3000)}`,
  '\u00e9/\u00e9',
] as const;

export type ExtraHeader =
  | { readonly kind: 'if-none-match'; readonly value: string }
  | { readonly kind: 'expect-continue' }
  | { readonly kind: 'content-encoding'; readonly value: string }
  | { readonly kind: 'origin'; readonly value: string }
  | { readonly kind: 'accept'; readonly value: string }
  | { readonly kind: 'junk'; readonly name: string; readonly value: string }
  | { readonly kind: 'long'; readonly bytes: number };

const headerNameArb = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/).filter(
  // The framing and credential headers have their own specs; a junk copy would change the meaning.
  (name) =>
    !/^(content-length|transfer-encoding|host|connection|content-type|x-clevertap-account-id|x-clevertap-passcode|user-agent|expect|content-encoding|upgrade|te|trailer|keep-alive|proxy-connection|http2-settings)$/i.test(
      name,
    ),
);

const extraHeaderArb: fc.Arbitrary<ExtraHeader> = fc.oneof(
  fc.record({
    kind: fc.constant('if-none-match' as const),
    value: fc.constantFrom('*', 'W/"x"', '"x"', 'garbage', '"a", *', ''),
  }),
  fc.constant({ kind: 'expect-continue' as const }),
  fc.record({
    kind: fc.constant('content-encoding' as const),
    value: fc.constantFrom('gzip', 'identity', 'br', 'x'),
  }),
  fc.record({ kind: fc.constant('origin' as const), value: fc.constantFrom('https://evil.example', 'null') }),
  fc.record({
    kind: fc.constant('accept' as const),
    value: fc.constantFrom('text/html', '*/*', 'application/xml'),
  }),
  fc.record({
    kind: fc.constant('junk' as const),
    name: headerNameArb,
    value: fc.string({ unit: 'binary', maxLength: 60 }),
  }),
  fc.record({ kind: fc.constant('long' as const), bytes: fc.constantFrom(4000, 15_000, 20_000) }),
);

// ------------------------------------------------------------------------------------------- wires

/** How the request travels: fetch when it can say it, else bytes on a raw socket. */
export type Framing =
  | 'normal'
  | 'chunked'
  | 'http10-no-host'
  | 'no-host'
  | 'bad-content-length'
  | 'two-content-lengths'
  | 'bad-chunk-size'
  | 'length-and-chunked'
  | 'header-without-colon'
  | 'space-before-colon'
  | 'nul-in-header'
  | 'bad-version'
  | 'garbage-request-line'
  | 'bare-lf'
  | 'obs-fold'
  | 'trailing-garbage';

/**
 * Framings refused before any route runs (a bad chunk is not among them: it is found only when the
 * body is read, after a route that ignores bodies may have answered).
 */
export const BROKEN_FRAMINGS: ReadonlySet<Framing> = new Set<Framing>([
  'no-host',
  'bad-content-length',
  'two-content-lengths',
  'length-and-chunked',
  'header-without-colon',
  'space-before-colon',
  'nul-in-header',
  'bad-version',
  'garbage-request-line',
]);

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 20, arbitrary: fc.constant('normal' as const) },
  { weight: 3, arbitrary: fc.constant('chunked' as const) },
  fc.constantFrom<Framing>(
    'http10-no-host',
    'no-host',
    'bad-content-length',
    'two-content-lengths',
    'bad-chunk-size',
    'length-and-chunked',
    'header-without-colon',
    'space-before-colon',
    'nul-in-header',
    'bad-version',
    'garbage-request-line',
    'bare-lf',
    'obs-fold',
    'trailing-garbage',
  ),
);

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
/** Methods fetch refuses to send, and ones Node's parser does not know. */
const RAW_METHODS = ['TRACE', 'CONNECT', 'PROPFIND', 'FOO', 'get', 'P OST', 'SEARCH', 'QUERY'];

export interface RequestSpec {
  readonly route: RouteSpec;
  /** Raw socket even when fetch could send it. */
  readonly raw: boolean;
  readonly framing: Framing;
  readonly method: string;
  readonly pathMutation: PathMutation;
  readonly query: readonly QueryPart[];
  readonly credentials: CredentialSpec | undefined;
  readonly casing: HeaderCasing;
  /** Index in CONTENT_TYPES; undefined sends none (the route's usual one is picked by `contentType: 'usual'`). */
  readonly contentType: 'usual' | number | undefined;
  readonly extraHeaders: readonly ExtraHeader[];
  readonly body: BodySpec;
  readonly corruption: Corruption | undefined;
}

/** Anything at all: every part of the request may be mutated. */
const hostileSpecArb = (route: RouteSpec): fc.Arbitrary<RequestSpec> =>
  fc.record({
    route: fc.constant(route),
    raw: fc.boolean(),
    framing: framingArb,
    method: fc.oneof(
      { weight: 12, arbitrary: fc.constant(route.method) },
      { weight: 3, arbitrary: fc.constantFrom(...METHODS) },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_METHODS) },
    ),
    pathMutation: pathMutationArb,
    query: fc.oneof(
      { weight: 4, arbitrary: fc.constant([]) },
      fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant('dryRun' as const),
            value: fc.constantFrom(
              '1' as const,
              'true' as const,
              '0' as const,
              'false' as const,
              'maybe' as const,
              '%31' as const,
            ),
          }),
          fc.record({ kind: fc.constant('token' as const), token: tokenArb }),
          fc.record({ kind: fc.constant('junk' as const), text: junkQueryArb }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      // The stream's own way in: a read token in the query.
      ...(route.path === '/1/now/stream'
        ? [{ weight: 4, arbitrary: tokenArb.map((token) => [{ kind: 'token' as const, token }]) }]
        : []),
    ),
    credentials:
      route.authenticated || route.path === '/1/now/stream'
        ? fc.oneof({ weight: 6, arbitrary: credentialArb }, fc.constant(undefined))
        : fc.option(credentialArb, { nil: undefined, freq: 5 }),
    casing: fc.constantFrom<HeaderCasing>('canonical', 'canonical', 'lower', 'upper', 'alternating'),
    contentType: fc.oneof(
      { weight: 10, arbitrary: fc.constant('usual' as const) },
      fc.nat({ max: CONTENT_TYPES.length - 1 }),
      fc.constant(undefined),
    ),
    extraHeaders: fc.array(extraHeaderArb, { maxLength: 3 }),
    body: bodyFor(route),
    corruption: fc.option(corruptionArb, { nil: undefined, freq: 8 }),
  });

/** Routes by how often they are fuzzed: the ones that change or read counts most. */
const routeArb: fc.Arbitrary<RouteSpec> = fc.oneof(
  ...ROUTES.map((route) => ({
    weight:
      route.path === '/1/upload' ? 6 : route.path === '/1/now.json' || route.path === '/1/collect' ? 3 : 1,
    arbitrary: fc.constant(route),
  })),
  { weight: 2, arbitrary: fc.constantFrom(...JUNK_ROUTES) },
);

const rightCredentialsArb = fc.record({
  kind: fc.constant('right' as const),
  who: fc.constantFrom<Who>('A', 'A', 'B'),
  padded: fc.boolean(),
});

/**
 * A request sent as documented (its body may still be refused, or carry refused records), so that
 * the oracle has accepted uploads and hits to follow, and the documented answers get checked.
 */
const plainSpec = (spec: RequestSpec, credentials: CredentialSpec): RequestSpec => ({
  ...spec,
  framing: 'normal',
  method: spec.route.method,
  pathMutation: { kind: 'none' },
  query: spec.query.filter((part) => part.kind !== 'junk'),
  credentials: spec.route.authenticated ? credentials : undefined,
  contentType: 'usual',
  extraHeaders: [],
  corruption: undefined,
});

export const requestSpecArb: fc.Arbitrary<RequestSpec> = routeArb.chain((route) =>
  fc
    .tuple(hostileSpecArb(route), fc.boolean(), rightCredentialsArb)
    .map(([spec, plain, credentials]) => (plain ? plainSpec(spec, credentials) : spec)),
);

/** A documented upload of a few records (some refused), which the oracle follows. */
export const plainUploadArb: fc.Arbitrary<RequestSpec> = fc
  .tuple(hostileSpecArb(ROUTES[1]), uploadBodyArb, rightCredentialsArb)
  .map(([spec, body, credentials]) => ({
    ...plainSpec(spec, credentials),
    query: [],
    body: { ...body, wrapper: { kind: 'ok' as const, extra: {} } },
  }));
