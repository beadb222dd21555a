import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * `POST /1/now.json` has two paths through the server: the fast lane (node:http, for a plain request
 * with a Content-Length) and the Fastify route (everything else, e.g. a chunked body). Each request
 * below is sent both ways, on fresh connections, and the two answers must be the same bytes: status
 * line, every header in order (Date aside) and body. The fast-lane counter of /metrics tells which
 * path served each.
 */

const REQUEST_ID = 'fast-lane-test-1';
let server: TestServer;
/** No request may be in flight: every admitted request is refused 429. */
let busy: TestServer;
let foreign: AccountCredentials;

beforeAll(async () => {
  server = await startTestServer();
  busy = await startTestServer({ maxInFlight: 0 });
  foreign = await server.accounts.create({ name: 'foreign', region: 'us1' });
  const now = server.clock.now;
  await server.store.record(
    server.account.id,
    [
      { user: 'u1', ts: now, browser: 'Chrome', os: 'Windows', device: 'Desktop', sessionSource: 'Direct' },
      { user: 'u2', ts: now - 10, browser: 'Safari', os: 'iOS', device: 'Mobile', sessionSource: 'Social' },
      { user: 'ü3', ts: now - 100, browser: 'Samsung Internet', os: 'Android', device: 'Tablet' },
    ],
    now,
  );
});

afterAll(async () => {
  await Promise.all([server?.close(), busy?.close()]);
});

/** Everything the server sent on a connection it closed after one answer. */
function exchange(port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.write(request);
  });
}

type Framing = 'content-length' | 'chunked';

function request(headers: Record<string, string>, body: Buffer, framing: Framing): Buffer {
  const lines = ['POST /1/now.json HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (framing === 'content-length') {
    lines.push(`Content-Length: ${body.length}`);
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
  }
  lines.push('Transfer-Encoding: chunked');
  return Buffer.concat([
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body.length.toString(16)}\r\n`, 'latin1'),
    body,
    Buffer.from('\r\n0\r\n\r\n', 'latin1'),
  ]);
}

/** The answer without its Date header, which may differ by a second. */
function withoutDate(answer: Buffer): string {
  return answer.toString('latin1').replace(/\r\nDate: [^\r]*/i, '');
}

async function fastLaneCount(target: TestServer): Promise<number> {
  const text = await (await fetch(`${target.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('activenow_http_fast_lane_requests_total '));
  return Number(line?.split(' ')[1]);
}

function credentialsOf(account: AccountCredentials): Record<string, string> {
  return { 'X-CleverTap-Account-Id': account.id, 'X-CleverTap-Passcode': account.passcode };
}

const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': REQUEST_ID };

/** The headers of a well-formed request of the main server's account. */
const signedIn = () => ({ ...JSON_TYPE, ...credentialsOf(server.account) });

const CASES: [name: string, target: () => TestServer, headers: () => Record<string, string>, body: Buffer][] =
  [
    [
      'every split, the new breakdown and the timeline',
      () => server,
      signedIn,
      Buffer.from(
        '{"user_type":true,"session_source":true,"browser":true,"os":true,"device":true,"timeline":true}',
      ),
    ],
    ['the count alone', () => server, signedIn, Buffer.from('{}')],
    ['a window', () => server, signedIn, Buffer.from('{ "window" : 60 , "browser": true }')],
    [
      'top values',
      () => server,
      signedIn,
      Buffer.from('{"user_type":true,"browser":true,"os":true,"top":1}'),
    ],
    ['a top out of bounds', () => server, signedIn, Buffer.from('{"browser":true,"top":0}')],
    ['an unknown parameter', () => server, signedIn, Buffer.from('{"browser":true,"users":1}')],
    ['a value of the wrong type', () => server, signedIn, Buffer.from('{"window":59.5}')],
    ['a body that is not an object', () => server, signedIn, Buffer.from('[1]')],
    ['JSON that is not valid', () => server, signedIn, Buffer.from('{"browser":tru')],
    [
      'bytes that are not UTF-8',
      () => server,
      signedIn,
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
    ],
    ['a __proto__ key', () => server, signedIn, Buffer.from('{"__proto__":{"browser":true}}')],
    ['no credentials', () => server, () => JSON_TYPE, Buffer.from('{}')],
    [
      'a wrong passcode',
      () => server,
      () => ({ ...JSON_TYPE, ...credentialsOf({ ...server.account, passcode: 'not-the-passcode' }) }),
      Buffer.from('{}'),
    ],
    [
      'an unknown account',
      () => server,
      () => ({ ...JSON_TYPE, 'X-CleverTap-Account-Id': 'ZZZ-ZZZ-ZZZZ', 'X-CleverTap-Passcode': 'x' }),
      Buffer.from('{}'),
    ],
    [
      'an account of another region',
      () => server,
      () => ({ ...JSON_TYPE, ...credentialsOf(foreign) }),
      Buffer.from('{}'),
    ],
    [
      'too many requests in flight',
      () => busy,
      () => ({ ...JSON_TYPE, ...credentialsOf(busy.account) }),
      Buffer.from('{}'),
    ],
  ];

describe('POST /1/now.json through the fast lane and through the framework', () => {
  it.each(CASES)('answers the same bytes: %s', async (_name, target, headers, body) => {
    const at = target();
    const before = await fastLaneCount(at);
    const fast = await exchange(at.port, request(headers(), body, 'content-length'));
    const afterFast = await fastLaneCount(at);
    const framework = await exchange(at.port, request(headers(), body, 'chunked'));
    const afterFramework = await fastLaneCount(at);
    expect([afterFast - before, afterFramework - afterFast], 'which path served').toEqual([1, 0]);
    expect(withoutDate(fast)).toBe(withoutDate(framework));
    expect(fast.toString('latin1')).toMatch(/^HTTP\/1\.1 [245]\d\d /);
  });

  it.each([
    'application/json',
    'APPLICATION/JSON',
    'application/json;charset=utf-8',
    'application/json ; charset=UTF-8',
    'application/json;',
    'application/json; foo="bar;baz"',
    'application/json;;',
    'application/json\tcharset=utf-8',
  ])('answers the same bytes whatever the JSON Content-Type: %s', async (type) => {
    const headers = { ...credentialsOf(server.account), 'X-Request-Id': REQUEST_ID, 'Content-Type': type };
    const body = Buffer.from('{"device":true}');
    const fast = await exchange(server.port, request(headers, body, 'content-length'));
    const framework = await exchange(server.port, request(headers, body, 'chunked'));
    expect(withoutDate(fast)).toBe(withoutDate(framework));
  });

  it('cuts each split to its top values and says when the answer is for (as_of), only when asked', async () => {
    const ask = async (body: string) => {
      const answer = await exchange(server.port, request(signedIn(), Buffer.from(body), 'content-length'));
      const text = answer.toString('utf8');
      return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    };
    // Three users, one per browser; the two with the same count are ranked by value.
    expect(await ask('{"browser":true,"top":1}')).toEqual({
      status: 'success',
      count: 3,
      browser: { Other: 2, Chrome: 1 },
      as_of: server.clock.now,
    });
    expect(await ask('{"browser":true,"top":3}')).toEqual({
      status: 'success',
      count: 3,
      browser: { Chrome: 1, 'Samsung Internet': 1, Safari: 1 },
      as_of: server.clock.now,
    });
    // CleverTap's own keys only: the answer stays CleverTap's, without as_of.
    expect(await ask('{"browser":true}')).toEqual({
      status: 'success',
      count: 3,
      browser: { Chrome: 1, 'Samsung Internet': 1, Safari: 1 },
    });
  });

  it('answers a body it has seen before as the first time, and a different body anew', async () => {
    const headers = { ...JSON_TYPE, ...credentialsOf(server.account) };
    const answers: string[] = [];
    for (const body of ['{"browser":true}', '{"browser":true}', '{"os":true}', '{"browser":true}']) {
      answers.push(
        withoutDate(await exchange(server.port, request(headers, Buffer.from(body), 'content-length'))),
      );
    }
    expect(answers[1]).toBe(answers[0]);
    expect(answers[3]).toBe(answers[0]);
    expect(answers[2]).not.toBe(answers[0]);
    expect(answers[0]).toMatch(/"browser":\{"Chrome":1,"Safari":1,"Samsung Internet":1\}\}$/);
    expect(answers[2]).toMatch(/"os":\{"Android":1,"Windows":1,"iOS":1\}\}$/);
  });

  it('never answers from before a change: a recording, the clock moving, the account dropped', async () => {
    const own = await startTestServer();
    const id = own.account.id;
    const headers = { ...JSON_TYPE, ...credentialsOf(own.account) };
    const body = Buffer.from('{"user_type":true,"browser":true}');
    /** The count, once both paths agree on every byte (the framework's path remembers nothing). */
    const count = async () => {
      const fast = withoutDate(await exchange(own.port, request(headers, body, 'content-length')));
      const framework = withoutDate(await exchange(own.port, request(headers, body, 'chunked')));
      expect(fast).toBe(framework);
      return Number(/"count":(\d+)/.exec(fast)?.[1]);
    };
    try {
      expect([await count(), await count()]).toEqual([0, 0]);
      await own.store.record(id, [{ user: 'a', ts: own.clock.now, browser: 'Chrome' }], own.clock.now);
      expect([await count(), await count()]).toEqual([1, 1]);
      await own.store.record(id, [{ user: 'b', ts: own.clock.now - 250, browser: 'Safari' }], own.clock.now);
      expect(await count()).toBe(2);
      own.clock.now += 60;
      expect([await count(), await count()]).toEqual([1, 1]);
      await own.store.dropAccount(id);
      expect(await count()).toBe(0);
    } finally {
      await own.close();
    }
  });

  it.each([
    ['the lane', 'content-length'],
    ['the framework', 'chunked'],
  ] as const)(
    '%s answers a request it took before the app began to close with Connection: close, so close ends',
    async (_path, framing) => {
      const closing = await startTestServer();
      // Kept alive: without Connection: close on the answer, the connection would hold close open.
      const whole = request({ ...JSON_TYPE, ...credentialsOf(closing.account) }, Buffer.from('{}'), framing)
        .toString('latin1')
        .replace('Connection: close\r\n', '');
      // The last bytes of the body (its last chunk, when chunked) are sent once closing has begun.
      const held = framing === 'chunked' ? whole.lastIndexOf('0\r\n\r\n') : whole.length - 2;
      const socket = connect(closing.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      const ended = new Promise((resolve) => socket.on('close', resolve));
      socket.write(Buffer.from(whole.slice(0, held), 'latin1'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closed = closing.app.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write(Buffer.from(whole.slice(held), 'latin1'));
      await ended;
      await closed;
      await closing.close();
      const answer = Buffer.concat(chunks).toString('latin1');
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    },
  );
});
