import { afterEach, describe, expect, it } from 'vitest';
import { credentials, post, startTestServer, type TestServer } from '../support/test-server.js';

const CHROME_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const ALL_SPLITS = { user_type: true, session_source: true, browser: true, os: true, device: true };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function hit(
  s: TestServer,
  fields: Record<string, unknown>,
  userAgent = CHROME_LINUX,
  contentType = 'text/plain',
) {
  const body = { account: s.account.id, token: s.account.token, user: 'v1', kind: 'pageview', ...fields };
  return post(`${s.url}/1/collect`, body, { 'Content-Type': contentType, 'User-Agent': userAgent });
}

/** `{"bots":true}` answered, through the fast lane (a plain request). */
async function bots(s: TestServer): Promise<Record<string, unknown>> {
  const answer = await post(`${s.url}/1/now.json`, { bots: true }, credentials(s.account));
  expect(answer.status).toBe(200);
  return answer.body as Record<string, unknown>;
}

async function now(s: TestServer): Promise<Record<string, unknown>> {
  const answer = await post(`${s.url}/1/now.json`, ALL_SPLITS, credentials(s.account));
  expect(answer.status).toBe(200);
  return answer.body as Record<string, unknown>;
}

describe('POST /1/collect', () => {
  it('counts a hit with browser, OS and device from the User-Agent and the source from the referrer', async () => {
    const s = await startTestServer();
    server = s;
    const answer = await hit(s, { url: 'https://shop.example/', referrer: 'https://www.google.de/' });
    expect(answer.status).toBe(202);
    expect(answer.text).toBe('');
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(await now(s)).toEqual({
      status: 'success',
      count: 1,
      user_type: { new: 1, returning: 0 },
      session_source: { 'Organic Search': 1 },
      browser: { Chrome: 1 },
      os: { Linux: 1 },
      device: { Desktop: 1 },
      new: {
        session_source: { 'Organic Search': 1 },
        browser: { Chrome: 1 },
        os: { Linux: 1 },
        device: { Desktop: 1 },
      },
    });
  });

  it('takes the source from UTM tags, counts each visitor once, and accepts application/json', async () => {
    const s = await startTestServer();
    server = s;
    const email = { url: 'https://shop.example/?utm_source=newsletter&utm_medium=email' };
    expect((await hit(s, { ...email, user: 'a' }, SAFARI_IPHONE)).status).toBe(202);
    expect((await hit(s, { ...email, user: 'a', kind: 'heartbeat' }, SAFARI_IPHONE)).status).toBe(202);
    expect(
      (await hit(s, { user: 'b', url: 'https://shop.example/' }, CHROME_LINUX, 'application/json')).status,
    ).toBe(202);
    const counts = await now(s);
    expect(counts.count).toBe(2);
    expect(counts.session_source).toEqual({ Direct: 1, Email: 1 });
    expect(counts.device).toEqual({ Desktop: 1, Mobile: 1 });
    expect(counts.os).toEqual({ Linux: 1, iOS: 1 });
  });

  it('counts a bot hit apart: in bots, never in count', async () => {
    const s = await startTestServer();
    server = s;
    expect((await hit(s, { url: 'https://shop.example/' }, GOOGLEBOT)).status).toBe(202);
    expect((await now(s)).count).toBe(0);
    expect(await bots(s)).toMatchObject({ count: 0, bots: 1 });
  });

  it('counts bots apart from uploads and hits, each bot once, and answers anew after each', async () => {
    const s = await startTestServer();
    server = s;
    const upload = (records: unknown[]) => post(`${s.url}/1/upload`, { d: records }, credentials(s.account));
    const record = (identity: string, ua: string) => ({
      identity,
      type: 'event',
      evtName: 'x',
      session: { ua },
    });
    expect((await upload([record('u1', CHROME_LINUX), record('crawler-1', GOOGLEBOT)])).status).toBe(200);
    expect(await bots(s)).toEqual({ status: 'success', count: 1, bots: 1, as_of: s.clock.now });
    // Within the same second: a remembered answer must not hide the bot lane's change.
    expect((await hit(s, { user: 'crawler-2' }, GOOGLEBOT)).status).toBe(202);
    expect(await bots(s)).toMatchObject({ count: 1, bots: 2 });
    expect((await upload([record('crawler-1', GOOGLEBOT)])).status).toBe(200);
    expect(await bots(s)).toMatchObject({ count: 1, bots: 2 });
    // Out of the window, out of bots.
    s.clock.now += 301;
    expect(await bots(s)).toMatchObject({ count: 0, bots: 0 });
  });

  it('refuses a wrong token, a passcode in place of the token, and an unknown account, with CORS', async () => {
    const s = await startTestServer();
    server = s;
    for (const fields of [
      { token: 'pt_AAAAAAAAAAAAAAAAAAAAAAAA' },
      { token: s.account.passcode },
      { account: 'ZZZ-ZZZ-ZZZZ' },
    ]) {
      const answer = await hit(s, fields);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        status: 'fail',
        error: 'Account ID or public token is not valid',
        code: 401,
      });
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    }
    expect((await now(s)).count).toBe(0);
  });

  it('refuses bad bodies with the envelope and changes nothing', async () => {
    const s = await startTestServer();
    server = s;
    const cases: [Record<string, unknown> | string, string, number, string][] = [
      [{ extra: 1 }, 'text/plain', 400, 'Invalid parameter extra: unknown field'],
      [{ kind: 'click' }, 'text/plain', 400, 'Invalid parameter kind'],
      [{ user: '' }, 'text/plain', 400, 'Invalid parameter user'],
      [{ user: 'x'.repeat(121) }, 'text/plain', 400, 'Invalid parameter user'],
      [{ url: `https://a.example/${'x'.repeat(5000)}` }, 'text/plain', 400, 'Invalid parameter url'],
      ['{"account":', 'text/plain', 400, 'Request body is not valid JSON'],
      [{}, 'application/x-www-form-urlencoded', 400, 'Content-Type must be text/plain or application/json'],
      [{ referrer: 'y'.repeat(20_000) }, 'text/plain', 413, 'Request body is too large: at most 16384 bytes'],
    ];
    for (const [fields, contentType, status, message] of cases) {
      const body =
        typeof fields === 'string'
          ? fields
          : { account: s.account.id, token: s.account.token, user: 'v1', kind: 'pageview', ...fields };
      const answer = await post(`${s.url}/1/collect`, body, { 'Content-Type': contentType });
      expect(answer.status, JSON.stringify(fields).slice(0, 60)).toBe(status);
      expect((answer.body as { error: string }).error).toContain(message);
    }
    expect((await now(s)).count).toBe(0);
  });

  it('limits hits per account: bursts up to twice the rate, then 429 with Retry-After', async () => {
    const s = await startTestServer({ maxHitsPerSecond: 3 });
    server = s;
    const statuses: number[] = [];
    for (let k = 0; k < 8; k++) statuses.push((await hit(s, { user: `v${k}` })).status);
    // A burst of 6 is allowed; a little refill may let one more through on a slow machine.
    expect(statuses.slice(0, 6)).toEqual([202, 202, 202, 202, 202, 202]);
    expect(statuses.at(-1)).toBe(429);
    const refused = await hit(s, { user: 'late' });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await now(s)).count).toBeLessThan(8);
  });

  it('answers a CORS preflight, and other methods with 405', async () => {
    const s = await startTestServer();
    server = s;
    const preflight = await fetch(`${s.url}/1/collect`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const get = await fetch(`${s.url}/1/collect`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
  });
});

describe('POST /1/collect: page and country', () => {
  /** A hit from `forwardedFor` as X-Forwarded-For says, on page `page`. */
  function hitVia(s: TestServer, user: string, page: string, forwardedFor: string) {
    const body = { account: s.account.id, token: s.account.token, user, kind: 'pageview', page };
    return post(`${s.url}/1/collect`, body, {
      'Content-Type': 'text/plain',
      'User-Agent': CHROME_LINUX,
      'X-Forwarded-For': forwardedFor,
    });
  }

  async function pagesAndCountries(s: TestServer): Promise<unknown> {
    const answer = await post(`${s.url}/1/now.json`, { page: true, country: true }, credentials(s.account));
    expect(answer.status).toBe(200);
    const { page, country } = answer.body as Record<string, unknown>;
    return { page, country };
  }

  it('counts each visitor under the path of the page shown, and its country from a trusted proxy', async () => {
    const s = await startTestServer({ trustProxy: ['127.0.0.1'] });
    server = s;
    expect((await hitVia(s, 'v1', '/pricing?plan=pro', '8.8.8.8')).status).toBe(202);
    expect((await hitVia(s, 'v2', '/pricing', '133.1.1.1')).status).toBe(202);
    // The rightmost address that is not a trusted proxy is the client.
    expect((await hitVia(s, 'v3', '/docs', '133.1.1.1, 8.8.8.8')).status).toBe(202);
    // v1 moves on: counted once, under its latest page.
    expect((await hitVia(s, 'v1', '/checkout', '8.8.8.8')).status).toBe(202);
    expect(await pagesAndCountries(s)).toEqual({
      page: { '/checkout': 1, '/docs': 1, '/pricing': 1 },
      country: { US: 2, JP: 1 },
    });
  });

  it('without --trust-proxy the socket is the client: X-Forwarded-For is not believed', async () => {
    const s = await startTestServer();
    server = s;
    expect((await hitVia(s, 'v1', '/', '8.8.8.8')).status).toBe(202);
    // The peer is 127.0.0.1, which no country holds.
    expect(await pagesAndCountries(s)).toEqual({ page: { '/': 1 }, country: { Unknown: 1 } });
  });
});

describe('POST /1/upload with session.ua, referrer and url', () => {
  it('derives the values a record does not state, and drops bots', async () => {
    const s = await startTestServer();
    server = s;
    const records = [
      {
        identity: 'u1',
        type: 'event',
        evtName: 'x',
        session: { ua: SAFARI_IPHONE, referrer: 'https://t.co/abc' },
      },
      { identity: 'u2', type: 'event', evtName: 'x', session: { ua: CHROME_LINUX, browser: 'Firefox' } },
      { identity: 'u3', type: 'event', evtName: 'x', session: { ua: GOOGLEBOT } },
    ];
    const answer = await post(`${s.url}/1/upload`, { d: records }, credentials(s.account));
    expect(answer.status).toBe(200);
    const counts = await now(s);
    expect(counts.count).toBe(2);
    expect(counts.browser).toEqual({ Firefox: 1, Safari: 1 });
    expect(counts.session_source).toEqual({ Social: 1, Unknown: 1 });
    expect(counts.device).toEqual({ Desktop: 1, Mobile: 1 });
  });
});
