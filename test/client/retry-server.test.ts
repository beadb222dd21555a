import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ActiveNowClient,
  type ActiveNowClientOptions,
  ActiveNowError,
  ActiveNowNetworkError,
  type StreamUpdate,
} from '../../src/client/index.js';
import type { StreamErrorInfo } from '../../src/client/stream.js';
import { freePort } from '../../support/free-port.js';

/**
 * The client against a scripted local HTTP server: 429s, 503s, dropped connections, proxies' pages
 * and streams cut anywhere, which the real server does not produce on demand.
 */

interface Attempt {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly at: number;
}

type Handler = (request: IncomingMessage, response: ServerResponse, attempt: Attempt, n: number) => void;

interface FakeServer {
  readonly url: string;
  readonly attempts: Attempt[];
}

const servers: Server[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server answering attempt n (from 0) with `handlers[n]`, the last handler for every later one. */
async function fakeServer(...handlers: Handler[]): Promise<FakeServer> {
  const attempts: Attempt[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      const attempt = { method: request.method ?? '', path: request.url ?? '', body, at: Date.now() };
      const n = attempts.push(attempt) - 1;
      handlers[Math.min(n, handlers.length - 1)](request, response, attempt, n);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(body));
  };
}

const fail = (code: number, error: string) => ({ status: 'fail', error, code });
const TOO_MANY = fail(429, 'Too many concurrent requests');
const UNAVAILABLE = fail(503, 'Storage is unavailable; retry later');
const COUNT_7 = { status: 'success', count: 7 };

/** Answers an upload as the server does: every record processed. */
const uploadOk: Handler = (_request, response, attempt) => {
  const records = (JSON.parse(attempt.body) as { d: unknown[] }).d;
  json(200, { status: 'success', processed: records.length, unprocessed: [] })(
    _request,
    response,
    attempt,
    0,
  );
};

function clientOf(
  server: FakeServer | string,
  options: Partial<ActiveNowClientOptions> = {},
): ActiveNowClient {
  return new ActiveNowClient({
    baseUrl: typeof server === 'string' ? server : server.url,
    accountId: 'ACC',
    passcode: 'secret',
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    ...options,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const gaps = (attempts: readonly Attempt[]) => attempts.slice(1).map((a, i) => a.at - attempts[i].at);

describe('retries of now and upload', () => {
  it('429 with Retry-After in seconds: waits that long, then succeeds', async () => {
    const server = await fakeServer(json(429, TOO_MANY, { 'retry-after': '1' }), json(200, COUNT_7));
    expect(await clientOf(server).now()).toEqual(COUNT_7);
    expect(server.attempts).toHaveLength(2);
    expect(gaps(server.attempts)[0]).toBeGreaterThanOrEqual(950);
  });

  it('503 with Retry-After as an HTTP date: waits until then', async () => {
    let until = 0;
    const server = await fakeServer(
      (request, response, attempt, n) => {
        // HTTP dates have whole seconds: at least one second ahead.
        until = (Math.floor(Date.now() / 1000) + 2) * 1000;
        json(503, UNAVAILABLE, { 'retry-after': new Date(until).toUTCString() })(
          request,
          response,
          attempt,
          n,
        );
      },
      json(200, COUNT_7),
    );
    expect(await clientOf(server).now()).toEqual(COUNT_7);
    expect(server.attempts).toHaveLength(2);
    expect(server.attempts[1].at).toBeGreaterThanOrEqual(until - 50);
  });

  it('without Retry-After: exponential backoff with full jitter, bounded attempts', async () => {
    const server = await fakeServer(json(503, UNAVAILABLE));
    const client = clientOf(server, {
      retries: 3,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 250,
      random: () => 0.99,
    });
    const error = await rejectionOf(client.now());
    expect(error).toBeInstanceOf(ActiveNowError);
    expect((error as ActiveNowError).kind).toBe('storeUnavailable');
    expect(server.attempts).toHaveLength(4);
    // 0.99 × min(250, 100·2ⁿ): 99, 198, 247 ms.
    const [a, b, c] = gaps(server.attempts);
    expect(a).toBeGreaterThanOrEqual(95);
    expect(b).toBeGreaterThanOrEqual(195);
    expect(c).toBeGreaterThanOrEqual(245);
    expect(c).toBeLessThan(1_000);
  });

  it('the jitter can be zero: random 0 retries at once', async () => {
    const server = await fakeServer(json(503, UNAVAILABLE), json(503, UNAVAILABLE), json(200, COUNT_7));
    const client = clientOf(server, { retryBaseDelayMs: 5_000, random: () => 0 });
    const started = Date.now();
    expect(await client.now()).toEqual(COUNT_7);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a Retry-After beyond maxRetryAfterMs is not waited for', async () => {
    const server = await fakeServer(json(429, TOO_MANY, { 'retry-after': '5' }), json(200, COUNT_7));
    const error = await rejectionOf(clientOf(server, { maxRetryAfterMs: 2_000 }).now());
    expect([(error as ActiveNowError).kind, (error as ActiveNowError).retryAfterMs]).toEqual([
      'tooManyConcurrent',
      5_000,
    ]);
    expect(server.attempts).toHaveLength(1);
  });

  it('other errors are not retried; a proxy page is an error of kind unknown', async () => {
    const server = await fakeServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html>Bad Gateway</html>');
    });
    const error = (await rejectionOf(clientOf(server).now())) as ActiveNowError;
    expect(error).toBeInstanceOf(ActiveNowError);
    expect([error.status, error.code, error.error, error.kind]).toEqual([
      502,
      undefined,
      undefined,
      'unknown',
    ]);
    expect(server.attempts).toHaveLength(1);
  });

  it('a connection dropped before an answer is a network error, retried', async () => {
    const server = await fakeServer((request) => request.socket.destroy(), json(200, COUNT_7));
    expect(await clientOf(server).now()).toEqual(COUNT_7);
    expect(server.attempts).toHaveLength(2);

    const dropping = await fakeServer((request) => request.socket.destroy());
    const error = await rejectionOf(clientOf(dropping, { retries: 1 }).now());
    expect(error).toBeInstanceOf(ActiveNowNetworkError);
    expect((error as Error).cause).toBeDefined();
    expect(dropping.attempts).toHaveLength(2);
  });

  it('nobody listening: a network error after every attempt', async () => {
    const port = await freePort();
    const error = await rejectionOf(clientOf(`http://127.0.0.1:${port}`, { retries: 2 }).now());
    expect(error).toBeInstanceOf(ActiveNowNetworkError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('aborting while waiting to retry rejects at once with the reason; no further attempt', async () => {
    const server = await fakeServer(json(429, TOO_MANY, { 'retry-after': '30' }), json(200, COUNT_7));
    const controller = new AbortController();
    const reason = new Error('stop');
    const answer = clientOf(server).now({}, { signal: controller.signal });
    await vi.waitFor(() => expect(server.attempts).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    controller.abort(reason);
    expect(await rejectionOf(answer)).toBe(reason);
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.attempts).toHaveLength(1);
  });

  it('an aborted signal sends nothing', async () => {
    const server = await fakeServer(json(200, COUNT_7));
    const error = await rejectionOf(clientOf(server).upload([], { signal: AbortSignal.abort() }));
    expect((error as Error).name).toBe('AbortError');
    expect(server.attempts).toHaveLength(0);
  });

  it('upload: a batch answered 429 is retried alone, and the totals add up', async () => {
    const server = await fakeServer(uploadOk, json(429, TOO_MANY, { 'retry-after': '0' }), uploadOk);
    const records = Array.from({ length: 1_500 }, (_, i) => ({
      type: 'event' as const,
      identity: `u${i}`,
      evtName: 'e',
    }));
    expect(await clientOf(server).upload(records)).toEqual({ processed: 1_500, unprocessed: [] });
    const sizes = server.attempts.map((a) => (JSON.parse(a.body) as { d: unknown[] }).d.length);
    expect(sizes).toEqual([1_000, 500, 500]);
    expect(server.attempts.every((a) => a.path === '/1/upload' && a.method === 'POST')).toBe(true);
  });

  it('upload: a batch refused for good stops the upload; earlier batches were reported', async () => {
    const server = await fakeServer(uploadOk, json(400, fail(400, 'Unknown parameter: x')));
    const records = Array.from({ length: 2_500 }, (_, i) => ({
      type: 'event' as const,
      identity: `u${i}`,
      evtName: 'e',
    }));
    const answered: number[] = [];
    const error = await rejectionOf(
      clientOf(server).upload(records, { onBatch: (batch) => answered.push(batch.start) }),
    );
    expect((error as ActiveNowError).kind).toBe('unknownParameter');
    expect(answered).toEqual([0]);
    expect(server.attempts).toHaveLength(2);
  });

  it('upload sends the credentials, JSON and ?dryRun=1', async () => {
    const seen: IncomingMessage[] = [];
    const server = await fakeServer((request, response, attempt, n) => {
      seen.push(request);
      uploadOk(request, response, attempt, n);
    });
    await clientOf(`${server.url}/prefix/`).upload([{ type: 'profile', identity: 1 }], { dryRun: true });
    expect(server.attempts[0].path).toBe('/prefix/1/upload?dryRun=1');
    expect(seen[0].headers['x-clevertap-account-id']).toBe('ACC');
    expect(seen[0].headers['x-clevertap-passcode']).toBe('secret');
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.attempts[0].body)).toEqual({ d: [{ type: 'profile', identity: 1 }] });
  });
});

describe('the stream, against a scripted server', () => {
  const update = (count: number) => JSON.stringify({ ...COUNT_7, count });

  it('parses events cut anywhere, reconnects after 503 and after the stream ends', async () => {
    const server = await fakeServer(
      json(503, UNAVAILABLE, { 'retry-after': '0' }),
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        // CRLF line ends, a comment, an event of another type, a multi-line data, cut in 3-byte pieces.
        const text = `: hello\r\ndata: ${update(1)}\r\n\r\nevent: other\ndata: {}\n\ndata: ${update(2)}\n\n`;
        let at = 0;
        const timer = setInterval(() => {
          response.write(text.slice(at, at + 3));
          at += 3;
          if (at >= text.length) {
            clearInterval(timer);
            response.end();
          }
        }, 1);
      },
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
        response.write(`data: ${update(3)}\n\n`);
      },
    );
    const counts: number[] = [];
    const errors: [unknown, StreamErrorInfo][] = [];
    const stream = clientOf(server).stream((u: StreamUpdate) => counts.push(u.count), {
      onError: (error, info) => errors.push([error, info]),
    });
    cleanups.push(() => {
      stream.close();
      return stream.done;
    });
    await vi.waitFor(() => expect(counts).toEqual([1, 2, 3]));
    expect(errors.map(([error, info]) => [(error as Error).name, info.willRetry])).toEqual([
      ['ActiveNowError', true],
      ['ActiveNowNetworkError', true],
    ]);
    expect(errors[0][1].delayMs).toBe(0);
    expect(server.attempts.every((a) => a.method === 'GET' && a.path === '/1/now/stream')).toBe(true);
  });

  it('a silent connection is replaced after idleTimeoutMs', async () => {
    const server = await fakeServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': open\n\n');
    });
    const errors: unknown[] = [];
    const stream = clientOf(server).stream(() => {}, {
      idleTimeoutMs: 150,
      onError: (error) => errors.push(error),
    });
    cleanups.push(() => {
      stream.close();
      return stream.done;
    });
    await vi.waitFor(() => expect(server.attempts.length).toBeGreaterThanOrEqual(2));
    expect(errors[0]).toBeInstanceOf(ActiveNowNetworkError);
    expect((errors[0] as Error).message).toMatch(/no data .* for 150 ms/);
  });

  it('an error thrown by the update handler ends the stream with that error', async () => {
    const server = await fakeServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${update(1)}\n\n`);
    });
    const mine = new TypeError('handler bug');
    const stream = clientOf(server).stream(() => {
      throw mine;
    });
    expect(await rejectionOf(stream.done)).toBe(mine);
    expect(server.attempts).toHaveLength(1);
  });

  it('an answer that is not an event stream ends it', async () => {
    const server = await fakeServer(json(200, COUNT_7));
    const error = await rejectionOf(clientOf(server).stream(() => {}).done);
    expect(error).toBeInstanceOf(ActiveNowError);
    expect((error as Error).message).toMatch(/did not answer with an event stream/);
  });

  it('aborting the signal mid-stream resolves done', async () => {
    const server = await fakeServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${update(1)}\n\n`);
    });
    const controller = new AbortController();
    let got = 0;
    const stream = clientOf(server).stream(
      () => {
        got++;
      },
      { signal: controller.signal },
    );
    await vi.waitFor(() => expect(got).toBe(1));
    controller.abort();
    await expect(stream.done).resolves.toBeUndefined();
  });
});
