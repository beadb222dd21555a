import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { STREAM_REQUEST } from '../../src/client/types.js';
import { STREAM_TOP } from '../../src/http/now-stream-hub.js';
import { READ_TOKEN_TTL_SECONDS } from '../../src/http/read-token.js';
import {
  credentials,
  post,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from '../support/test-server.js';

/** Every split `/1/now/stream` carries, as a now.json body. */
/** The now.json body whose answer every stream event is (docs/api.md). */
/** What a stream of the embedded store carries: STREAM_REQUEST, and the event split it counts. */
const ALL = { ...STREAM_REQUEST, event: true };

const servers: TestServer[] = [];
const readers: StreamReader[] = [];
const sockets: Socket[] = [];

// Servers first: closing one ends its streams. (Aborting a fetch mid-stream first can leave the
// client's pool opening a fresh connection that the server then waits for.)
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await server.close();
  for (const reader of readers.splice(0)) reader.cancel();
});

async function start(options: TestServerOptions = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

/** Reads a text/event-stream response in the background, block by block (`data: …` or `: …`). */
class StreamReader {
  private readonly blocks: string[] = [];
  private wake: (() => void) | undefined;
  ended = false;

  constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    const reader = (this.response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          this.blocks.push(text.slice(0, end));
          text = text.slice(end + 2);
        }
        this.wake?.();
      }
    } catch {
      // Aborted or reset: the stream is over either way.
    }
    this.ended = true;
    this.wake?.();
  }

  /** The next block, or undefined if the stream ended or nothing came within `withinMs`. */
  async next(withinMs: number): Promise<string | undefined> {
    const deadline = Date.now() + withinMs;
    while (this.blocks.length === 0 && !this.ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.blocks.shift();
  }

  /** The data of the next event (skipping keep-alive comments), parsed; throws if none comes in time. */
  async nextEvent(withinMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const block = await this.next(Math.max(0, deadline - Date.now()));
      if (block === undefined) throw new Error(`no event within ${withinMs} ms (ended: ${this.ended})`);
      if (block.startsWith('data: ')) return JSON.parse(block.slice('data: '.length));
    }
  }

  /** Resolves true once the server has ended the stream, false if it still runs after `withinMs`. */
  async endsWithin(withinMs: number): Promise<boolean> {
    const deadline = Date.now() + withinMs;
    while (!this.ended && Date.now() < deadline) await this.next(deadline - Date.now());
    return this.ended;
  }

  cancel(): void {
    this.abort.abort();
  }
}

/** GETs the stream; answers that are not 200 come back as parsed envelopes. */
async function openStream(
  server: TestServer,
  how: { headers?: Record<string, string>; token?: string; filter?: string },
): Promise<StreamReader | { status: number; contentType: string | null; body: unknown }> {
  const abort = new AbortController();
  const parameters = new URLSearchParams();
  if (how.token !== undefined) parameters.set('token', how.token);
  if (how.filter !== undefined) parameters.set('filter', how.filter);
  const query = parameters.size === 0 ? '' : `?${parameters}`;
  const response = await fetch(`${server.url}/1/now/stream${query}`, {
    headers: how.headers,
    signal: abort.signal,
  });
  if (response.status !== 200) {
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: await response.json(),
    };
  }
  const reader = new StreamReader(response, abort);
  readers.push(reader);
  return reader;
}

async function openOk(
  server: TestServer,
  how: { headers?: Record<string, string>; token?: string; filter?: string },
) {
  const opened = await openStream(server, how);
  if (!(opened instanceof StreamReader)) throw new Error(`stream refused: ${JSON.stringify(opened)}`);
  return opened;
}

async function now(
  server: TestServer,
  account: AccountCredentials = server.account,
  filter?: Record<string, string[]>,
): Promise<unknown> {
  const answer = await post(`${server.url}/1/now.json`, { ...ALL, filter }, credentials(account));
  expect(answer.status).toBe(200);
  return answer.body;
}

async function upload(server: TestServer, records: unknown[], account = server.account): Promise<void> {
  const answer = await post(`${server.url}/1/upload`, { d: records }, credentials(account));
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ unprocessed: [] });
}

function event(identity: string, session: Record<string, string> = {}) {
  return { identity, type: 'event', evtName: 'App Launched', session };
}

async function readToken(server: TestServer, account = server.account): Promise<string> {
  const answer = await post(`${server.url}/1/now/token`, {}, credentials(account));
  expect(answer.status).toBe(200);
  return (answer.body as { token: string }).token;
}

const refusal = (error: string, code: number) => ({ status: 'fail', error, code });

describe('GET /1/now/stream', () => {
  it('sends the now.json answer with every split at once, as text/event-stream', async () => {
    const server = await start();
    await upload(server, [
      event('u1', { browser: 'Chrome', os: 'Android', device: 'Mobile', source: 'Push' }),
      event('u2', { browser: 'Safari', os: 'iOS', device: 'Mobile' }),
    ]);
    const reader = await openOk(server, { headers: credentials(server.account) });
    expect(reader.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(reader.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    const first = await reader.nextEvent(2000);
    expect(first).toEqual(await now(server));
    expect(first).toMatchObject({ count: 2, user_type: { new: 2, returning: 0 }, browser: { Chrome: 1 } });
    expect(Object.keys(first)).toEqual([
      'status',
      'count',
      'user_type',
      'session_source',
      'browser',
      'os',
      'device',
      'page',
      'country',
      'app_version',
      'event',
      'new',
      'timeline',
      'bots',
      'as_of',
    ]);
    expect(first).toMatchObject({ as_of: server.clock.now });
  });

  it('keeps the STREAM_TOP largest values of each split, the rest under Other', async () => {
    expect(STREAM_REQUEST.top).toBe(STREAM_TOP);
    const server = await start();
    // Two users on /home, one on each of STREAM_TOP + 5 other pages.
    const pages = Array.from({ length: STREAM_TOP + 5 }, (_, i) => `/p/${String(i).padStart(3, '0')}`);
    await upload(server, [
      event('h1', { page: '/home' }),
      event('h2', { page: '/home' }),
      ...pages.map((page, i) => event(`u${i}`, { page })),
    ]);
    const reader = await openOk(server, { headers: credentials(server.account) });
    const first = (await reader.nextEvent(2000)) as { count: number; page: Record<string, number> };
    expect(first.count).toBe(pages.length + 2);
    // /home, then the first STREAM_TOP - 1 pages by name; the 6 others are Other.
    expect(Object.entries(first.page)).toEqual([
      ['Other', 6],
      ['/home', 2],
      ...pages.slice(0, STREAM_TOP - 1).map((page) => [page, 1]),
    ]);
  });

  it('?filter= streams the answer of the users the filter keeps, apart from the unfiltered stream', async () => {
    const server = await start();
    await upload(server, [
      event('u1', { country: 'IN', device: 'Mobile' }),
      event('u2', { country: 'US', device: 'Mobile' }),
      event('u3', { country: 'IN', device: 'Desktop' }),
      event('crawler', { ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }),
    ]);
    const headers = credentials(server.account);
    const india = { country: ['IN'] };
    const filtered = await openOk(server, { headers, filter: JSON.stringify(india) });
    const all = await openOk(server, { headers });
    const first = await filtered.nextEvent(2000);
    // Bots carry no values: a filter leaves them as they are.
    expect(first).toMatchObject({ count: 2, country: { IN: 2 }, device: { Desktop: 1, Mobile: 1 }, bots: 1 });
    expect(first).toEqual(await now(server, server.account, india));
    expect(await all.nextEvent(2000)).toMatchObject({ count: 3 });
    await upload(server, [event('u4', { country: 'IN', device: 'Tablet' })]);
    expect(await filtered.nextEvent(2500)).toMatchObject({ count: 3, device: { Tablet: 1 } });
  });

  it('refuses a filter that is not the JSON of a now.json filter, naming what is wrong', async () => {
    const server = await start();
    const headers = credentials(server.account);
    for (const [filter, error] of [
      ['country=IN', 'Invalid parameter filter: expected JSON'],
      ['{"colour":["red"]}', 'Unknown parameter: filter.colour'],
      [
        '{"country":[]}',
        'Invalid parameter filter.country: expected an array of 1 to 100 strings of 1 to 256 characters',
      ],
      ['["IN"]', 'Invalid parameter filter: expected an object of dimension (or event) → values'],
    ]) {
      expect(await openStream(server, { headers, filter }), filter).toMatchObject({
        status: 400,
        body: refusal(error, 400),
      });
    }
  });

  it('sends the change after an upload within about two seconds', async () => {
    const server = await start();
    const reader = await openOk(server, { headers: credentials(server.account) });
    expect(await reader.nextEvent(2000)).toMatchObject({ count: 0 });
    await upload(server, [event('u1', { browser: 'Firefox' })]);
    const started = Date.now();
    const next = await reader.nextEvent(2500);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(next).toMatchObject({ count: 1, browser: { Firefox: 1 } });
    expect(next).toEqual(await now(server));
  });

  it('sends only keep-alive comments while nothing changes but the time of the answer (as_of)', async () => {
    const server = await start({ nowStream: { intervalMs: 50, keepAliveMs: 200 } });
    await upload(server, [event('u1')]);
    const reader = await openOk(server, { headers: credentials(server.account) });
    await reader.nextEvent(2000);
    // A second later, within the same minute: the counts and the timeline are as they were.
    server.clock.now += 1;
    const blocks: string[] = [];
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      const block = await reader.next(until - Date.now());
      if (block !== undefined) blocks.push(block);
    }
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(new Set(blocks)).toEqual(new Set([': keep-alive']));
  });

  it('refuses a wrong passcode with the error envelope, not a stream', async () => {
    const server = await start();
    const answer = await openStream(server, {
      headers: { ...credentials(server.account), 'X-CleverTap-Passcode': 'not-the-passcode' },
    });
    expect(answer).toEqual({
      status: 401,
      contentType: 'application/json; charset=utf-8',
      body: refusal('Passcode is not valid', 401),
    });
    expect(await openStream(server, {})).toMatchObject({
      status: 401,
      body: refusal('Account ID and passcode are required', 401),
    });
  });

  it('refuses streams beyond --max-streams per account with 429, and frees places as streams close', async () => {
    const server = await start({ nowStream: { maxStreams: 2 } });
    const other = await server.accounts.create({ name: 'other', region: 'eu1' });
    const first = await openOk(server, { headers: credentials(server.account) });
    await openOk(server, { headers: credentials(server.account) });
    const refused = await openStream(server, { headers: credentials(server.account) });
    expect(refused).toMatchObject({
      status: 429,
      body: refusal('Too many open streams for this account: at most 2', 429),
    });
    // Streams with a filter count against the same limit.
    const unfiltered = { headers: credentials(server.account) };
    const filtered = { ...unfiltered, filter: '{"os":["iOS"]}' };
    const opens = (how: typeof filtered | typeof unfiltered) => async () =>
      (await openStream(server, how)) instanceof StreamReader;
    expect(await openStream(server, filtered)).toMatchObject({ status: 429 });
    // The limit is per account.
    await openOk(server, { headers: credentials(other) });
    // A closed stream gives its place back.
    await first.nextEvent(2000);
    first.cancel();
    await expect.poll(opens(unfiltered), { timeout: 3000 }).toBe(true);
    // A filtered stream gives its place back too: close one, and another (unfiltered) opens.
    readers
      .filter((reader) => !reader.ended)
      .at(-1)
      ?.cancel();
    await expect.poll(opens(filtered), { timeout: 3000 }).toBe(true);
    const last = readers.at(-1) as StreamReader;
    await last.nextEvent(2000);
    last.cancel();
    await expect.poll(opens(unfiltered), { timeout: 3000 }).toBe(true);
  });

  it('does not take places of the in-flight limit', async () => {
    const server = await start({ maxInFlight: 1, nowStream: { maxStreams: 3 } });
    await openOk(server, { headers: credentials(server.account) });
    await openOk(server, { headers: credentials(server.account) });
    await now(server);
  });

  it('drops a reader that stops reading, and the others go on', async () => {
    const server = await start({
      valueCap: 4096,
      nowStream: { maxStreams: 2, intervalMs: 50, maxBufferedBytes: 16 * 1024 },
    });
    // Big events: the STREAM_TOP longest-named values of page, browser, OS and app version, twice
    // (all users are new).
    const pad = 'x'.repeat(50);
    for (let batch = 0; batch < 2; batch++) {
      await upload(
        server,
        Array.from({ length: 1000 }, (_, i) =>
          event(`u${batch}-${i}`, {
            browser: `B${batch}-${i}-${pad}`,
            os: `O${batch}-${i}-${pad}`,
            app_version: `V${batch}-${i}-${pad}`,
            page: `/${batch}/${i}/${pad}${pad}`,
          }),
        ),
      );
    }
    const good = await openOk(server, { headers: credentials(server.account) });
    await good.nextEvent(5000);

    // A raw client that reads the response head, then never reads another byte.
    const headers = credentials(server.account);
    const slow = connect({ port: server.port, host: '127.0.0.1' });
    sockets.push(slow);
    slow.on('error', () => {});
    const head = await new Promise<string>((resolve) => {
      let received = '';
      const onData = (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (!received.includes('\r\n\r\n')) return;
        slow.off('data', onData);
        slow.pause();
        resolve(received);
      };
      slow.on('data', onData);
      slow.write(
        `GET /1/now/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-CleverTap-Account-Id: ${headers['X-CleverTap-Account-Id']}\r\nX-CleverTap-Passcode: ${headers['X-CleverTap-Passcode']}\r\n\r\n`,
      );
    });
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    // Both places are taken now.
    expect(await openStream(server, { headers })).toMatchObject({ status: 429 });

    // Every upload changes the result, so an event is due at every tick; the slow reader's buffer
    // grows until it is dropped, which frees its place.
    let flip = 0;
    await expect
      .poll(
        async () => {
          flip++;
          // Named to sort before the others, so that it stays among each split's STREAM_TOP values.
          await upload(server, [event('u0-0', { browser: `A-flip-${flip % 2}` })]);
          const probe = await openStream(server, { headers });
          if (probe instanceof StreamReader) return 'place freed';
          return probe.status;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe('place freed');

    // The good reader still gets events, the latest state included.
    await upload(server, [event('u0-0', { browser: 'A-final' })]);
    await expect
      .poll(async () => ((await good.nextEvent(2000)).browser as Record<string, number>)['A-final'], {
        timeout: 5000,
      })
      .toBe(1);
    expect(good.ended).toBe(false);
  }, 30_000);

  it('app.close() ends open streams instead of waiting for them', async () => {
    const server = await startTestServer();
    const readersOpen = [
      await openOk(server, { headers: credentials(server.account) }),
      await openOk(server, { headers: credentials(server.account) }),
    ];
    for (const reader of readersOpen) await reader.nextEvent(2000);
    const closed = server.close().then(() => 'closed');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still open'), 5000));
    expect(await Promise.race([closed, timeout])).toBe('closed');
    for (const reader of readersOpen) expect(await reader.endsWithin(2000)).toBe(true);
  });

  it('refuses other methods with 405', async () => {
    const server = await start();
    const answer = await post(`${server.url}/1/now/stream`, {}, credentials(server.account));
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET');
  });
});

describe('POST /1/now/token and ?token=', () => {
  it('issues a read token that opens the stream without headers', async () => {
    const server = await start();
    await upload(server, [event('u1', { browser: 'Edge' })]);
    const answer = await post(`${server.url}/1/now/token`, {}, credentials(server.account));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({ status: 'success', token: expect.any(String), expires_in: 300 });
    const { token } = answer.body as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

    const reader = await openOk(server, { token });
    expect(await reader.nextEvent(2000)).toEqual(await now(server));

    // No body at all is fine too; anything else is refused.
    const bare = await fetch(`${server.url}/1/now/token`, {
      method: 'POST',
      headers: credentials(server.account),
    });
    expect(bare.status).toBe(200);
    expect(await post(`${server.url}/1/now/token`, { ttl: 5 }, credentials(server.account))).toMatchObject({
      status: 400,
      body: refusal('Unknown parameter: ttl', 400),
    });
    expect(await post(`${server.url}/1/now/token`, {}, {})).toMatchObject({ status: 401 });
    expect((await fetch(`${server.url}/1/now/token`)).status).toBe(405);
  });

  it('refuses an expired token with 401', async () => {
    const server = await start();
    const token = await readToken(server);
    server.clock.now += READ_TOKEN_TTL_SECONDS - 1;
    await openOk(server, { token });
    server.clock.now += 1;
    expect(await openStream(server, { token })).toEqual({
      status: 401,
      contentType: 'application/json; charset=utf-8',
      body: refusal('Read token is not valid or has expired', 401),
    });
  });

  it('refuses a tampered or malformed token with 401', async () => {
    const server = await start();
    const token = await readToken(server);
    const [payload, signature] = token.split('.');
    const flip = (text: string, at: number) =>
      text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    // A later expiry, signed with nothing.
    const [account, expiry] = Buffer.from(payload, 'base64url').toString('utf8').split('\n');
    const extended = Buffer.from(`${account}\n${Number(expiry) + 3600}`).toString('base64url');
    for (const bad of [
      `${flip(payload, 2)}.${signature}`,
      `${payload}.${flip(signature, 5)}`,
      `${extended}.${signature}`,
      `${payload}.`,
      payload,
      '',
      'x'.repeat(2000),
    ]) {
      expect(await openStream(server, { token: bad }), bad).toMatchObject({
        status: 401,
        body: refusal('Read token is not valid or has expired', 401),
      });
    }
  });

  it("a token of account A never reads account B's stream", async () => {
    const server = await start();
    const other = await server.accounts.create({ name: 'other', region: 'eu1' });
    await upload(server, [event('a1'), event('a2')]);
    await upload(server, [event('b1')], other);
    const tokenA = await readToken(server);
    const tokenB = await readToken(server, other);

    // Each token reads its own account.
    expect(await (await openOk(server, { token: tokenA })).nextEvent(2000)).toMatchObject({ count: 2 });
    expect(await (await openOk(server, { token: tokenB })).nextEvent(2000)).toMatchObject({ count: 1 });
    // Naming B next to A's token is refused, not answered with either account.
    expect(
      await openStream(server, { token: tokenA, headers: { 'X-CleverTap-Account-Id': other.id } }),
    ).toMatchObject({ status: 401, body: refusal('Read token is not valid or has expired', 401) });
    // A's signature on B's id does not verify.
    const [, signatureA] = tokenA.split('.');
    const [payloadB] = tokenB.split('.');
    expect(await openStream(server, { token: `${payloadB}.${signatureA}` })).toMatchObject({ status: 401 });
    // A token dies with its account.
    await server.accounts.delete(other.id);
    expect(await openStream(server, { token: tokenB })).toMatchObject({ status: 401 });
  });
});
