import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { errorOfAnswer } from '../../src/client/errors.js';
import {
  ActiveNowClient,
  type ActiveNowClientOptions,
  ActiveNowError,
  type ErrorKind,
  type NowRequest,
  type StreamUpdate,
  type UploadRecord,
} from '../../src/client/index.js';
import type { StreamErrorInfo } from '../../src/client/stream.js';
import { RawConnection } from '../support/raw-http.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../support/test-server.js';

/** The client against the real server (real HTTP, real SQLite files). */

const servers: TestServer[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0)) await close();
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: TestServerOptions = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

/** A client of `account` on `server`, quick to retry, counting the requests it sends. */
function clientOf(
  server: TestServer,
  options: Partial<ActiveNowClientOptions> & { account?: AccountCredentials } = {},
): { client: ActiveNowClient; requests: string[]; statuses: number[] } {
  const account = options.account ?? server.account;
  const requests: string[] = [];
  const statuses: number[] = [];
  const client = new ActiveNowClient({
    baseUrl: server.url,
    accountId: account.id,
    passcode: account.passcode,
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    ...options,
    fetch: async (input, init) => {
      requests.push(`${init.method} ${new URL(input).pathname}`);
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    },
  });
  return { client, requests, statuses };
}

function event(identity: string, session: UploadRecord['session']): UploadRecord {
  return { type: 'event', identity, evtName: 'App Launched', session };
}

/** Rejection of `promise`, which must reject. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function apiErrorOf(promise: Promise<unknown>): Promise<ActiveNowError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(ActiveNowError);
  return error as ActiveNowError;
}

describe('now and upload', () => {
  it('counts uploaded users, with the splits asked for and only those', async () => {
    const server = await start();
    const { client } = clientOf(server);
    const records = [
      event('u1', { browser: 'Chrome', os: 'Windows', device: 'Desktop' }),
      event('u2', { browser: 'Safari', os: 'iOS', device: 'Mobile' }),
      event('u3', { browser: 'Chrome', os: 'Android', device: 'Mobile' }),
      { type: 'profile', identity: 'u4', profileData: { Name: 'Ada' } } as const,
    ];
    expect(await client.upload(records)).toEqual({ processed: 4, unprocessed: [] });

    const result = await client.now({ user_type: true, browser: true, device: true });
    expect(result).toEqual({
      status: 'success',
      count: 3,
      user_type: { new: 3, returning: 0 },
      browser: { Chrome: 2, Safari: 1 },
      device: { Mobile: 2, Desktop: 1 },
      new: { browser: { Chrome: 2, Safari: 1 }, device: { Mobile: 2, Desktop: 1 } },
    });
    expect(await client.now()).toEqual({ status: 'success', count: 3 });
    const withTimeline = await client.now({ os: true, timeline: true, window: 600 });
    expect(withTimeline.os).toEqual({ Android: 1, Windows: 1, iOS: 1 });
    expect(withTimeline.timeline).toHaveLength(30);
    expect(withTimeline.timeline.at(-1)?.count).toBe(3);
    const mobile = await client.now({ browser: true, filter: { device: ['Mobile'] } });
    expect(mobile).toEqual({
      status: 'success',
      count: 2,
      browser: { Chrome: 1, Safari: 1 },
      as_of: mobile.as_of,
    });
    expect(mobile.as_of).toBeGreaterThan(1_700_000_000);
  });

  it('dryRun validates without storing', async () => {
    const server = await start();
    const { client } = clientOf(server);
    const result = await client.upload([event('u1', {}), { type: 'event', evtName: 'x' }], { dryRun: true });
    expect(result.processed).toBe(1);
    expect(result.unprocessed.map((r) => [r.index, r.code])).toEqual([[1, 523]]);
    expect((await client.now()).count).toBe(0);
  });

  it('an empty upload sends nothing', async () => {
    const server = await start();
    const { client, requests } = clientOf(server);
    expect(await client.upload([])).toEqual({ processed: 0, unprocessed: [] });
    expect(requests).toEqual([]);
  });

  it('issues a read token that opens the stream', async () => {
    const server = await start();
    const { client } = clientOf(server);
    const { token, expires_in } = await client.readToken();
    expect(expires_in).toBe(300);
    const response = await fetch(`${server.url}/1/now/stream?token=${encodeURIComponent(token)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });
});

describe('upload in batches', () => {
  const TOTAL = 2_500;

  /**
   * 2,500 records, some invalid: at the batch edges (0, 999, 1000, 1001, 1999, 2000, 2499) and
   * spread between, each with the code the server must give it.
   */
  function mixedRecords(): { records: UploadRecord[]; invalid: Map<number, number> } {
    const invalid = new Map<number, number>();
    const records: UploadRecord[] = [];
    const edges = new Set([0, 999, 1000, 1001, 1999, 2000, 2499]);
    for (let i = 0; i < TOTAL; i++) {
      if (edges.has(i) || i % 97 === 13) {
        records.push({ type: 'event', evtName: 'App Launched' }); // no identity
        invalid.set(i, 523);
      } else if (i % 211 === 7) {
        records.push({ type: 'click', identity: `u${i}` } as unknown as UploadRecord);
        invalid.set(i, 524);
      } else if (i % 307 === 11) {
        records.push({ type: 'event', identity: `u${i}` }); // no evtName
        invalid.set(i, 509);
      } else {
        records.push(event(`u${i}`, { browser: i % 2 === 0 ? 'Chrome' : 'Firefox' }));
      }
    }
    return { records, invalid };
  }

  it.each([1, 3])(
    '2,500 records, concurrency %i: indices of refused records map back to the array',
    async (concurrency) => {
      const server = await start();
      const { client, requests } = clientOf(server, { concurrency });
      const { records, invalid } = mixedRecords();
      const batches: [number, number][] = [];
      const result = await client.upload(records, { onBatch: (b) => batches.push([b.start, b.count]) });

      expect(requests).toEqual(['POST /1/upload', 'POST /1/upload', 'POST /1/upload']);
      expect(batches.sort((a, b) => a[0] - b[0])).toEqual([
        [0, 1000],
        [1000, 1000],
        [2000, 500],
      ]);
      expect(result.processed).toBe(TOTAL - invalid.size);
      expect(result.unprocessed.map((r) => [r.index, r.code])).toEqual(
        [...invalid.entries()].sort((a, b) => a[0] - b[0]),
      );
      for (const refused of result.unprocessed) {
        expect(refused.record).toBe(JSON.stringify(records[refused.index]));
        expect(refused.error).toMatch(new RegExp(`\\. Skipped record number : ${refused.index + 1}$`));
      }
      // Every valid record is a distinct user, active now.
      const now = await client.now({ browser: true });
      expect(now.count).toBe(TOTAL - invalid.size);
      const chrome = records.filter((r, i) => !invalid.has(i) && r.session?.browser === 'Chrome').length;
      expect(now.browser.Chrome).toBe(chrome);
    },
  );

  it('a smaller batchSize and maxBatchBytes make more requests', async () => {
    const server = await start();
    const records = Array.from({ length: 25 }, (_, i) => event(`user-${i}`, { browser: 'x'.repeat(60) }));
    const bySize = clientOf(server, { batchSize: 10 });
    expect((await bySize.client.upload(records)).processed).toBe(25);
    expect(bySize.requests).toHaveLength(3);
    // One record is about 110 bytes: 1,000 bytes hold 8 of them.
    const one = JSON.stringify(records[0]).length;
    const perBatch = Math.floor((1_000 - '{"d":[]}'.length + 1) / (one + 1));
    const byBytes = clientOf(server, { maxBatchBytes: 1_000 });
    expect((await byBytes.client.upload(records)).processed).toBe(25);
    expect(byBytes.requests).toHaveLength(Math.ceil(25 / perBatch));
  });
});

describe('the live stream', () => {
  it('delivers the current counts at once, then an update after an upload', async () => {
    const server = await start({ nowStream: { intervalMs: 50 } });
    const { client } = clientOf(server);
    const updates: StreamUpdate[] = [];
    let wake: () => void = () => {};
    const stream = client.stream((update) => {
      updates.push(update);
      wake();
    });
    closers.push(async () => {
      stream.close();
      await stream.done;
    });
    const until = (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => updates.length >= n && resolve();
        wake();
      });
    await until(1);
    expect(updates[0].count).toBe(0);
    expect(updates[0].timeline).toHaveLength(30);
    await client.upload([
      event('u1', { browser: 'Edge', os: 'Windows', device: 'Desktop', source: 'Email' }),
    ]);
    await until(2);
    expect(updates[1]).toMatchObject({
      count: 1,
      user_type: { new: 1, returning: 0 },
      session_source: { Email: 1 },
      browser: { Edge: 1 },
      os: { Windows: 1 },
      device: { Desktop: 1 },
      new: { browser: { Edge: 1 } },
    });
  });

  it('reconnects after the server drops it, and resolves done when aborted', async () => {
    const server = await start({ nowStream: { intervalMs: 50 } });
    const sockets = trackSockets(server);
    const { client, requests } = clientOf(server);
    const errors: unknown[] = [];
    let opened = 0;
    const controller = new AbortController();
    let secondOpen: () => void = () => {};
    const reopened = new Promise<void>((resolve) => {
      secondOpen = resolve;
    });
    const stream = client.stream(() => {}, {
      signal: controller.signal,
      onError: (error) => errors.push(error),
      onOpen: () => {
        opened++;
        if (opened === 2) secondOpen();
      },
    });
    closers.push(() => stream.done);
    await vi.waitFor(() => expect(opened).toBe(1));
    // Destroys the server side of the open stream, as a proxy or a crash would.
    expect(sockets.length).toBeGreaterThan(0);
    for (const socket of sockets) socket.destroy();
    await reopened;
    expect(errors.length).toBeGreaterThan(0);
    expect(requests.filter((r) => r === 'GET /1/now/stream').length).toBeGreaterThanOrEqual(2);
    controller.abort();
    await expect(stream.done).resolves.toBeUndefined();
  });

  it('gives up on a 401 and rejects done with the error', async () => {
    const server = await start();
    const { client } = clientOf(server, { passcode: 'wrong' });
    const seen: [unknown, StreamErrorInfo][] = [];
    const stream = client.stream(() => {}, { onError: (error, info) => seen.push([error, info]) });
    const error = await apiErrorOf(stream.done);
    expect(error.kind).toBe('invalidPasscode');
    expect(seen).toEqual([[error, { willRetry: false, delayMs: undefined }]]);
  });

  it('waits out 429 Too many open streams (Retry-After) and gets in once a place frees up', async () => {
    const server = await start({ nowStream: { maxStreams: 1, intervalMs: 50 } });
    let firstIn: () => void = () => {};
    const firstOpen = new Promise<void>((resolve) => {
      firstIn = resolve;
    });
    const first = clientOf(server).client.stream(() => firstIn());
    closers.push(async () => {
      first.close();
      await first.done;
    });
    // The second opens only once the first holds the account's one place.
    await firstOpen;
    const { client } = clientOf(server);
    const seen: [unknown, StreamErrorInfo][] = [];
    let updates = 0;
    const second = client.stream(
      () => {
        updates++;
      },
      { onError: (error, info) => seen.push([error, info]) },
    );
    closers.push(async () => {
      second.close();
      await second.done;
    });
    await vi.waitFor(() => expect(seen.length).toBe(1));
    const [error, info] = seen[0];
    expect(error).toBeInstanceOf(ActiveNowError);
    expect((error as ActiveNowError).kind).toBe('tooManyStreams');
    expect((error as ActiveNowError).params).toEqual({ max: '1' });
    expect(info).toEqual({ willRetry: true, delayMs: 1000 });
    first.close();
    await vi.waitFor(() => expect(updates).toBeGreaterThan(0), { timeout: 5_000 });
  });
});

/** The server side of every connection made from now on. */
function trackSockets(server: TestServer): Socket[] {
  const sockets: Socket[] = [];
  server.app.server.on('connection', (socket: Socket) => sockets.push(socket));
  return sockets;
}

describe('errors of the real server, by kind', () => {
  it.each<[string, Partial<ActiveNowClientOptions>, ErrorKind, number]>([
    ['no passcode', { passcode: '' }, 'credentialsMissing', 401],
    ['an unknown account', { accountId: 'NOPE-NOPE' }, 'invalidAccount', 401],
    ['a wrong passcode', { passcode: 'not-the-passcode' }, 'invalidPasscode', 401],
  ])('%s: 401 %s', async (_name, options, kind, status) => {
    const server = await start();
    const { client, requests } = clientOf(server, options);
    const error = await apiErrorOf(client.now({ browser: true }));
    expect([error.kind, error.status, error.code]).toEqual([kind, status, status]);
    expect(error.message).toBe(error.error);
    // Not retried: waiting does not cure a 401.
    expect(requests).toHaveLength(1);
  });

  it('an account of another region: 401 wrongRegion naming it', async () => {
    const server = await start({ region: 'eu1' });
    const other = await server.accounts.create({ name: 'elsewhere', region: 'in1' });
    const { client } = clientOf(server, { account: other });
    const error = await apiErrorOf(client.now());
    expect([error.kind, error.params]).toEqual(['wrongRegion', { region: 'in1' }]);
  });

  it('an unknown parameter and a bad window: 400 naming the key', async () => {
    const server = await start();
    const { client } = clientOf(server);
    const unknown = await apiErrorOf(client.now({ bogus: true } as NowRequest));
    expect([unknown.kind, unknown.status, unknown.params]).toEqual([
      'unknownParameter',
      400,
      { name: 'bogus' },
    ]);
    const window = await apiErrorOf(client.now({ window: 5 }));
    expect([window.kind, window.params.name]).toEqual(['invalidParameter', 'window']);
    expect(window.params.reason).toMatch(/^expected an integer from 60 to/);
  });

  it('a base URL with a wrong path: 404 routeNotFound', async () => {
    const server = await start();
    const { client } = clientOf(server, { baseUrl: `${server.url}/not-here/` });
    expect((await apiErrorOf(client.now())).kind).toBe('routeNotFound');
  });

  it('a body over the server limit: 413 bodyTooLarge with the limit', async () => {
    const server = await start({ maxBodyBytes: 4096 });
    const { client } = clientOf(server);
    const big = { ...event('u1', {}), evtData: { text: 'x'.repeat(10_000) } };
    const error = await apiErrorOf(client.upload([big]));
    expect([error.kind, error.status, error.params]).toEqual(['bodyTooLarge', 413, { max: '4096' }]);
  });

  it('500 internal is not retried; 503 storeUnavailable and notReady are, until they pass', async () => {
    const server = await start();
    const now = vi.spyOn(server.store, 'now').mockRejectedValueOnce(new Error('boom'));
    const { client, requests } = clientOf(server);
    const internal = await apiErrorOf(client.now());
    expect([internal.kind, internal.status]).toEqual(['internal', 500]);
    expect(requests).toHaveLength(1);
    now.mockRestore();

    const readiness = vi.spyOn(server.store, 'readiness');
    readiness.mockReturnValue('unavailable');
    const noRetry = clientOf(server, { retries: 0 });
    expect((await apiErrorOf(noRetry.client.now())).kind).toBe('storeUnavailable');
    readiness.mockReturnValue('starting');
    expect((await apiErrorOf(noRetry.client.now())).kind).toBe('notReady');

    readiness.mockReturnValueOnce('unavailable').mockReturnValueOnce('starting').mockReturnValue('ready');
    const retrying = clientOf(server, { retries: 2 });
    expect(await retrying.client.now()).toEqual({ status: 'success', count: 0 });
    expect(retrying.requests).toHaveLength(3);
  });

  it('429 tooManyConcurrent carries Retry-After; a retry gets through once the place frees up', async () => {
    const server = await start({ maxInFlight: 1 });
    const { account } = server;
    // Holds the account's only place: headers sent, body not yet.
    const held = await RawConnection.open(server.port);
    held.write(
      [
        'POST /1/now.json HTTP/1.1',
        `Host: 127.0.0.1:${server.port}`,
        `X-CleverTap-Account-Id: ${account.id}`,
        `X-CleverTap-Passcode: ${account.passcode}`,
        'Content-Type: application/json',
        'Content-Length: 2',
        '',
        '',
      ].join('\r\n'),
    );
    closers.push(async () => held.destroy());
    const refused = clientOf(server, { retries: 0 });
    const error = await vi.waitFor(async () => {
      const error = await apiErrorOf(refused.client.now());
      expect(error.kind).toBe('tooManyConcurrent');
      return error;
    });
    expect([error.status, error.retryAfterMs]).toEqual([429, 1000]);

    const patient = clientOf(server, { retries: 2 });
    const answer = patient.client.now();
    await vi.waitFor(() => expect(patient.statuses).toEqual([429]));
    held.write('{}');
    expect((await held.response()).status).toBe(200);
    expect(await answer).toEqual({ status: 'success', count: 0 });
    expect(patient.statuses).toEqual([429, 200]);
  });

  it('aborting mid-request rejects at once with the signal reason', async () => {
    const server = await start();
    vi.spyOn(server.store, 'now').mockImplementation(
      () => new Promise((resolve) => setTimeout(() => resolve({ count: 0, splits: {} }), 3_000)),
    );
    const { client } = clientOf(server);
    const controller = new AbortController();
    const reason = new Error('user went away');
    setTimeout(() => controller.abort(reason), 50);
    const started = Date.now();
    expect(await rejectionOf(client.now({}, { signal: controller.signal }))).toBe(reason);
    expect(Date.now() - started).toBeLessThan(2_000);
    vi.spyOn(server.store, 'record').mockImplementation(
      () => new Promise((resolve) => setTimeout(resolve, 3_000)),
    );
    const plain = new AbortController();
    setTimeout(() => plain.abort(), 50);
    const error = await rejectionOf(client.upload([event('u1', {})], { signal: plain.signal }));
    expect((error as Error).name).toBe('AbortError');
  });

  /** Errors the client cannot cause itself (it always sends valid JSON with the right headers). */
  describe('answers to requests the client never sends, read by its error parser', () => {
    async function kindOf(response: Response | { status: number; text: string }): Promise<ErrorKind> {
      const text = response instanceof Response ? await response.text() : response.text;
      const error = errorOfAnswer(response.status, text);
      expect(error.code).toBe(response.status);
      return error.kind;
    }

    it('every other catalogue entry', async () => {
      const server = await start({ maxHitsPerSecond: 1 });
      const { account } = server;
      const headers = {
        'X-CleverTap-Account-Id': account.id,
        'X-CleverTap-Passcode': account.passcode,
        'Content-Type': 'application/json',
      };
      const post = (path: string, body: string | Uint8Array, extra: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, { method: 'POST', headers: { ...headers, ...extra }, body });
      const kinds: Partial<Record<ErrorKind, ErrorKind>> = {};
      const note = async (expected: ErrorKind, response: Response | { status: number; text: string }) => {
        kinds[expected] = await kindOf(response);
      };
      await note('invalidJson', await post('/1/now.json', '{'));
      await note(
        'invalidEncoding',
        await post('/1/now.json', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
      );
      await note('invalidContentType', await post('/1/now.json', '{}', { 'Content-Type': 'text/html' }));
      await note('bodyNotObject', await post('/1/now.json', '[]'));
      await note('recordsMissing', await post('/1/upload', '{}'));
      await note(
        'tooManyRecords',
        await post('/1/upload', JSON.stringify({ d: Array.from({ length: 1001 }, () => ({})) })),
      );
      await note('methodNotAllowed', await fetch(`${server.url}/1/now.json`));
      await note('invalidReadToken', await fetch(`${server.url}/1/now/stream?token=nope`));
      const hit = (token: string) =>
        fetch(`${server.url}/1/collect`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify({ account: account.id, token, user: 'v1', kind: 'pageview' }),
        });
      await note('invalidToken', await hit('pt_wrong'));
      await note(
        'invalidHitContentType',
        await fetch(`${server.url}/1/collect`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/html' },
          body: '{}',
        }),
      );
      let limited: Response | undefined;
      for (let i = 0; i < 10 && limited === undefined; i++) {
        const response = await hit(account.token);
        if (response.status === 429) limited = response;
      }
      if (limited === undefined) throw new Error('the hit rate limit never answered 429');
      await note('tooManyHits', limited);
      const raw = await RawConnection.open(server.port);
      raw.write('POST /1/now.json HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
      await note('invalidHeaders', await raw.response());
      raw.destroy();

      expect(kinds).toEqual({
        invalidJson: 'invalidJson',
        invalidEncoding: 'invalidEncoding',
        invalidContentType: 'invalidContentType',
        bodyNotObject: 'bodyNotObject',
        recordsMissing: 'recordsMissing',
        tooManyRecords: 'tooManyRecords',
        methodNotAllowed: 'methodNotAllowed',
        invalidReadToken: 'invalidReadToken',
        invalidToken: 'invalidToken',
        invalidHitContentType: 'invalidHitContentType',
        tooManyHits: 'tooManyHits',
        invalidHeaders: 'invalidHeaders',
      });
    });
  });
});
