import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { MAX_JSON_DEPTH } from '../../src/defaults.js';
import { API_ERRORS } from '../../src/protocol/error-catalogue.js';
import { type Answer, RawConnection } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * Bad input against the real server over real sockets: every refusal is the documented envelope
 * with HTTP status = code, stores nothing, and leaves the server answering the next request.
 * `fetch` is used where it can say what is meant; raw `node:net` sockets where it cannot.
 */

/** Sends `bytes` on a fresh connection and returns the first answer. */
async function rawExchange(port: number, bytes: string | Buffer): Promise<Answer> {
  const connection = await RawConnection.open(port);
  try {
    connection.write(bytes);
    return await connection.response();
  } finally {
    connection.destroy();
  }
}

/** A request as bytes: `head` lines (without the final blank line), then the body as given. */
function rawRequest(head: readonly string[], body: string | Buffer = ''): Buffer {
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}

// ---------------------------------------------------------------------------------------------

let server: TestServer;
let account: AccountCredentials;
let host: string;
/** Distinct active users after the valid baseline upload. */
const BASELINE_USERS = 3;
/** Distinct active users when the current test started. */
let before: number;
let prototypeKeysBefore: string[];

async function send(
  path: string,
  body: string | Uint8Array | undefined,
  headers: Record<string, string>,
  method = 'POST',
): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, { method, headers, body });
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    text: await response.text(),
  };
}

function auth(credentials: AccountCredentials = account): Record<string, string> {
  return { 'X-CleverTap-Account-Id': credentials.id, 'X-CleverTap-Passcode': credentials.passcode };
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

function postJson(path: string, body: string | Uint8Array, credentials = account): Promise<Answer> {
  return send(path, body, { ...auth(credentials), ...JSON_TYPE });
}

/** Credential and framing lines of a raw request for the test account. */
function rawHead(requestLine: string, extra: readonly string[], body: string | Buffer): string[] {
  return [
    requestLine,
    `Host: ${host}`,
    `X-CleverTap-Account-Id: ${account.id}`,
    `X-CleverTap-Passcode: ${account.passcode}`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
}

/** An upload body whose events would add `count` users never seen before, were it accepted. */
let intruders = 0;
function intruderRecords(count = 2): object[] {
  return Array.from({ length: count }, () => ({
    identity: `intruder-${++intruders}`,
    type: 'event',
    evtName: 'App Launched',
    session: { browser: 'Chrome' },
  }));
}
function intruderUpload(count = 2): string {
  return JSON.stringify({ d: intruderRecords(count) });
}

/** The exact documented envelope, with HTTP status = code and a JSON Content-Type. */
function expectEnvelope(answer: Answer, status: number, error: string | RegExp): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json(;|$)/);
  const body = JSON.parse(answer.text) as { status: unknown; error: unknown; code: unknown };
  expect(Object.keys(body)).toEqual(['status', 'error', 'code']);
  expect(body.status).toBe('fail');
  expect(body.code).toBe(status);
  if (typeof error === 'string') expect(body.error).toBe(error);
  else expect(body.error).toMatch(error);
}

/** Any 4xx of the catalogue, as the envelope. */
function expectCatalogue4xx(answer: Answer): void {
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  const body = JSON.parse(answer.text) as { error: string };
  const templates = Object.values(API_ERRORS).filter((entry) => entry.status === answer.status);
  const matching = templates.filter(({ message }) =>
    new RegExp(`^${message.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '.+')}$`).test(
      body.error,
    ),
  );
  expect(matching, `${body.error} is not a ${answer.status} of the catalogue`).not.toEqual([]);
  expectEnvelope(answer, answer.status, body.error);
}

async function count(credentials = account): Promise<number> {
  const answer = await postJson('/1/now.json', '{}', credentials);
  expect(answer.status, answer.text).toBe(200);
  return (JSON.parse(answer.text) as { count: number }).count;
}

/** Nothing was stored, and the server answers a valid request right away. */
async function expectNothingStoredAndHealthy(users = before): Promise<void> {
  expect(await count()).toBe(users);
  const probe = await send('/1/upload?dryRun=1', intruderUpload(1), { ...auth(), ...JSON_TYPE });
  expect(probe.status, probe.text).toBe(200);
  expect(JSON.parse(probe.text)).toEqual({ status: 'success', processed: 1, unprocessed: [] });
  expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeysBefore);
}

beforeAll(async () => {
  prototypeKeysBefore = Object.getOwnPropertyNames(Object.prototype);
  server = await startTestServer();
  account = server.account;
  host = `127.0.0.1:${server.port}`;
  const baseline = await postJson(
    '/1/upload',
    JSON.stringify({
      d: ['base-1', 'base-2', 'base-3'].map((identity) => ({
        identity,
        type: 'event',
        evtName: 'App Launched',
      })),
    }),
  );
  expect(JSON.parse(baseline.text)).toEqual({ status: 'success', processed: 3, unprocessed: [] });
  expect(await count()).toBe(BASELINE_USERS);
});

beforeEach(async () => {
  before = await count();
});

afterAll(async () => {
  await server?.close();
});

describe('bodies that are not JSON', () => {
  it.each([
    ['the stray quote of CleverTap docs', '/1/now.json', '{"user_type":true"}'],
    ['an unterminated upload', '/1/upload', `{"d":${JSON.stringify(intruderRecords())}`],
    ['trailing garbage after an object', '/1/now.json', '{} x'],
    ['trailing garbage after a valid upload', '/1/upload', `${intruderUpload()}garbage`],
    ['two objects', '/1/upload', `${intruderUpload()}${intruderUpload()}`],
    ['single quotes', '/1/now.json', "{'user_type':true}"],
    ['a trailing comma', '/1/upload', `{"d":${JSON.stringify(intruderRecords())},}`],
    ['NaN', '/1/now.json', '{"window":NaN}'],
    ['whitespace only', '/1/upload', '   \n'],
  ])('%s on %s: 400 Request body is not valid JSON', async (_name, path, body) => {
    const answer = await postJson(path, body);
    expectEnvelope(answer, 400, 'Request body is not valid JSON');
    // As Fastify answers a body its parser refused: the connection is not kept.
    expect(answer.headers.connection).toBe('close');
    await expectNothingStoredAndHealthy();
  });
});

describe('bodies that are JSON but not an object', () => {
  const uploadArray = JSON.stringify(intruderRecords());
  it.each([
    ['/1/now.json', '[]'],
    ['/1/now.json', '[{"user_type":true}]'],
    ['/1/now.json', '"user_type"'],
    ['/1/now.json', '42'],
    ['/1/now.json', 'null'],
    ['/1/now.json', 'true'],
    ['/1/upload', uploadArray],
    ['/1/upload', '"d"'],
    ['/1/upload', '1000'],
    ['/1/upload', 'null'],
    ['/1/upload', 'true'],
  ])('%s with %s: 400 Request body must be a JSON object', async (path, body) => {
    expectEnvelope(await postJson(path, body), 400, 'Request body must be a JSON object');
    await expectNothingStoredAndHealthy();
  });
});

describe('/1/now.json parameters', () => {
  it.each([
    ['{"users":true}', 'users'],
    ['{"user_type":true,"region":"eu1"}', 'region'],
    ['{"User_Type":true}', 'User_Type'],
    ['{"browsers":true}', 'browsers'],
    ['{"d":[]}', 'd'],
  ])('unknown key in %s: 400 naming it', async (body, key) => {
    expectEnvelope(await postJson('/1/now.json', body), 400, `Unknown parameter: ${key}`);
    await expectNothingStoredAndHealthy();
  });

  it.each([
    ['{"user_type":"true"}', 'user_type'],
    ['{"user_type":1}', 'user_type'],
    ['{"user_type":null}', 'user_type'],
    ['{"browser":"yes"}', 'browser'],
    ['{"device":0}', 'device'],
    ['{"os":{}}', 'os'],
    ['{"session_source":[true]}', 'session_source'],
    ['{"timeline":"false"}', 'timeline'],
  ])('mistyped value in %s: 400 naming the key', async (body, key) => {
    expectEnvelope(await postJson('/1/now.json', body), 400, new RegExp(`^Invalid parameter ${key}: .+`));
    await expectNothingStoredAndHealthy();
  });

  it.each([
    '59',
    '0',
    '-300',
    '3601',
    '1801', // above this server's 1800 s horizon
    '300.5',
    '"300"',
    'null',
    'true',
    '1e999',
    '[300]',
  ])('window %s: 400 naming window', async (value) => {
    expectEnvelope(
      await postJson('/1/now.json', `{"window":${value}}`),
      400,
      /^Invalid parameter window: .+/,
    );
    await expectNothingStoredAndHealthy();
  });

  it('accepts the bounds of window (60 and the horizon), so the refusals above are about the values', async () => {
    for (const window of [60, 1800]) {
      const answer = await postJson('/1/now.json', JSON.stringify({ window }));
      expect(answer.status, answer.text).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ status: 'success', count: before, as_of: server.clock.now });
    }
  });
});

describe('/1/upload structure', () => {
  it.each([
    ['{}'],
    ['{"data":[{"identity":"intruder-x","type":"event","evtName":"x"}]}'],
    ['{"D":[{"identity":"intruder-y","type":"event","evtName":"x"}]}'],
    ['{"d":{"0":{"identity":"intruder-z","type":"event","evtName":"x"}}}'],
    ['{"d":"[{\\"identity\\":\\"intruder-s\\",\\"type\\":\\"event\\",\\"evtName\\":\\"x\\"}]"}'],
    ['{"d":null}'],
    ['{"d":42}'],
    ['{"d":true}'],
  ])('%s: 400 Parameter d must be an array of records', async (body) => {
    expectEnvelope(await postJson('/1/upload', body), 400, 'Parameter d must be an array of records');
    await expectNothingStoredAndHealthy();
  });

  it('no body at all: 400 Parameter d must be an array of records', async () => {
    expectEnvelope(await postJson('/1/upload', ''), 400, 'Parameter d must be an array of records');
    await expectNothingStoredAndHealthy();
  });

  it('1001 records: 400 Too many records, none stored', async () => {
    const answer = await postJson('/1/upload', intruderUpload(1001));
    expectEnvelope(answer, 400, 'Too many records: at most 1000 per request');
    await expectNothingStoredAndHealthy();
  });

  it('1000 records are accepted (dry run, so nothing is stored either)', async () => {
    const answer = await send('/1/upload?dryRun=1', intruderUpload(1000), { ...auth(), ...JSON_TYPE });
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ status: 'success', processed: 1000, unprocessed: [] });
    await expectNothingStoredAndHealthy();
  });

  it.each(['maybe', 'yes', '2', 'TRUE '])('?dryRun=%s: 400 naming dryRun, nothing stored', async (value) => {
    const answer = await send(`/1/upload?dryRun=${encodeURIComponent(value)}`, intruderUpload(), {
      ...auth(),
      ...JSON_TYPE,
    });
    expectEnvelope(answer, 400, /^Invalid parameter dryRun: .+/);
    await expectNothingStoredAndHealthy();
  });
});

describe('deeply nested bodies', () => {
  const DEPTH = 100_000;
  const arrays = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
  const objects = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
  const record = (extra: string) => `{"identity":"intruder-deep","type":"event","evtName":"x"${extra}}`;
  it.each([
    ['100k nested arrays to /1/now.json', '/1/now.json', arrays],
    ['100k nested objects to /1/now.json', '/1/now.json', objects],
    ['100k nested arrays to /1/upload', '/1/upload', arrays],
    ['100k nested arrays as d', '/1/upload', `{"d":${arrays}}`],
    ['100k nested arrays as a record', '/1/upload', `{"d":[${record('')},${arrays}]}`],
    ['100k nested objects in evtData', '/1/upload', `{"d":[${record(`,"evtData":${objects}`)}]}`],
    [
      '100k nested objects in an invalid record',
      '/1/upload',
      `{"d":[${record('')},{"type":"event","evtName":"x","evtData":${objects}}]}`,
    ],
  ])('%s: a 4xx envelope, no crash, nothing stored', async (_name, path, body) => {
    expectCatalogue4xx(await postJson(path, body));
    await expectNothingStoredAndHealthy();
  });
});

describe('nesting limit', () => {
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1} as invalid JSON`, async () => {
    // The body object is one level; the ignored key "x" holds the rest.
    const deepest = await postJson('/1/upload', `{"d":[],"x":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(deepest.status, deepest.text).toBe(200);
    expect(JSON.parse(deepest.text)).toEqual({ status: 'success', processed: 0, unprocessed: [] });
    expectEnvelope(
      await postJson('/1/upload', `{"d":[],"x":${nested(MAX_JSON_DEPTH)}}`),
      400,
      'Request body is not valid JSON',
    );
    await expectNothingStoredAndHealthy();
  });

  it('does not count brackets inside strings, escaped quotes included', async () => {
    const brackets = '['.repeat(MAX_JSON_DEPTH * 2);
    const answer = await postJson(
      '/1/upload',
      JSON.stringify({ d: [], x: `"${brackets}`, y: `"{${brackets}` }),
    );
    expect(answer.status, answer.text).toBe(200);
    await expectNothingStoredAndHealthy();
  });
});

describe('body size', () => {
  it('a body over 1 MiB: 413 Request body is too large, nothing stored', async () => {
    const padding = 'x'.repeat(120 * 1024);
    const body = JSON.stringify({
      d: intruderRecords(10).map((r) => ({ ...r, evtData: { padding } })),
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
    expectEnvelope(
      await postJson('/1/upload', body),
      413,
      'Request body is too large: at most 1048576 bytes',
    );
    await expectNothingStoredAndHealthy();
  });

  it('a declared Content-Length over 1 MiB is refused before the body arrives', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      connection.write(
        rawRequest([
          'POST /1/upload HTTP/1.1',
          `Host: ${host}`,
          `X-CleverTap-Account-Id: ${account.id}`,
          `X-CleverTap-Passcode: ${account.passcode}`,
          'Content-Type: application/json',
          `Content-Length: ${2 * 1024 * 1024}`,
        ]),
      );
      connection.write('{"d":[');
      expectEnvelope(await connection.response(), 413, 'Request body is too large: at most 1048576 bytes');
    } finally {
      connection.destroy();
    }
    await expectNothingStoredAndHealthy();
  });

  it('exactly 1 MiB is accepted, so the limit is the documented one', async () => {
    const base = JSON.stringify({ d: [{ identity: 'intruder-size', type: 'event', evtName: 'x' }], pad: '' });
    const body = base.replace('"pad":""', `"pad":"${'x'.repeat(1024 * 1024 - Buffer.byteLength(base))}"`);
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    const answer = await send('/1/upload?dryRun=1', body, { ...auth(), ...JSON_TYPE });
    expect(answer.status, answer.text).toBe(200);
    await expectNothingStoredAndHealthy();
  });
});

describe('prototype keys', () => {
  const records = intruderRecords();
  it.each([
    ['__proto__ at the top of now.json', '/1/now.json', '{"__proto__":{"user_type":true}}'],
    [
      '__proto__ at the top of an upload',
      '/1/upload',
      `{"d":${JSON.stringify(records)},"__proto__":{"x":1}}`,
    ],
    [
      '__proto__ in evtData',
      '/1/upload',
      `{"d":[{"identity":"intruder-p1","type":"event","evtName":"x","evtData":{"__proto__":{"polluted":true}}}]}`,
    ],
    [
      '__proto__ as a record key',
      '/1/upload',
      `{"d":[{"identity":"intruder-p2","type":"event","evtName":"x","__proto__":{"polluted":true}}]}`,
    ],
    [
      'an escaped \\u005f_proto__',
      '/1/upload',
      `{"d":[{"identity":"intruder-p3","type":"event","evtName":"x","evtData":{"\\u005f_proto__":{"polluted":true}}}]}`,
    ],
    [
      'constructor.prototype at the top',
      '/1/upload',
      `{"d":${JSON.stringify(records)},"constructor":{"prototype":{"polluted":true}}}`,
    ],
    [
      'constructor.prototype in session',
      '/1/upload',
      `{"d":[{"identity":"intruder-c1","type":"event","evtName":"x","session":{"constructor":{"prototype":{"polluted":true}}}}]}`,
    ],
    ['constructor.prototype in now.json', '/1/now.json', '{"constructor":{"prototype":{"user_type":true}}}'],
  ])('%s: 400 Request body is not valid JSON, nothing polluted', async (_name, path, body) => {
    expectEnvelope(await postJson(path, body), 400, 'Request body is not valid JSON');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectNothingStoredAndHealthy();
  });
});

describe('bytes that are not UTF-8 (raw socket)', () => {
  const upload = (identityBytes: Buffer) =>
    Buffer.concat([
      Buffer.from('{"d":[{"identity":"intruder-'),
      identityBytes,
      Buffer.from('","type":"event","evtName":"x"}]}'),
    ]);
  it.each([
    ['a lone 0xFF', '/1/upload', upload(Buffer.from([0xff]))],
    ['Latin-1 é', '/1/upload', upload(Buffer.from([0xe9, 0x74, 0xe9]))],
    ['a truncated sequence', '/1/upload', upload(Buffer.from([0xe2, 0x82]))],
    ['an overlong encoding of /', '/1/upload', upload(Buffer.from([0xc0, 0xaf]))],
    ['an encoded surrogate', '/1/upload', upload(Buffer.from([0xed, 0xa0, 0x80]))],
    ['0xFE 0xFF in now.json', '/1/now.json', Buffer.from([0x7b, 0x22, 0xfe, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
  ])('%s on %s: 400 Request body is not valid UTF-8', async (_name, path, body) => {
    const answer = await rawExchange(
      server.port,
      rawRequest(
        rawHead(`POST ${path} HTTP/1.1`, ['Content-Type: application/json; charset=utf-8'], body),
        body,
      ),
    );
    expectEnvelope(answer, 400, 'Request body is not valid UTF-8');
    await expectNothingStoredAndHealthy();
  });
});

describe('credentials', () => {
  it.each([
    ['no credential headers', {}],
    ['only the account id', { 'X-CleverTap-Account-Id': () => account.id }],
    ['only the passcode', { 'X-CleverTap-Passcode': () => account.passcode }],
  ])('%s: 401 Account ID and passcode are required', async (_name, headers: Record<string, () => string>) => {
    const filled = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value()]));
    for (const path of ['/1/now.json', '/1/upload']) {
      const answer = await send(path, intruderUpload(), { ...filled, ...JSON_TYPE });
      expectEnvelope(answer, 401, 'Account ID and passcode are required');
    }
    await expectNothingStoredAndHealthy();
  });

  it.each([
    ['an empty account id', '', 'PASSCODE'],
    ['an empty passcode', 'ACCOUNT', ''],
    ['both empty', '', ''],
    ['a blank account id', '   ', 'PASSCODE'],
  ])('%s (raw socket): 401 Account ID and passcode are required', async (_name, id, passcode) => {
    const body = intruderUpload();
    const answer = await rawExchange(
      server.port,
      rawRequest(
        [
          'POST /1/upload HTTP/1.1',
          `Host: ${host}`,
          `X-CleverTap-Account-Id: ${id === 'ACCOUNT' ? account.id : id}`,
          `X-CleverTap-Passcode: ${passcode === 'PASSCODE' ? account.passcode : passcode}`,
          'Content-Type: application/json',
          `Content-Length: ${Buffer.byteLength(body)}`,
          'Connection: close',
        ],
        body,
      ),
    );
    expectEnvelope(answer, 401, 'Account ID and passcode are required');
    await expectNothingStoredAndHealthy();
  });

  it('a wrong passcode of an existing account: 401 Passcode is not valid', async () => {
    const answer = await send('/1/upload', intruderUpload(), {
      'X-CleverTap-Account-Id': account.id,
      'X-CleverTap-Passcode': `${account.passcode}x`,
      ...JSON_TYPE,
    });
    expectEnvelope(answer, 401, 'Passcode is not valid');
    await expectNothingStoredAndHealthy();
  });

  it('an unknown account: 401 Account ID is not valid', async () => {
    const answer = await send('/1/upload', intruderUpload(), {
      'X-CleverTap-Account-Id': 'ZZZ-ZZZ-ZZZZ',
      'X-CleverTap-Passcode': account.passcode,
      ...JSON_TYPE,
    });
    expectEnvelope(answer, 401, 'Account ID is not valid');
    await expectNothingStoredAndHealthy();
  });

  it('credential values longer than 256 characters: 401', async () => {
    const longId = await send('/1/now.json', '{}', {
      'X-CleverTap-Account-Id': 'A'.repeat(300),
      'X-CleverTap-Passcode': account.passcode,
      ...JSON_TYPE,
    });
    expectEnvelope(longId, 401, 'Account ID is not valid');
    const longPasscode = await send('/1/upload', intruderUpload(), {
      'X-CleverTap-Account-Id': account.id,
      'X-CleverTap-Passcode': `${account.passcode}${'p'.repeat(300)}`,
      ...JSON_TYPE,
    });
    expectEnvelope(longPasscode, 401, 'Passcode is not valid');
    await expectNothingStoredAndHealthy();
  });

  it('an account of another region: 401 naming us1, once the passcode is right', async () => {
    const foreign = await server.accounts.create({ name: 'abroad', region: 'us1' });
    const right = await send('/1/upload', intruderUpload(), { ...auth(foreign), ...JSON_TYPE });
    expectEnvelope(right, 401, 'Account belongs to region us1; use that region');
    const now = await send('/1/now.json', '{}', { ...auth(foreign), ...JSON_TYPE });
    expectEnvelope(now, 401, 'Account belongs to region us1; use that region');
    // Without its passcode, the account's region is not revealed.
    const wrong = await send('/1/now.json', '{}', {
      'X-CleverTap-Account-Id': foreign.id,
      'X-CleverTap-Passcode': account.passcode,
      ...JSON_TYPE,
    });
    expectEnvelope(wrong, 401, 'Passcode is not valid');
    // Nothing was stored for the foreign account either.
    expect(
      await server.store.now(
        foreign.id,
        { window: 300, userType: false, splits: [], timeline: false },
        server.clock.now,
      ),
    ).toMatchObject({ count: 0 });
    await expectNothingStoredAndHealthy();
  });

  it('a duplicated account id header (raw socket): 401 Account ID is not valid', async () => {
    const body = intruderUpload();
    const answer = await rawExchange(
      server.port,
      rawRequest(
        rawHead(
          'POST /1/upload HTTP/1.1',
          [`X-CleverTap-Account-Id: ${account.id}`, 'Content-Type: application/json'],
          body,
        ),
        body,
      ),
    );
    expectEnvelope(answer, 401, 'Account ID is not valid');
    await expectNothingStoredAndHealthy();
  });

  it('a duplicated passcode header (raw socket): 401 Passcode is not valid', async () => {
    const body = intruderUpload();
    const answer = await rawExchange(
      server.port,
      rawRequest(
        rawHead(
          'POST /1/upload HTTP/1.1',
          [`x-clevertap-passcode: ${account.passcode}`, 'Content-Type: application/json'],
          body,
        ),
        body,
      ),
    );
    expectEnvelope(answer, 401, 'Passcode is not valid');
    await expectNothingStoredAndHealthy();
  });
});

describe('Content-Type', () => {
  it.each([
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-www-form-urlencoded',
    'application/jsonp',
    'application/json-patch+json',
    'multipart/form-data; boundary=x',
  ])('%s: 400 Content-Type must be application/json', async (type) => {
    for (const path of ['/1/now.json', '/1/upload']) {
      const answer = await send(path, intruderUpload(), { ...auth(), 'Content-Type': type });
      expectEnvelope(answer, 400, 'Content-Type must be application/json');
    }
    await expectNothingStoredAndHealthy();
  });

  it.each([
    ['no Content-Type', []],
    ['an empty Content-Type', ['Content-Type: ']],
  ])('a body with %s (raw socket): 400 Content-Type must be application/json', async (_name, lines) => {
    for (const path of ['/1/now.json', '/1/upload']) {
      const body = path === '/1/upload' ? intruderUpload() : '{"user_type":true}';
      const answer = await rawExchange(
        server.port,
        rawRequest(rawHead(`POST ${path} HTTP/1.1`, lines, body), body),
      );
      expectEnvelope(answer, 400, 'Content-Type must be application/json');
    }
    await expectNothingStoredAndHealthy();
  });
});

describe('routes and methods', () => {
  it.each([
    ['POST', '/1/nope.json'],
    ['POST', '/2/now.json'],
    ['POST', '/1/now.json/extra'],
    ['POST', '/1/upload/'],
    ['GET', '/'],
    ['GET', '/favicon.ico'],
    ['DELETE', '/1/accounts'],
  ])('%s %s: 404 Route not found', async (method, path) => {
    const answer = await send(
      path,
      method === 'GET' ? undefined : intruderUpload(),
      { ...auth(), ...JSON_TYPE },
      method,
    );
    expectEnvelope(answer, 404, 'Route not found');
    await expectNothingStoredAndHealthy();
  });

  it.each(
    ['/1/now.json', '/1/upload'].flatMap((path) =>
      ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'].map((method) => [method, path] as const),
    ),
  )('%s %s: 405 with Allow: POST', async (method, path) => {
    const body = method === 'GET' ? undefined : intruderUpload();
    const answer = await send(path, body, { ...auth(), ...JSON_TYPE }, method);
    expectEnvelope(answer, 405, 'Method not allowed; use POST');
    expect(answer.headers.allow).toBe('POST');
    await expectNothingStoredAndHealthy();
  });
});

describe('malformed requests Node refuses before routing (raw socket)', () => {
  const body = intruderUpload();
  const valid = (requestLine: string, extra: readonly string[] = []) =>
    rawRequest(rawHead(requestLine, ['Content-Type: application/json', ...extra], body), body);
  it.each([
    ['a garbage request line', () => rawRequest(['GARBAGE'])],
    ['stray control bytes', () => Buffer.from([0x00, 0x01, 0x02, 0x03, 0x0d, 0x0a, 0x0d, 0x0a])],
    ['an unknown HTTP version', () => valid('POST /1/upload HTTP/9.9')],
    ['a missing path', () => rawRequest(['POST  HTTP/1.1', `Host: ${host}`])],
    ['spaces in the path', () => valid('POST /1/up load HTTP/1.1')],
    ['a header line without a colon', () => valid('POST /1/upload HTTP/1.1', ['NotAHeader'])],
    ['a space before the colon', () => valid('POST /1/upload HTTP/1.1', ['X-Thing : 1'])],
    ['a 20 KB header', () => valid('POST /1/upload HTTP/1.1', [`X-Big: ${'a'.repeat(20 * 1024)}`])],
    [
      'a 20 KB credential header',
      () =>
        rawRequest(
          [
            'POST /1/upload HTTP/1.1',
            `Host: ${host}`,
            `X-CleverTap-Account-Id: ${'A'.repeat(20 * 1024)}`,
            `X-CleverTap-Passcode: ${account.passcode}`,
            'Content-Type: application/json',
            `Content-Length: ${Buffer.byteLength(body)}`,
          ],
          body,
        ),
    ],
    ['two different Content-Lengths', () => valid('POST /1/upload HTTP/1.1', ['Content-Length: 3'])],
    [
      'a non-numeric Content-Length',
      () =>
        rawRequest(
          [
            'POST /1/upload HTTP/1.1',
            `Host: ${host}`,
            `X-CleverTap-Account-Id: ${account.id}`,
            `X-CleverTap-Passcode: ${account.passcode}`,
            'Content-Type: application/json',
            'Content-Length: abc',
          ],
          body,
        ),
    ],
    [
      'a bad chunk size',
      () =>
        rawRequest(
          [
            'POST /1/upload HTTP/1.1',
            `Host: ${host}`,
            `X-CleverTap-Account-Id: ${account.id}`,
            `X-CleverTap-Passcode: ${account.passcode}`,
            'Content-Type: application/json',
            'Transfer-Encoding: chunked',
          ],
          `zz\r\n${body}\r\n0\r\n\r\n`,
        ),
    ],
  ])('%s: 400 Request headers are not valid', async (_name, bytes) => {
    expectEnvelope(await rawExchange(server.port, bytes()), 400, 'Request headers are not valid');
    await expectNothingStoredAndHealthy();
  });

  it.each([
    ['/1/upload', 'a request'],
    // Refused by the router before any hook: still 400, not 404.
    ['/1/upload%C0%AF', 'one whose path has broken percent-encoding'],
  ])('HTTP/1.1 without Host, %s (%s): 400 Request headers are not valid', async (path) => {
    const answer = await rawExchange(
      server.port,
      rawRequest(
        [
          `POST ${path} HTTP/1.1`,
          `X-CleverTap-Account-Id: ${account.id}`,
          `X-CleverTap-Passcode: ${account.passcode}`,
          'Content-Type: application/json',
          `Content-Length: ${Buffer.byteLength(body)}`,
          'Connection: close',
        ],
        body,
      ),
    );
    expectEnvelope(answer, 400, 'Request headers are not valid');
    await expectNothingStoredAndHealthy();
  });

  it('stray bytes after a completed request on a kept-alive connection: 400, and only the first stored', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      const now = '{}';
      connection.write(
        rawRequest(
          [
            'POST /1/now.json HTTP/1.1',
            `Host: ${host}`,
            `X-CleverTap-Account-Id: ${account.id}`,
            `X-CleverTap-Passcode: ${account.passcode}`,
            'Content-Type: application/json',
            `Content-Length: ${now.length}`,
          ],
          now,
        ),
      );
      const first = await connection.response();
      expect(first.status, first.text).toBe(200);
      expect(JSON.parse(first.text)).toEqual({ status: 'success', count: before });
      connection.write(Buffer.from('\x16\x03\x01 not http at all\r\n\r\n', 'latin1'));
      expectEnvelope(await connection.response(), 400, 'Request headers are not valid');
      await connection.closed;
    } finally {
      connection.destroy();
    }
    await expectNothingStoredAndHealthy();
  });

  it('stray bytes right behind an upload: the upload is answered before the 400', async () => {
    const connection = await RawConnection.open(server.port);
    const upload = JSON.stringify({ d: [{ identity: 'pipelined-1', type: 'event', evtName: 'x' }] });
    try {
      connection.write(
        Buffer.concat([
          rawRequest(
            [
              'POST /1/upload HTTP/1.1',
              `Host: ${host}`,
              `X-CleverTap-Account-Id: ${account.id}`,
              `X-CleverTap-Passcode: ${account.passcode}`,
              'Content-Type: application/json',
              `Content-Length: ${upload.length}`,
            ],
            upload,
          ),
          Buffer.from('garbage\r\n\r\n'),
        ]),
      );
      // The upload is complete and valid, so it is stored: it must be answered as such, not with
      // the 400 meant for the bytes behind it (a client would think it failed).
      const first = await connection.response();
      expect(first.status, first.text).toBe(200);
      expect(JSON.parse(first.text)).toEqual({ status: 'success', processed: 1, unprocessed: [] });
      expectEnvelope(await connection.response(), 400, 'Request headers are not valid');
    } finally {
      connection.destroy();
    }
    await expectNothingStoredAndHealthy(before + 1);
  });
});

describe('requests in flight per account', () => {
  let limited: TestServer;
  let other: AccountCredentials;

  beforeAll(async () => {
    limited = await startTestServer({ maxInFlight: 2 });
    other = await limited.accounts.create({ name: 'other', region: 'eu1' });
  });

  afterAll(async () => {
    await limited?.close();
  });

  const headers = (credentials: AccountCredentials) => ({ ...auth(credentials), ...JSON_TYPE });

  async function nowOf(credentials: AccountCredentials): Promise<Answer> {
    const response = await fetch(`${limited.url}/1/now.json`, {
      method: 'POST',
      headers: headers(credentials),
      body: '{}',
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      text: await response.text(),
    };
  }

  it('answers the third concurrent request of an account with 429 and Retry-After, other accounts still served', async () => {
    const owner = limited.account;
    const held: { connection: RawConnection; rest: string }[] = [];
    try {
      for (const identity of ['held-1', 'held-2']) {
        const body = JSON.stringify({ d: [{ identity, type: 'event', evtName: 'x' }] });
        const connection = await RawConnection.open(limited.port);
        connection.write(
          rawRequest([
            'POST /1/upload HTTP/1.1',
            `Host: 127.0.0.1:${limited.port}`,
            `X-CleverTap-Account-Id: ${owner.id}`,
            `X-CleverTap-Passcode: ${owner.passcode}`,
            'Content-Type: application/json',
            `Content-Length: ${body.length}`,
            'Connection: close',
          ]),
        );
        connection.write(body.slice(0, 10));
        held.push({ connection, rest: body.slice(10) });
      }

      // The held requests take their places as soon as the server has read their headers; until
      // then a request goes through. Ask until the limit shows (each such request finishes at once).
      let refused: Answer | undefined;
      for (let attempt = 0; attempt < 1000 && refused === undefined; attempt++) {
        const answer = await nowOf(owner);
        if (answer.status === 429) refused = answer;
        else {
          expect(answer.status, answer.text).toBe(200);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      expect(refused, 'no 429 while two requests were held open').toBeDefined();
      expectEnvelope(refused as Answer, 429, 'Too many concurrent requests');
      expect((refused as Answer).headers['retry-after']).toBe('1');

      // An upload refused by the limit stores nothing.
      const upload = await fetch(`${limited.url}/1/upload`, {
        method: 'POST',
        headers: headers(owner),
        body: JSON.stringify({ d: [{ identity: 'refused-1', type: 'event', evtName: 'x' }] }),
      });
      expectEnvelope(
        { status: upload.status, headers: Object.fromEntries(upload.headers), text: await upload.text() },
        429,
        'Too many concurrent requests',
      );

      // The limit is per account.
      const another = await nowOf(other);
      expect(another.status, another.text).toBe(200);
      expect(JSON.parse(another.text)).toEqual({ status: 'success', count: 0 });

      // Neither held request was refused: both are still waiting for their bodies.
      for (const { connection } of held) expect(connection.pending).toBe(0);

      for (const { connection, rest } of held) connection.write(rest);
      for (const { connection } of held) {
        const answer = await connection.response();
        expect(answer.status, answer.text).toBe(200);
        expect(JSON.parse(answer.text)).toEqual({ status: 'success', processed: 1, unprocessed: [] });
        await connection.closed;
      }
    } finally {
      for (const { connection } of held) connection.destroy();
    }

    const after = await nowOf(owner);
    expect(after.status, after.text).toBe(200);
    expect(JSON.parse(after.text)).toEqual({ status: 'success', count: 2 });
  });
});
