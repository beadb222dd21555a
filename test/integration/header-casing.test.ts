import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Answer, RawConnection } from '../support/raw-http.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * The same upload and now.json, sent byte for byte as real clients write them (header spellings,
 * order, default headers, body formatting), over raw sockets: header names are case-insensitive and
 * Content-Type parameters and case do not matter.
 */

/** Python's json.dumps (the body requests sends for `json=`): ", " and ": " separators. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

interface Target {
  readonly host: string;
  readonly id: string;
  readonly passcode: string;
}

/** A client: the bytes it sends for a POST of `body` to `path`. */
interface Client {
  readonly name: string;
  /** Sends both requests over one kept-alive connection, as a session would. */
  readonly reusesConnection: boolean;
  readonly serialize: (value: unknown) => string;
  readonly request: (target: Target, path: string, body: string) => string;
}

const length = (body: string) => Buffer.byteLength(body);

const lines = (head: readonly string[], body: string) => `${head.join('\r\n')}\r\n\r\n${body}`;

/** curl 8 with -H for the credentials and Content-Type, -d for the body. */
const curl: Client = {
  name: 'curl',
  reusesConnection: false,
  serialize: JSON.stringify,
  request: (t, path, body) =>
    lines(
      [
        `POST ${path} HTTP/1.1`,
        `Host: ${t.host}`,
        'User-Agent: curl/8.5.0',
        'Accept: */*',
        `X-CleverTap-Account-Id: ${t.id}`,
        `X-CleverTap-Passcode: ${t.passcode}`,
        'Content-Type: application/json',
        `Content-Length: ${length(body)}`,
      ],
      body,
    ),
};

/** requests.Session().post(url, json=..., headers={...}): its defaults, then ours. */
const pythonRequests: Client = {
  name: 'Python requests',
  reusesConnection: true,
  serialize: pythonJson,
  request: (t, path, body) =>
    lines(
      [
        `POST ${path} HTTP/1.1`,
        `Host: ${t.host}`,
        'User-Agent: python-requests/2.32.3',
        'Accept-Encoding: gzip, deflate',
        'Accept: */*',
        'Connection: keep-alive',
        `X-CleverTap-Account-Id: ${t.id}`,
        `X-CleverTap-Passcode: ${t.passcode}`,
        'Content-Type: application/json',
        `Content-Length: ${length(body)}`,
      ],
      body,
    ),
};

/** Net::HTTP.post(uri, body, headers): Ruby capitalizes each word of a header name. */
const rubyNetHttp: Client = {
  name: 'Ruby net/http',
  reusesConnection: false,
  serialize: JSON.stringify,
  request: (t, path, body) =>
    lines(
      [
        `POST ${path} HTTP/1.1`,
        'Content-Type: application/json',
        `X-Clevertap-Account-Id: ${t.id}`,
        `X-Clevertap-Passcode: ${t.passcode}`,
        'Accept-Encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3',
        'Accept: */*',
        'User-Agent: Ruby',
        `Host: ${t.host}`,
        'Connection: close',
        `Content-Length: ${length(body)}`,
      ],
      body,
    ),
};

/** What an HTTP/2-to-1 proxy (or a hand-written client) sends: every name in lower case. */
const allLowercase: Client = {
  name: 'all-lowercase names',
  reusesConnection: true,
  serialize: JSON.stringify,
  request: (t, path, body) =>
    lines(
      [
        `POST ${path} HTTP/1.1`,
        `host: ${t.host}`,
        `x-clevertap-account-id: ${t.id}`,
        `x-clevertap-passcode: ${t.passcode}`,
        'content-type: application/json',
        `content-length: ${length(body)}`,
      ],
      body,
    ),
};

const allUppercase: Client = {
  name: 'all-uppercase names',
  reusesConnection: false,
  serialize: JSON.stringify,
  request: (t, path, body) =>
    lines(
      [
        `POST ${path} HTTP/1.1`,
        `HOST: ${t.host}`,
        `X-CLEVERTAP-ACCOUNT-ID: ${t.id}`,
        `X-CLEVERTAP-PASSCODE: ${t.passcode}`,
        'CONTENT-TYPE: application/json',
        `CONTENT-LENGTH: ${length(body)}`,
      ],
      body,
    ),
};

function withContentType(name: string, contentType: string): Client {
  return {
    name,
    reusesConnection: false,
    serialize: JSON.stringify,
    request: (t, path, body) =>
      lines(
        [
          `POST ${path} HTTP/1.1`,
          `Host: ${t.host}`,
          `X-CleverTap-Account-Id: ${t.id}`,
          `X-CleverTap-Passcode: ${t.passcode}`,
          `Content-Type: ${contentType}`,
          `Content-Length: ${length(body)}`,
        ],
        body,
      ),
  };
}

const CLIENTS: readonly Client[] = [
  curl,
  pythonRequests,
  rubyNetHttp,
  allLowercase,
  allUppercase,
  withContentType('Content-Type: application/json; charset=utf-8', 'application/json; charset=utf-8'),
  withContentType('Content-Type: APPLICATION/JSON', 'APPLICATION/JSON'),
  withContentType('Content-Type: application/json;charset=UTF-8 (OkHttp)', 'application/json;charset=UTF-8'),
];

let server: TestServer;
let target: Target;

beforeEach(async () => {
  server = await startTestServer();
  target = { host: `127.0.0.1:${server.port}`, id: server.account.id, passcode: server.account.passcode };
});

afterEach(async () => {
  await server?.close();
});

/** One returning user (first seen 1000 s ago) on Chrome, one new user on Safari, one profile. */
function uploadBody(now: number): object {
  const session = (browser: string, os: string) => ({ browser, os, device: 'Mobile' });
  return {
    d: [
      {
        identity: 'ret-1',
        type: 'event',
        evtName: 'App Launched',
        ts: now - 1000,
        session: session('Chrome', 'Android'),
      },
      {
        identity: 'ret-1',
        type: 'event',
        evtName: 'Viewed',
        ts: now - 10,
        session: session('Chrome', 'Android'),
      },
      {
        identity: 'new-1',
        type: 'event',
        evtName: 'App Launched',
        ts: now - 5,
        session: session('Safari', 'iOS'),
      },
      { identity: 'new-2', type: 'profile', profileData: { Name: 'Ada' } },
    ],
  };
}

const EXPECTED_UPLOAD = { status: 'success', processed: 4, unprocessed: [] };

/** In the documented key order. */
const EXPECTED_NOW = {
  status: 'success',
  count: 2,
  user_type: { new: 1, returning: 1 },
  browser: { Chrome: 1, Safari: 1 },
  device: { Mobile: 2 },
  new: { browser: { Safari: 1 }, device: { Mobile: 1 } },
};

function expectJson(answer: Answer, expected: object): void {
  expect(answer.status, answer.text).toBe(200);
  // Every answer of this server states its length.
  expect(answer.headers['content-length']).toBeDefined();
  expect(answer.headers['content-type']).toMatch(/^application\/json(;|$)/);
  expect(JSON.parse(answer.text)).toEqual(expected);
  // Same keys in the same order, not only the same content.
  expect(answer.text).toBe(JSON.stringify(expected));
}

describe.each(CLIENTS)('$name', (client) => {
  it('uploads, then reads the counts with its own header spelling', async () => {
    const upload = client.request(target, '/1/upload', client.serialize(uploadBody(server.clock.now)));
    const now = client.request(
      target,
      '/1/now.json',
      client.serialize({ user_type: true, browser: true, device: true }),
    );
    const first = await RawConnection.open(server.port);
    try {
      first.write(upload);
      expectJson(await first.response(), EXPECTED_UPLOAD);
      const second = client.reusesConnection ? first : await RawConnection.open(server.port);
      try {
        second.write(now);
        expectJson(await second.response(), EXPECTED_NOW);
      } finally {
        second.destroy();
      }
    } finally {
      first.destroy();
    }
  });
});

describe('now.json with an empty body and no Content-Type (count only)', () => {
  async function seed(): Promise<void> {
    const connection = await RawConnection.open(server.port);
    try {
      connection.write(curl.request(target, '/1/upload', JSON.stringify(uploadBody(server.clock.now))));
      expectJson(await connection.response(), EXPECTED_UPLOAD);
    } finally {
      connection.destroy();
    }
  }

  it.each([
    ['Content-Length: 0', ['Content-Length: 0']],
    ['no Content-Length at all (curl -X POST without -d)', []],
  ])('%s', async (_name, framing) => {
    await seed();
    const connection = await RawConnection.open(server.port);
    try {
      connection.write(
        lines(
          [
            'POST /1/now.json HTTP/1.1',
            `Host: ${target.host}`,
            'User-Agent: curl/8.5.0',
            'Accept: */*',
            `X-CleverTap-Account-Id: ${target.id}`,
            `X-CleverTap-Passcode: ${target.passcode}`,
            ...framing,
          ],
          '',
        ),
      );
      expectJson(await connection.response(), { status: 'success', count: 2 });
    } finally {
      connection.destroy();
    }
  });
});
