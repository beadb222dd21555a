import { afterEach, describe, expect, it } from 'vitest';
import { RawConnection } from '../support/raw-http.js';
import {
  credentials,
  post,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from '../support/test-server.js';

/**
 * GET /metrics (Prometheus text, per-app registry, bounded labels, optional bearer token), request
 * ids, the optional per-account request rate and the request timeouts, on the real HTTP server.
 */

const servers: TestServer[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: TestServerOptions = {}): Promise<TestServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

async function scrape(server: TestServer, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/metrics`, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The value of the sample `name{labels}` (labels exactly as written by prom-client), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function upload(server: TestServer, account: TestServer['account'], records: unknown[]) {
  return post(`${server.url}/1/upload`, { d: records }, credentials(account));
}

const event = (identity: string, extra: Record<string, unknown> = {}) => ({
  identity,
  type: 'event',
  evtName: 'Viewed',
  ...extra,
});

describe('GET /metrics', () => {
  it('counts requests by route pattern and status, records by code, store operations, process metrics', async () => {
    const server = await start();
    const accepted = await upload(server, server.account, [
      event('u1'),
      event('u2'),
      { identity: 'u3', type: 'event' },
      { type: 'event', evtName: 'x' },
      { identity: 'p1', type: 'profile', profileData: {} },
    ]);
    expect(accepted.status, accepted.text).toBe(200);
    const dry = await post(
      `${server.url}/1/upload?dryRun=1`,
      { d: [event('dry')] },
      credentials(server.account),
    );
    expect(dry.status).toBe(200);
    expect((await post(`${server.url}/1/now.json`, {}, credentials(server.account))).status).toBe(200);
    for (const path of ['/no/such/route/12345', '/no/such/route/67890?x=1']) {
      expect((await fetch(`${server.url}${path}`)).status).toBe(404);
    }
    expect((await fetch(`${server.url}/1/upload`)).status).toBe(405);

    const { status, headers, text } = await scrape(server);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'activenow_http_requests_total{method="POST",route="/1/upload",status="200"}')).toBe(
      2,
    );
    expect(
      sample(text, 'activenow_http_requests_total{method="POST",route="/1/now.json",status="200"}'),
    ).toBe(1);
    expect(sample(text, 'activenow_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(
      2,
    );
    expect(sample(text, 'activenow_http_requests_total{method="GET",route="/1/upload",status="405"}')).toBe(
      1,
    );
    // Unknown URLs never become labels.
    expect(text).not.toContain('12345');
    expect(
      sample(text, 'activenow_http_request_duration_seconds_count{method="POST",route="/1/upload"}'),
    ).toBe(2);
    // Three records processed (two events, one profile), the dry run not counted; one 509, one 523.
    expect(sample(text, 'activenow_records_accepted_total{route="/1/upload"}')).toBe(3);
    expect(sample(text, 'activenow_records_rejected_total{route="/1/upload",code="509"}')).toBe(1);
    expect(sample(text, 'activenow_records_rejected_total{route="/1/upload",code="523"}')).toBe(1);
    expect(sample(text, 'activenow_store_operation_duration_seconds_count{operation="record"}')).toBe(1);
    expect(
      sample(text, 'activenow_store_operation_duration_seconds_count{operation="now"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'activenow_now_streams_open')).toBe(0);
    expect(sample(text, `activenow_active_users{account="${server.account.id}"}`)).toBe(2);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('counts /1/collect hits accepted and refused, by status', async () => {
    const server = await start({ maxHitsPerSecond: 1 });
    const hit = (token: string) =>
      fetch(`${server.url}/1/collect`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ account: server.account.id, token, user: 'v1', kind: 'pageview' }),
      });
    const statuses: number[] = [];
    for (const token of [server.account.token, 'pt_wrong', server.account.token, server.account.token]) {
      statuses.push((await hit(token)).status);
    }
    expect(statuses.slice(0, 3)).toEqual([202, 401, 202]);
    const { text } = await scrape(server);
    const throttled = statuses[3] === 429 ? 1 : undefined;
    expect(sample(text, 'activenow_records_accepted_total{route="/1/collect"}')).toBe(
      statuses[3] === 202 ? 3 : 2,
    );
    expect(sample(text, 'activenow_records_rejected_total{route="/1/collect",code="401"}')).toBe(1);
    expect(sample(text, 'activenow_records_rejected_total{route="/1/collect",code="429"}')).toBe(throttled);
  });

  it('shows only the top N accounts by active users', async () => {
    const server = await start({ metrics: { topAccounts: 2 } });
    const small = await server.accounts.create({ name: 'small', region: 'eu1' });
    const large = await server.accounts.create({ name: 'large', region: 'eu1' });
    const users = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => event(`${prefix}${i}`));
    expect((await upload(server, server.account, users('m', 3))).status).toBe(200);
    expect((await upload(server, small, users('s', 1))).status).toBe(200);
    expect((await upload(server, large, users('l', 5))).status).toBe(200);
    const { text } = await scrape(server);
    const shown = text.split('\n').filter((line) => line.startsWith('activenow_active_users{'));
    expect(shown).toEqual([
      `activenow_active_users{account="${large.id}"} 5`,
      `activenow_active_users{account="${server.account.id}"} 3`,
    ]);
    // Accounts that recorded nothing within twice the window drop out.
    server.clock.now += 601;
    expect((await scrape(server)).text).not.toMatch(/^activenow_active_users\{/m);
  });

  it('counts open streams', async () => {
    const server = await start();
    const stream = await fetch(`${server.url}/1/now/stream`, { headers: credentials(server.account) });
    expect(stream.status).toBe(200);
    const reader = stream.body?.getReader();
    await reader?.read();
    expect(sample((await scrape(server)).text, 'activenow_now_streams_open')).toBe(1);
    await reader?.cancel();
  });

  it('keeps each app in its own registry', async () => {
    const a = await start();
    const b = await start();
    await upload(a, a.account, [event('x')]);
    expect(sample((await scrape(a)).text, 'activenow_records_accepted_total{route="/1/upload"}')).toBe(1);
    expect(sample((await scrape(b)).text, 'activenow_records_accepted_total{route="/1/upload"}')).toBe(0);
  });

  it('with a token, answers 401 without `Authorization: Bearer <token>`', async () => {
    const token = 'metrics-token-0123456789';
    const server = await start({ metrics: { token } });
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: token },
    ]) {
      const refused = await scrape(server, headers);
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.text)).toEqual({
        status: 'fail',
        error: 'Metrics token is missing or not valid',
        code: 401,
      });
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    }
    const allowed = await scrape(server, { authorization: `Bearer ${token}` });
    expect(allowed.status).toBe(200);
    expect(allowed.text).toContain('activenow_http_requests_total');
  });
});

describe('request ids', () => {
  it('echoes a sane X-Request-Id, and makes one otherwise', async () => {
    const server = await start();
    const sane = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123.DEF:4' } });
    expect(sane.headers.get('x-request-id')).toBe('abc-123.DEF:4');
    const odd = await fetch(`${server.url}/healthz`, {
      headers: { 'x-request-id': 'has space and "quotes"' },
    });
    const made = await fetch(`${server.url}/nope`);
    for (const response of [odd, made])
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-z]{6}-[0-9a-z]+$/);
    expect(odd.headers.get('x-request-id')).not.toBe(made.headers.get('x-request-id'));
  });
});

describe('--max-requests-per-second', () => {
  it('answers 429 to an account past its rate, and only to that account', async () => {
    const server = await start({ maxRequestsPerSecond: 1 });
    const other = await server.accounts.create({ name: 'other', region: 'eu1' });
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 8; i++) {
      const answer = await post(`${server.url}/1/now.json`, {}, credentials(server.account));
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
    }
    // A burst of two passes (plus whatever refilled meanwhile, at one per second), then 429.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(4);
    expect(refused?.body).toEqual({
      status: 'fail',
      error: 'Too many requests for this account; retry later',
      code: 429,
    });
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect((await post(`${server.url}/1/now.json`, {}, credentials(other))).status).toBe(200);
  });
});

describe('request timeouts', () => {
  it('answers 408 with the envelope when a request does not arrive in time', async () => {
    const server = await start({ connectionLimits: { requestTimeoutMs: 1500, headersTimeoutMs: 1000 } });
    const headersOnly = await RawConnection.open(server.port);
    headersOnly.write('POST /1/upload HTTP/1.1\r\nHost: x\r\n');
    const bodyMissing = await RawConnection.open(server.port);
    // A route that reads the body without credentials first.
    bodyMissing.write(
      'POST /1/collect HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{"account":',
    );
    for (const connection of [headersOnly, bodyMissing]) {
      const answer = await connection.response();
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.text)).toEqual({
        status: 'fail',
        error: 'Request was not received in time',
        code: 408,
      });
      connection.destroy();
    }
  });

  it('answers 400 with the envelope to headers over --max-header-bytes', async () => {
    const server = await start({ connectionLimits: { maxHeaderBytes: 2048 } });
    const connection = await RawConnection.open(server.port);
    connection.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(3000)}\r\n\r\n`);
    const answer = await connection.response();
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: 'Request headers are not valid', code: 400 });
    connection.destroy();
    expect((await fetch(`${server.url}/healthz`, { headers: { 'x-small': 'a'.repeat(1000) } })).status).toBe(
      200,
    );
  });
});
