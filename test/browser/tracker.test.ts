import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  devices,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { CHROMIUM, describeWithChromium, LAUNCH_ARGS } from '../support/chromium.js';
import { credentials, post, startTestServer, type TestServer } from '../support/test-server.js';

/**
 * The tracker (`GET /activenow.js`) in a real Chromium: pages of a local site, on another origin than
 * the API as on a real site, embed the snippet; counts are read back through `POST /1/now.json`.
 * Only loopback is used, and no browser is ever downloaded (test/support/chromium.ts).
 */
const GOOGLE = 'https://www.google.com/';
/** How long a hit may take to reach the server: beacons are asynchronous. */
const HIT_DEADLINE_MS = 10_000;

interface Site {
  /** e.g. http://127.0.0.1:41235 */
  readonly url: string;
  close(): Promise<void>;
}

/** A static site on its own loopback port: every path is a page with `snippet()` in its head. */
async function startSite(snippet: () => string): Promise<Site> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://site').pathname;
    if (path === '/favicon.ico') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(
      `<!doctype html><html><head><meta charset="utf-8"><title>${path}</title>${snippet()}</head>` +
        `<body><h1>${path}</h1><a id="next" href="/checkout">checkout</a></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

interface Counts {
  status: string;
  count: number;
  session_source?: Record<string, number>;
  browser?: Record<string, number>;
  os?: Record<string, number>;
  device?: Record<string, number>;
}

const SPLITS = { session_source: true, browser: true, os: true, device: true };

describeWithChromium('the browser tracker in Chromium', () => {
  let browser: Browser;
  let site: Site;
  let server: TestServer | undefined;
  /** The headless browser's own User-Agent, and the same as a normal Chrome on Linux sends it. */
  let headlessUserAgent: string;
  let desktopUserAgent: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    const cdp = await browser.newBrowserCDPSession();
    headlessUserAgent = (await cdp.send('Browser.getVersion')).userAgent;
    await cdp.detach();
    // Even the new headless mode (`--headless`, Chromium 156) sends "Mozilla/5.0 (X11; Linux x86_64) …
    // HeadlessChrome/156.0.0.0 Safari/537.36", which the bot filter drops (tested below). The pages that
    // must count therefore run with a realistic User-Agent: the same string as a headed Chromium's.
    desktopUserAgent = headlessUserAgent.replace('HeadlessChrome/', 'Chrome/');
    site = await startSite(() => {
      if (server === undefined) throw new Error('no API server');
      const { id, token } = server.account;
      return `<script defer src="${server.url}/activenow.js" data-account="${id}" data-token="${token}"></script>`;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  beforeEach(async () => {
    server = await startTestServer();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await server?.close();
    server = undefined;
  });

  /** A fresh visitor: its own profile (localStorage, sessionStorage), so its own anonymous id. */
  async function visitor(options: BrowserContextOptions = { userAgent: desktopUserAgent }) {
    const context = await browser.newContext(options);
    contexts.push(context);
    return context.newPage();
  }

  async function now(body: Record<string, unknown> = SPLITS): Promise<Counts> {
    if (server === undefined) throw new Error('no API server');
    const answer = await post(`${server.url}/1/now.json`, body, credentials(server.account));
    expect(answer.status).toBe(200);
    return answer.body as Counts;
  }

  /** Polls `now.json` until `done` holds (hits are beacons: they land a little after the page acts). */
  async function until(done: (counts: Counts) => boolean, body?: Record<string, unknown>): Promise<Counts> {
    const deadline = Date.now() + HIT_DEADLINE_MS;
    for (;;) {
      const counts = await now(body);
      if (done(counts) || Date.now() > deadline) return counts;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('counts a desktop visitor: 0 then 1, as Chrome on Linux, Desktop, Direct', async () => {
    expect((await now()).count).toBe(0);
    const page = await visitor();
    await page.goto(`${site.url}/`);
    expect(await page.evaluate('navigator.userAgent')).toBe(desktopUserAgent);
    expect(await until((c) => c.count === 1)).toEqual({
      status: 'success',
      count: 1,
      session_source: { Direct: 1 },
      browser: { Chrome: 1 },
      os: { Linux: 1 },
      device: { Desktop: 1 },
    });
  });

  it("accepts headless Chromium's own hits without counting them", async () => {
    expect(headlessUserAgent).toContain('HeadlessChrome/');
    const page = await visitor({});
    const [collected] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${server?.url}/1/collect`),
      page.goto(`${site.url}/`),
    ]);
    expect(collected.status()).toBe(202);
    expect((await now()).count).toBe(0);
  });

  it('counts an emulated phone as Mobile', async () => {
    const page = await visitor({ ...devices['Pixel 7'] });
    await page.goto(`${site.url}/`);
    const counts = await until((c) => c.count === 1);
    expect(counts.count).toBe(1);
    expect(counts.device).toEqual({ Mobile: 1 });
    expect(counts.browser).toEqual({ Chrome: 1 });
    expect(counts.os).toEqual({ Android: 1 });
  });

  it('takes the source from a Google referrer and from UTM tags on the landing page', async () => {
    const searcher = await visitor();
    await searcher.goto(`${site.url}/`, { referer: GOOGLE });
    expect(await searcher.evaluate('document.referrer')).toBe(GOOGLE);
    const reader = await visitor();
    await reader.goto(`${site.url}/?utm_medium=email&utm_source=newsletter`);
    const counts = await until((c) => c.count === 2);
    expect(counts.count).toBe(2);
    expect(counts.session_source).toEqual({ Email: 1, 'Organic Search': 1 });
  });

  it("keeps the visit's source through SPA and full navigations, as one user", async () => {
    const s = server as TestServer;
    const start = s.clock.now;
    const page = await visitor();
    await page.goto(`${site.url}/`, { referer: GOOGLE });
    expect((await until((c) => c.count === 1)).session_source).toEqual({ 'Organic Search': 1 });

    // Each later hit is told apart by the server clock: only a hit of the past minute counts in a
    // 60-second window.
    const lastMinute = { ...SPLITS, window: 60 };
    s.clock.now = start + 120;
    await page.evaluate("history.pushState({}, '', '/pricing')");
    expect(page.url()).toBe(`${site.url}/pricing`);
    let counts = await until((c) => c.count === 1, lastMinute);
    expect(counts.count).toBe(1);
    expect(counts.session_source).toEqual({ 'Organic Search': 1 });

    // A full page load within the site: document.referrer is the site itself, the attribution kept
    // for the tab still says Google.
    s.clock.now = start + 240;
    await Promise.all([page.waitForURL(`${site.url}/checkout`), page.click('#next')]);
    expect(await page.evaluate('document.referrer')).toBe(`${site.url}/pricing`);
    counts = await until((c) => c.count === 1, lastMinute);
    expect(counts.count).toBe(1);
    expect(counts.session_source).toEqual({ 'Organic Search': 1 });

    expect(await now({ ...SPLITS, window: 600 })).toMatchObject({ count: 1, browser: { Chrome: 1 } });
  });

  it('keeps an idle open tab counted past five minutes through heartbeats; a closed tab drops out', async () => {
    const s = server as TestServer;
    const start = s.clock.now;
    // The tab that stays open runs on a fake clock, so that its 60-second heartbeat comes on demand.
    const open = await visitor();
    await open.clock.install();
    await open.goto(`${site.url}/`);
    const closed = await visitor();
    await closed.goto(`${site.url}/?utm_medium=email&utm_source=newsletter`);
    expect((await until((c) => c.count === 2)).session_source).toEqual({ Direct: 1, Email: 1 });
    await closed.context().close();

    // 200 s later (server time), one heartbeat: page time moves 60 s, the tracker's interval.
    s.clock.now = start + 200;
    await open.clock.runFor(60_000);
    const beat = await until((c) => c.count === 1, { ...SPLITS, window: 60 });
    expect(beat.count).toBe(1);
    expect(beat.session_source).toEqual({ Direct: 1 });

    // 400 s after both pageviews: the heartbeat (at 200 s) keeps the open tab's user in the
    // five-minute window; the closed tab's user, last seen at 0 s, has left it.
    s.clock.now = start + 400;
    const counts = await now();
    expect(counts.count).toBe(1);
    expect(counts.session_source).toEqual({ Direct: 1 });
  });
});
