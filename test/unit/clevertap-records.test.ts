import { describe, expect, it, vi } from 'vitest';
import { type DeriveSession, parseRecords } from '../../src/ingest/clevertap-records.js';

const R = 1_764_145_200; // receive time, epoch seconds

const event = (extra: Record<string, unknown> = {}) => ({
  identity: 'u1',
  type: 'event',
  evtName: 'App Launched',
  ...extra,
});
const profile = (extra: Record<string, unknown> = {}) => ({ identity: 'u1', type: 'profile', ...extra });
const without = (record: Record<string, unknown>, key: string) => {
  const copy = { ...record };
  delete copy[key];
  return copy;
};

const MESSAGES: Record<number, string> = {
  509: 'Event name mandatory',
  512: 'Invalid event structure',
  523: 'Missing identity',
  524: 'Data neither event nor profile',
  525: 'Timestamp not in UNIX epoch format',
  526: 'objectId invalid',
};

describe('parseRecords: rejected records', () => {
  it.each<[string, unknown, number]>([
    // 512: not a plain object
    ['a string', 'event', 512],
    ['a number', 42, 512],
    ['null', null, 512],
    ['a boolean', true, 512],
    ['an array', [event()], 512],
    // 524: type
    ['no type', without(event(), 'type'), 524],
    ['type in another case', event({ type: 'Event' }), 524],
    ['an unknown type', event({ type: 'page' }), 524],
    ['type null', event({ type: null }), 524],
    ['type checked before the key', { type: 'page' }, 524],
    // 512 / 526 / 523: user key
    ['identity a boolean', event({ identity: true }), 512],
    ['identity an object', event({ identity: { id: 1 } }), 512],
    ['identity an array', event({ identity: ['u1'] }), 512],
    ['FBID a boolean', { type: 'event', evtName: 'e', FBID: false }, 512],
    ['GPID an object', { type: 'event', evtName: 'e', GPID: {} }, 512],
    ['an invalid identity wins over a valid objectId', event({ identity: true, objectId: 'o1' }), 512],
    ['objectId a number', { type: 'event', evtName: 'e', objectId: 123 }, 526],
    ['objectId a boolean', { type: 'event', evtName: 'e', objectId: true }, 526],
    ['objectId an object', { type: 'event', evtName: 'e', objectId: {} }, 526],
    [
      'an invalid objectId wins over a valid FBID',
      { type: 'event', evtName: 'e', objectId: 7, FBID: 'f' },
      526,
    ],
    ['no identifier', without(event(), 'identity'), 523],
    ['identity null', event({ identity: null }), 523],
    ['identity empty', event({ identity: '' }), 523],
    ['objectId empty and nothing else', { type: 'event', evtName: 'e', objectId: '' }, 523],
    ['a 121-character identity', event({ identity: 'i'.repeat(121) }), 523],
    ['a 121-character GPID', { type: 'event', evtName: 'e', GPID: 'g'.repeat(121) }, 523],
    [
      'a too long identity wins over a valid objectId',
      event({ identity: 'i'.repeat(121), objectId: 'o' }),
      523,
    ],
    ['key checked before ts', { type: 'event', evtName: 'e', ts: -1 }, 523],
    // 525: ts
    ['ts 61 s in the future', event({ ts: R + 61 }), 525],
    ['ts 0', event({ ts: 0 }), 525],
    ['ts negative', event({ ts: -1 }), 525],
    ['ts a float', event({ ts: R - 0.5 }), 525],
    ['ts a non-digit string', event({ ts: '17641452OO' }), 525],
    ['ts a signed string', event({ ts: '-1764145200' }), 525],
    ['ts a string with spaces', event({ ts: ' 1764145200' }), 525],
    ['ts an empty string', event({ ts: '' }), 525],
    ['ts a string of zeros', event({ ts: '000' }), 525],
    ['ts a digit string too far in the future', event({ ts: String(R + 61) }), 525],
    ['ts in milliseconds', event({ ts: R * 1000 }), 525],
    ['ts a boolean', event({ ts: true }), 525],
    ['ts an object', event({ ts: {} }), 525],
    ['ts checked before the event name', { identity: 'u1', type: 'event', ts: 0 }, 525],
    // 509: event name
    ['no evtName', without(event(), 'evtName'), 509],
    ['evtName empty', event({ evtName: '' }), 509],
    ['evtName whitespace', event({ evtName: '  \t ' }), 509],
    ['evtName a number', event({ evtName: 42 }), 509],
    ['evtName null', event({ evtName: null }), 509],
    ['event name checked before evtData', event({ evtName: '', evtData: [] }), 509],
    // 512: payloads
    ['evtData an array', event({ evtData: [] }), 512],
    ['evtData a string', event({ evtData: 'x' }), 512],
    ['evtData a number', event({ evtData: 5 }), 512],
    ['profileData an array', profile({ profileData: [] }), 512],
    ['profileData a string', profile({ profileData: 'x' }), 512],
    // 512: session
    ['session a string', event({ session: 'Push' }), 512],
    ['session an array', event({ session: [] }), 512],
    ['session.source a number', event({ session: { source: 5 } }), 512],
    ['session.browser an object', event({ session: { browser: {} } }), 512],
    ['session.os an array', event({ session: { os: ['iOS'] } }), 512],
    ['session.device a boolean', event({ session: { device: true } }), 512],
    ['session.ua a number', event({ session: { ua: 1 } }), 512],
    ['session.referrer an object', event({ session: { referrer: {} } }), 512],
    ['session.url an array', event({ session: { url: [] } }), 512],
    ['the session of a profile is checked too', profile({ session: 'x' }), 512],
    ['event name checked before session', event({ evtName: '', session: 'x' }), 509],
  ])('%s → %i', (_name, record, code) => {
    const result = parseRecords([record], R);
    expect(result.processed).toBe(0);
    expect(result.activities).toEqual([]);
    expect(result.unprocessed).toEqual([
      {
        status: 'fail',
        code,
        error: `${MESSAGES[code]}. Skipped record number : 1`,
        record: JSON.stringify(record),
      },
    ]);
  });

  it('reports each code with its CleverTap message', () => {
    const records = [
      event({ evtName: '' }),
      [],
      { type: 'event', evtName: 'e' },
      event({ type: 'x' }),
      event({ ts: 0 }),
      { type: 'event', evtName: 'e', objectId: 1 },
    ];
    expect(parseRecords(records, R).unprocessed.map((f) => [f.code, f.error])).toEqual([
      [509, 'Event name mandatory. Skipped record number : 1'],
      [512, 'Invalid event structure. Skipped record number : 2'],
      [523, 'Missing identity. Skipped record number : 3'],
      [524, 'Data neither event nor profile. Skipped record number : 4'],
      [525, 'Timestamp not in UNIX epoch format. Skipped record number : 5'],
      [526, 'objectId invalid. Skipped record number : 6'],
    ]);
  });

  it('gives the record as its JSON string', () => {
    const result = parseRecords(['x', 7, null, { type: 'page', identity: 'u' }], R);
    expect(result.unprocessed.map((f) => f.record)).toEqual([
      '"x"',
      '7',
      'null',
      '{"type":"page","identity":"u"}',
    ]);
  });
});

describe('parseRecords: user key', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['identity', { identity: 'i', objectId: 'o', FBID: 'f', GPID: 'g' }, 'i'],
    ['objectId when no identity', { objectId: 'o', FBID: 'f', GPID: 'g' }, 'o'],
    ['FBID when no identity nor objectId', { FBID: 'f', GPID: 'g' }, 'f'],
    ['GPID last', { GPID: 'g' }, 'g'],
    ['null identity is absent', { identity: null, objectId: 'o' }, 'o'],
    ['empty identity is absent', { identity: '', objectId: 'o' }, 'o'],
    ['empty objectId is absent', { objectId: '', GPID: 'g' }, 'g'],
    ['a valid identity ignores an invalid objectId', { identity: 'i', objectId: 42 }, 'i'],
    ['numeric identity', { identity: 12345 }, '12345'],
    ['numeric identity zero', { identity: 0 }, '0'],
    ['negative numeric identity', { identity: -7 }, '-7'],
    ['fractional numeric identity', { identity: 1.5 }, '1.5'],
    ['numeric FBID', { FBID: 100004 }, '100004'],
    ['numeric GPID', { GPID: 987 }, '987'],
    ['a 120-character identity', { identity: 'i'.repeat(120) }, 'i'.repeat(120)],
    ['a 120-character objectId', { objectId: 'o'.repeat(120) }, 'o'.repeat(120)],
    ['an identity kept as sent (not trimmed)', { identity: ' u1 ' }, ' u1 '],
  ])('%s', (_name, keys, user) => {
    const result = parseRecords([{ type: 'event', evtName: 'e', ...keys }], R);
    expect(result.unprocessed).toEqual([]);
    expect(result.activities).toEqual([{ user, ts: R, event: 'e' }]);
  });
});

describe('parseRecords: ts', () => {
  it.each<[string, unknown, number]>([
    ['absent → receive time', undefined, R],
    ['null → receive time', null, R],
    ['in the past', R - 3600, R - 3600],
    ['the receive time', R, R],
    ['60 s in the future', R + 60, R + 60],
    ['1', 1, 1],
    ['a digit string', '1764145200', 1_764_145_200],
    ['a digit string with leading zeros', '0001764145200', 1_764_145_200],
    ['a digit string 60 s in the future', String(R + 60), R + 60],
  ])('%s', (_name, ts, expected) => {
    const record = ts === undefined ? event() : event({ ts });
    const result = parseRecords([record], R);
    expect(result.unprocessed).toEqual([]);
    expect(result.activities).toEqual([{ user: 'u1', event: 'App Launched', ts: expected }]);
  });

  it('floors a fractional receive time', () => {
    const result = parseRecords([event(), event({ ts: R + 60 }), event({ ts: R + 61 })], R + 0.9);
    expect(result.activities).toEqual([
      { user: 'u1', event: 'App Launched', ts: R },
      { user: 'u1', event: 'App Launched', ts: R + 60 },
    ]);
    expect(result.unprocessed.map((f) => f.code)).toEqual([525]);
  });
});

describe('parseRecords: valid records', () => {
  it.each<[string, Record<string, unknown>]>([
    ['evtData an object', event({ evtData: { plan: 'pro' } })],
    ['evtData null', event({ evtData: null })],
    ['session empty', event({ session: {} })],
    ['session null', event({ session: null })],
    ['session values null', event({ session: { source: null, browser: null, ua: null } })],
  ])('%s', (_name, record) => {
    const result = parseRecords([record], R);
    expect(result.processed).toBe(1);
    expect(result.unprocessed).toEqual([]);
    expect(result.activities).toEqual([{ user: 'u1', event: 'App Launched', ts: R }]);
  });

  it('keeps the event name trimmed, and cut to 128 characters', () => {
    const result = parseRecords(
      [event({ evtName: ' Charged ' }), event({ evtName: `${'n'.repeat(127)} x` })],
      R,
    );
    expect(result.activities.map((activity) => activity.event)).toEqual(['Charged', 'n'.repeat(127)]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a profile', profile()],
    ['a profile with profileData', profile({ profileData: { Name: 'Ada' } })],
    ['a profile with profileData null', profile({ profileData: null })],
    ['a profile without evtName but with evtData of any kind', profile({ evtData: [] })],
    ['a profile with a session', profile({ session: { source: 'push', ua: 'Mozilla/5.0' } })],
    ['a profile with a numeric ts string', profile({ ts: '1764145000' })],
  ])('%s is processed but makes nobody active', (_name, record) => {
    const result = parseRecords([record], R);
    expect(result).toEqual({ activities: [], bots: [], processed: 1, unprocessed: [] });
  });

  it('an event with profileData of any kind is valid (only evtData is checked)', () => {
    expect(parseRecords([event({ profileData: [] })], R).processed).toBe(1);
  });
});

describe('parseRecords: explicit session values', () => {
  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    [
      'all four normalized',
      { source: 'organic_search', browser: ' chrome ', os: 'mac os', device: 'MOBILE' },
      { sessionSource: 'Organic Search', browser: 'Chrome', os: 'macOS', device: 'Mobile' },
    ],
    ['source outside the vocabulary → Other', { source: 'newsletter' }, { sessionSource: 'Other' }],
    ['source deep-link', { source: 'deep-link' }, { sessionSource: 'Deep Link' }],
    ['device outside the vocabulary → Unknown (absent)', { device: 'fridge' }, {}],
    ['free-form browser kept', { browser: 'Brave' }, { browser: 'Brave' }],
    ['free-form os cut to 64', { os: `  ${'o'.repeat(80)}` }, { os: 'o'.repeat(64) }],
    ['blank values → Unknown (absent)', { source: ' ', browser: '', os: '\t', device: '  ' }, {}],
    ['explicit unknown → absent', { browser: 'unknown', source: 'UNKNOWN' }, {}],
    [
      'page: a path kept, its query and fragment left out',
      { page: ' /shop/Shoes?id=9#top ' },
      { page: '/shop/Shoes' },
    ],
    ['page: a screen name kept as sent', { page: 'Checkout? Step 2' }, { page: 'Checkout? Step 2' }],
    ['page: a full URL gives its path', { page: 'https://shop.example:8443/a/b?q=1' }, { page: '/a/b' }],
    ['page: a URL without a path is /', { page: 'https://shop.example?x' }, { page: '/' }],
    ['page: cut to 128', { page: `/${'p'.repeat(200)}` }, { page: `/${'p'.repeat(127)}` }],
    ['page: from the url when absent', { url: 'https://shop.example/cart?utm_source=x' }, { page: '/cart' }],
    ['page: explicit wins over url', { page: 'Home', url: 'https://shop.example/cart' }, { page: 'Home' }],
    ['page: explicit unknown leaves it to the url', { page: 'unknown', url: 'https://x/y' }, { page: '/y' }],
    ['page: explicit other → Other', { page: 'OTHER' }, { page: 'Other' }],
    ['country: a code, any case', { country: ' in ' }, { country: 'IN' }],
    ['country: XK kept', { country: 'xk' }, { country: 'XK' }],
    ['country: not an assigned code → Unknown (absent)', { country: 'ZZ' }, {}],
    ['country: a name → Unknown (absent)', { country: 'India' }, {}],
    ['app_version kept as sent, trimmed', { app_version: ' 5.2.0-beta ' }, { appVersion: '5.2.0-beta' }],
    ['app_version cut to 64', { app_version: 'v'.repeat(70) }, { appVersion: 'v'.repeat(64) }],
  ])('%s', (_name, session, expected) => {
    const result = parseRecords([event({ session })], R);
    expect(result.unprocessed).toEqual([]);
    expect(result.activities).toEqual([{ user: 'u1', event: 'App Launched', ts: R, ...expected }]);
  });
});

describe('parseRecords: country of session.ip', () => {
  const countryOfIp = vi.fn((ip: string) => (ip === '203.0.113.9' ? 'AU' : undefined));

  it('looks up the address when no country is given', () => {
    const result = parseRecords([event({ session: { ip: '203.0.113.9' } })], R, { countryOfIp });
    expect(result.activities).toEqual([{ user: 'u1', event: 'App Launched', ts: R, country: 'AU' }]);
  });

  it('an explicit country wins; an unusable one leaves it to the address', () => {
    countryOfIp.mockClear();
    const result = parseRecords(
      [
        event({ session: { ip: '203.0.113.9', country: 'nz' } }),
        event({ session: { ip: '203.0.113.9', country: 'Atlantis' } }),
        event({ session: { ip: '198.51.100.1' } }),
      ],
      R,
      { countryOfIp },
    );
    expect(result.activities.map((a) => a.country)).toEqual(['NZ', 'AU', undefined]);
    expect(countryOfIp.mock.calls).toEqual([['203.0.113.9'], ['198.51.100.1']]);
  });

  it('refuses a session value that is not a string, as for the other fields', () => {
    for (const session of [{ ip: 7 }, { page: ['/'] }, { country: {} }, { app_version: 5 }]) {
      const result = parseRecords([event({ session })], R, { countryOfIp });
      expect(result.unprocessed.map((f) => f.code)).toEqual([512]);
      expect(result.activities).toEqual([]);
    }
  });
});

describe('parseRecords: deriveSession hook', () => {
  const derived = { sessionSource: 'Social', browser: 'Safari', os: 'iOS', device: 'Mobile' };

  it('fills only the dimensions without a usable explicit value', () => {
    const deriveSession = vi.fn<DeriveSession>(() => derived);
    const session = {
      source: 'push',
      device: 'fridge',
      ua: 'UA',
      referrer: 'https://t.co/',
      url: 'https://x/',
    };
    const result = parseRecords([event({ session })], R, { deriveSession });
    expect(deriveSession).toHaveBeenCalledTimes(1);
    expect(deriveSession).toHaveBeenCalledWith({ ua: 'UA', referrer: 'https://t.co/', url: 'https://x/' });
    expect(result.activities).toEqual([
      // The page is the URL's path.
      {
        user: 'u1',
        event: 'App Launched',
        ts: R,
        sessionSource: 'Push',
        browser: 'Safari',
        os: 'iOS',
        device: 'Mobile',
        page: '/',
      },
    ]);
  });

  it('explicit values win over all derived values', () => {
    const session = { source: 'email', browser: 'firefox', os: 'linux', device: 'desktop', ua: 'UA' };
    const result = parseRecords([event({ session })], R, { deriveSession: () => derived });
    expect(result.activities).toEqual([
      {
        user: 'u1',
        event: 'App Launched',
        ts: R,
        sessionSource: 'Email',
        browser: 'Firefox',
        os: 'Linux',
        device: 'Desktop',
      },
    ]);
  });

  it('is called with only the hints present, for events only', () => {
    const deriveSession = vi.fn<DeriveSession>(() => ({}));
    parseRecords(
      [
        event(),
        event({ session: { source: 'push' } }),
        profile({ session: { ua: 'UA' } }),
        event({ session: { referrer: 'https://www.google.com/', ua: null } }),
      ],
      R,
      { deriveSession },
    );
    expect(deriveSession.mock.calls).toEqual([[{ referrer: 'https://www.google.com/' }]]);
  });

  it('a bot record is processed, and its user is active in the bot lane only', () => {
    const result = parseRecords([event({ session: { ua: 'Googlebot/2.1' } }), event({ identity: 'u2' })], R, {
      deriveSession: () => ({ bot: true }),
    });
    expect(result).toEqual({
      activities: [{ user: 'u2', ts: R, event: 'App Launched' }],
      // A bot's activity carries no values, its event's name included.
      bots: [{ user: 'u1', ts: R }],
      processed: 2,
      unprocessed: [],
    });
  });
});

describe('parseRecords: batches', () => {
  it('keeps input order, numbers records from 1 and counts events and profiles', () => {
    const records = [
      event({ identity: 'a', ts: R - 10 }),
      { type: 'event', evtName: 'e' },
      profile({ identity: 'p' }),
      event({ objectId: 'b', identity: undefined, session: { device: 'tablet' } }),
      'junk',
      event({ identity: 'c', ts: R + 61 }),
      event({ FBID: 99, identity: null }),
    ];
    const result = parseRecords(records, R);
    expect(result.processed).toBe(4);
    expect(result.activities).toEqual([
      { user: 'a', ts: R - 10, event: 'App Launched' },
      { user: 'b', ts: R, device: 'Tablet', event: 'App Launched' },
      { user: '99', ts: R, event: 'App Launched' },
    ]);
    expect(result.unprocessed).toEqual([
      {
        status: 'fail',
        code: 523,
        error: 'Missing identity. Skipped record number : 2',
        record: '{"type":"event","evtName":"e"}',
      },
      {
        status: 'fail',
        code: 512,
        error: 'Invalid event structure. Skipped record number : 5',
        record: '"junk"',
      },
      {
        status: 'fail',
        code: 525,
        error: 'Timestamp not in UNIX epoch format. Skipped record number : 6',
        record: `{"identity":"c","type":"event","evtName":"App Launched","ts":${R + 61}}`,
      },
    ]);
  });

  it('an empty batch', () => {
    expect(parseRecords([], R)).toEqual({ activities: [], bots: [], processed: 0, unprocessed: [] });
  });
});
