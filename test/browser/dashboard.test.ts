import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../src/http/routes/dashboard.js';
import { CHROMIUM, describeWithChromium, LAUNCH_ARGS } from '../support/chromium.js';
import { credentials, post, startTestServer, type TestServer } from '../support/test-server.js';

/**
 * The live dashboard (`GET /dashboard`) in a real Chromium: sign-in through `POST /1/now/token`, the
 * view fed by `GET /1/now/stream?token=`, updated in place as uploads land. Screenshots go to
 * `test-artifacts/` (gitignored); `ACTIVENOW_UPDATE_SCREENSHOT=1` also refreshes `docs/dashboard.png`.
 */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const DOCS_FILTERED_SCREENSHOT = fileURLToPath(new URL('../../docs/dashboard-filtered.png', import.meta.url));
/** The stream is computed once per second: a change must be on screen within two. */
const LIVE_DEADLINE_MS = 2_000;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };

interface UploadEvent {
  identity: string;
  /** Page Viewed when not given. */
  evtName?: string;
  ts?: number;
  session?: {
    source?: string;
    browser?: string;
    os?: string;
    device?: string;
    ua?: string;
    page?: string;
    country?: string;
    app_version?: string;
  };
}

async function upload(server: TestServer, events: readonly UploadEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    const d = events.slice(i, i + 1000).map((e) => ({ type: 'event', evtName: 'Page Viewed', ...e }));
    const answer = await post(`${server.url}/1/upload`, { d }, credentials(server.account));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'success', processed: d.length, unprocessed: [] });
  }
}

/** Traffic that looks real: a seeded mix of sources, browsers and devices over the past 30 minutes. */
function simulatedTraffic(now: number): UploadEvent[] {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const pick = <T>(weighted: readonly (readonly [T, number])[]): T => {
    let r = random() * weighted.reduce((sum, [, w]) => sum + w, 0);
    for (const [value, w] of weighted) {
      r -= w;
      if (r < 0) return value;
    }
    return weighted[weighted.length - 1][0];
  };
  const events: UploadEvent[] = [];
  let user = 0;
  for (let minute = 29; minute >= 0; minute--) {
    // A rising afternoon with a bump: 10–30 visitors starting in each minute.
    const visitors = Math.round(14 + 8 * Math.sin(minute / 4) + (29 - minute) / 2 + random() * 6);
    for (let v = 0; v < visitors; v++) {
      const device = pick([
        ['Mobile', 55],
        ['Desktop', 40],
        ['Tablet', 5],
      ] as const);
      const os =
        device === 'Desktop'
          ? pick([
              ['Windows', 60],
              ['macOS', 30],
              ['Linux', 10],
            ] as const)
          : pick([
              ['Android', 60],
              ['iOS', 40],
            ] as const);
      const browser =
        os === 'iOS'
          ? 'Safari'
          : pick([
              ['Chrome', 65],
              ['Edge', 10],
              ['Firefox', 9],
              ['Safari', os === 'macOS' ? 30 : 0],
              ['Samsung Internet', os === 'Android' ? 12 : 0],
              ['Opera', 3],
            ] as const);
      const source = pick([
        ['Direct', 30],
        ['Organic Search', 32],
        ['Social', 14],
        ['Paid Search', 10],
        ['Email', 7],
        ['Referral', 5],
        ['Push', 2],
      ] as const);
      const identity = `visitor-${user++}`;
      const country = pick([
        ['US', 30],
        ['IN', 22],
        ['DE', 10],
        ['GB', 9],
        ['BR', 8],
        ['FR', 6],
        ['JP', 5],
        ['NG', 4],
        ['CA', 4],
      ] as const);
      const appVersion = browser === 'Safari' && device === 'Mobile' ? '6.4.1' : undefined;
      const pageOf = () =>
        pick([
          ['/', 30],
          ['/pricing', 14],
          ['/docs/getting-started', 12],
          ['/blog/realtime-counts', 10],
          ['/signup', 8],
          ['/docs/api', 7],
          ['/checkout', 5],
          ['/about', 4],
        ] as const);
      const session = { source, browser, os, device, country, app_version: appVersion };
      const start = now - minute * 60 - Math.floor(random() * 60);
      events.push({ identity, ts: start, session: { ...session, page: pageOf() } });
      // Most visits last a few minutes: a later page view or two.
      for (let t = start + 60 + Math.floor(random() * 90); t <= now && random() < 0.7; t += 90) {
        const evtName = pick([
          ['Page Viewed', 70],
          ['Search', 12],
          ['Added To Cart', 8],
          ['Signed Up', 6],
          ['Charged', 4],
        ] as const);
        events.push({ identity, evtName, ts: t, session: { ...session, page: pageOf() } });
      }
    }
  }
  return events;
}

describe('GET /dashboard and its files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['/dashboard', 'text/html; charset=utf-8'],
    ['/dashboard/app.js', 'application/javascript; charset=utf-8'],
    ['/dashboard/style.css', 'text/css; charset=utf-8'],
  ])('serves %s as %s, strong ETag, 304, no-cache, strict CSP', async (path, type) => {
    const first = await fetch(`${server.url}${path}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe(type);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect(first.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("default-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect((await first.text()).length).toBeGreaterThan(100);
    const again = await fetch(`${server.url}${path}`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const weak = await fetch(`${server.url}${path}`, { headers: { 'If-None-Match': `W/${etag}` } });
    expect(weak.status).toBe(304);
  });

  it('has no inline script and loads nothing from elsewhere', async () => {
    const html = await (await fetch(`${server.url}/dashboard`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('answers other methods with 405 and Allow: GET', async () => {
    for (const path of ['/dashboard', '/dashboard/app.js', '/dashboard/style.css']) {
      const answer = await fetch(`${server.url}${path}`, { method: 'POST' });
      expect(answer.status).toBe(405);
      expect(answer.headers.get('allow')).toBe('GET');
    }
  });
});

describeWithChromium('the dashboard in Chromium', () => {
  let browser: Browser;
  let server: TestServer;
  const contexts: BrowserContext[] = [];
  /** Anything the page reports as an error (a CSP violation among them) fails the test. */
  let pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    server = await startTestServer();
    pageErrors = [];
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    await server?.close();
  });

  async function open(
    viewport: { width: number; height: number },
    colorScheme: 'light' | 'dark' = 'light',
  ): Promise<Page> {
    const context = await browser.newContext({ viewport, colorScheme });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${server.url}/dashboard`);
    return page;
  }

  async function signIn(page: Page, passcode: string = server.account.passcode): Promise<void> {
    await page.getByLabel('Account id').fill(server.account.id);
    await page.getByLabel('Passcode').fill(passcode);
    await page.getByRole('button', { name: 'Show live counts' }).click();
  }

  /**
   * Waits until the element's text is `text`. A function, not a string: the page's CSP forbids eval,
   * which a string expression would need. (No DOM types here: the tests compile for Node.)
   */
  const textIs = (page: Page, selector: string, text: string, timeout = LIVE_DEADLINE_MS) =>
    page.waitForFunction(
      ([sel, want]) =>
        (
          globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string | null } | null };
          }
        ).document.querySelector(sel)?.textContent === want,
      [selector, text] as const,
      { timeout },
    );
  const countIs = (page: Page, count: string, timeout = LIVE_DEADLINE_MS) =>
    textIs(page, '#count', count, timeout);

  /** A desktop page signed in and showing the account's 0 users. */
  async function signedInAtZero(): Promise<Page> {
    const page = await open(DESKTOP);
    await signIn(page);
    await countIs(page, '0', 5_000);
    return page;
  }

  it('signs in, shows 0, then the uploaded users and their browser without a reload', async () => {
    const page = await signedInAtZero();
    expect(await page.locator('#status').textContent()).toBe('live');
    expect(page.url()).toBe(`${server.url}/dashboard`);
    const stored = await page.evaluate<string | null>("sessionStorage.getItem('activenow:dashboard')");
    expect(JSON.parse(stored ?? 'null')).toEqual({
      account: server.account.id,
      passcode: server.account.passcode,
    });
    await page.evaluate('window.marker = 1');

    await upload(server, [
      { identity: 'u1', session: { browser: 'Firefox', device: 'Desktop', source: 'Email' } },
      { identity: 'u2', session: { browser: 'Firefox', device: 'Mobile' } },
      { identity: 'u3', session: { browser: 'Chrome', device: 'Mobile' } },
      {
        identity: 'crawler',
        session: { ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' },
      },
    ]);
    await countIs(page, '3');
    await textIs(page, '#bots-count', '1');
    await textIs(page, '#browser li[data-value="Firefox"] .value', '2');
    expect(await page.locator('#browser li[data-value="Chrome"] .value').textContent()).toBe('1');
    expect(await page.locator('#device li[data-value="Mobile"] .value').textContent()).toBe('2');
    expect(await page.locator('#session_source li[data-value="Email"] .value').textContent()).toBe('1');
    expect(await page.locator('#new-count').textContent()).toBe('3');
    expect(await page.locator('#count').getAttribute('aria-live')).toBe('polite');
    // The same document: no reload happened.
    expect(await page.evaluate('window.marker')).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it('shows pages, countries by name and app versions, most users first', async () => {
    const page = await signedInAtZero();
    await upload(server, [
      { identity: 'a', session: { page: '/pricing', country: 'in', app_version: '5.2.0' } },
      { identity: 'b', session: { page: '/pricing', country: 'IN', app_version: '5.2.0' } },
      { identity: 'c', session: { page: '/docs', country: 'US', app_version: '5.2.0' } },
      { identity: 'd', session: { page: '/', country: 'US', app_version: '6' } },
      { identity: 'e', session: { page: 'https://x.example/docs?q=1', app_version: '6' } },
    ]);
    await countIs(page, '5');
    const rows = (split: string) =>
      page.locator(`#${split} li`).evaluateAll((items) =>
        items.map((item) => {
          const element = item as unknown as { dataset: { value: string }; textContent: string | null };
          return [element.dataset.value, element.textContent];
        }),
      );
    expect(await rows('page')).toEqual([
      ['/docs', '/docs2'],
      ['/pricing', '/pricing2'],
      ['/', '/1'],
    ]);
    expect(await rows('country')).toEqual([
      ['IN', 'India (IN)2'],
      ['US', 'United States (US)2'],
      ['Unknown', 'Unknown1'],
    ]);
    // "6" is an integer-like key, which a parsed object puts first: the page orders by users again.
    expect(await rows('app_version')).toEqual([
      ['5.2.0', '5.2.03'],
      ['6', '62'],
    ]);
    expect(pageErrors).toEqual([]);
  });

  it('shows the events users did, each user under each of its events, and filters by one', async () => {
    const page = await signedInAtZero();
    await upload(server, [
      { identity: 'a', evtName: 'Charged', session: { browser: 'Chrome' } },
      { identity: 'a', evtName: 'Search', session: { browser: 'Chrome' } },
      { identity: 'b', evtName: 'Search', session: { browser: 'Firefox' } },
      { identity: 'c', evtName: 'Search', session: { browser: 'Safari' } },
    ]);
    await countIs(page, '3');
    expect(await page.locator('#event-card').isVisible()).toBe(true);
    expect(
      await page
        .locator('#event li')
        .evaluateAll((items) =>
          items.map((item) => (item as unknown as { dataset: { value: string } }).dataset.value),
        ),
    ).toEqual(['Search', 'Charged']);
    await textIs(page, '#event li[data-value="Search"] .value', '3');
    await page.locator('#event li[data-value="Charged"]').click();
    // Only the user who was charged, with every event it did.
    await countIs(page, '1');
    await textIs(page, '#event li[data-value="Search"] .value', '1');
    expect(await page.locator('#browser li').count()).toBe(1);
    expect(await page.locator('#filter-list').textContent()).toBe('Event: Charged ×');
    expect(pageErrors).toEqual([]);
  });

  it('filters the whole view by a clicked value, and shows everyone again from its chip', async () => {
    const page = await signedInAtZero();
    await upload(server, [
      { identity: 'a', session: { country: 'IN', browser: 'Chrome', page: '/pricing' } },
      { identity: 'b', session: { country: 'IN', browser: 'Firefox', page: '/docs' } },
      { identity: 'c', session: { country: 'US', browser: 'Chrome', page: '/pricing' } },
      { identity: 'd', session: { country: 'US', browser: 'Safari', page: '/' } },
      { identity: 'e', session: { country: 'DE', browser: 'Chrome', page: '/' } },
    ]);
    await countIs(page, '5');
    await page.locator('#country li[data-value="IN"]').click();
    // The stream reopens with the filter: every card counts the users in India only.
    await countIs(page, '2');
    expect(await page.locator('#now-title').textContent()).toBe('Matching users now');
    await textIs(page, '#browser li[data-value="Firefox"] .value', '1');
    expect(await page.locator('#browser li').count()).toBe(2);
    expect(await page.locator('#page li[data-value="/docs"] .value').textContent()).toBe('1');
    expect(await page.locator('#country li[data-value="IN"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#filter-list').textContent()).toBe('Country: India (IN) ×');
    // A second dimension narrows further, by keyboard.
    await page.locator('#browser li[data-value="Chrome"]').focus();
    await page.keyboard.press('Enter');
    await countIs(page, '1');
    expect(await page.locator('#page li').evaluateAll((items) => items.length)).toBe(1);
    // The answer is the server's for that filter, as now.json gives it.
    const direct = await post(
      `${server.url}/1/now.json`,
      { filter: { browser: ['Chrome'], country: ['IN'] } },
      credentials(server.account),
    );
    expect(direct.body).toMatchObject({ count: 1 });
    await page.getByRole('button', { name: 'Show all users' }).click();
    await countIs(page, '5');
    expect(await page.locator('#filters').isHidden()).toBe(true);
    expect(await page.locator('#now-title').textContent()).toBe('Active users now');
    expect(pageErrors).toEqual([]);
  });

  it("says why when the server refuses filters (the redis store's 501), and shows every user", async () => {
    const page = await open(DESKTOP);
    // The answer a server on the redis store gives to a filtered now.json (tested against Redis in
    // test/integration/redis-multi-node.test.ts); this server is embedded, so it is played here.
    const refusal = {
      status: 'fail',
      error: 'Parameter filter is not available on this server: the redis store cannot filter users',
      code: 501,
    };
    await page.route(`${server.url}/1/now.json`, (route) =>
      route.fulfill({ status: 501, contentType: 'application/json', body: JSON.stringify(refusal) }),
    );
    await signIn(page);
    await countIs(page, '0', 5_000);
    await upload(server, [{ identity: 'a', session: { country: 'IN' } }]);
    await countIs(page, '1');
    await page.locator('#country li[data-value="IN"]').click();
    await textIs(page, '#filter-error', `Cannot filter: ${refusal.error}`);
    expect(await page.locator('#filters').isHidden()).toBe(true);
    expect(await page.locator('#country li[data-value="IN"]').getAttribute('aria-pressed')).toBe('false');
    await upload(server, [{ identity: 'b', session: { country: 'US' } }]);
    await countIs(page, '2');
    expect(pageErrors.filter((error) => !error.includes('501'))).toEqual([]);
  });

  it("shows the server's error for a wrong passcode and stays on the form", async () => {
    const page = await open(PHONE);
    await signIn(page, 'not-the-passcode');
    await textIs(page, '#error', 'Passcode is not valid', 5_000);
    expect(await page.locator('#error').textContent()).toBe('Passcode is not valid');
    expect(await page.locator('#live').isHidden()).toBe(true);
    expect(await page.evaluate<string | null>("sessionStorage.getItem('activenow:dashboard')")).toBeNull();
    expect(page.url()).toBe(`${server.url}/dashboard`);
  });

  it('shows "reconnecting…" when the stream drops and resumes by itself with a fresh token', async () => {
    const page = await open(DESKTOP);
    const tokenRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/1/now/token')) tokenRequests.push(request.method());
    });
    await signIn(page);
    await countIs(page, '0', 5_000);
    expect(tokenRequests).toEqual(['POST']);

    // Every status the page shows from now on.
    await page.evaluate(`{
      const status = document.getElementById('status');
      window.seen = [];
      new MutationObserver(() => window.seen.push(status.textContent)).observe(status, {
        childList: true, characterData: true, subtree: true,
      });
    }`);
    // The token expires (server time moves past its lifetime), then the server drops every
    // connection: EventSource's own retry with the old token is refused, and the page asks for a new one.
    server.clock.now += 600;
    await upload(server, [{ identity: 'u1', session: { browser: 'Safari' } }]);
    server.app.server.closeAllConnections();
    await countIs(page, '1', 10_000);
    expect(await page.evaluate<string[]>('window.seen')).toContain('reconnecting…');
    expect(await page.locator('#status').textContent()).toBe('live');
    expect(tokenRequests.length).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#browser li[data-value="Safari"] .value').textContent()).toBe('1');
  });

  it('takes phone and desktop screenshots under simulated traffic', async () => {
    const events = simulatedTraffic(server.clock.now);
    await upload(server, events);
    const expected = await post(`${server.url}/1/now.json`, {}, credentials(server.account));
    const count = (expected.body as { count: number }).count;
    expect(count).toBeGreaterThan(50);

    for (const [name, viewport, scheme] of [
      ['phone', PHONE, 'light'],
      ['desktop', DESKTOP, 'light'],
      ['desktop-dark', DESKTOP, 'dark'],
    ] as const) {
      const page = await open(viewport, scheme);
      await signIn(page);
      await countIs(page, count.toLocaleString('en-US'), 5_000);
      const path = `${ARTIFACTS}dashboard-${name}.png`;
      await page.screenshot({ path, fullPage: name === 'phone' });
      if (name === 'desktop' && process.env.ACTIVENOW_UPDATE_SCREENSHOT === '1') {
        copyFileSync(path, DOCS_SCREENSHOT);
      }
      if (name === 'desktop') {
        // The same view filtered by its largest country, as a click on it gives.
        const top = page.locator('#country li[role="button"]').first();
        const code = await top.getAttribute('data-value');
        const filtered = await post(
          `${server.url}/1/now.json`,
          { filter: { country: [code] } },
          credentials(server.account),
        );
        await top.click();
        await countIs(page, (filtered.body as { count: number }).count.toLocaleString('en-US'), 5_000);
        const filteredPath = `${ARTIFACTS}dashboard-filtered.png`;
        await page.screenshot({ path: filteredPath });
        if (process.env.ACTIVENOW_UPDATE_SCREENSHOT === '1')
          copyFileSync(filteredPath, DOCS_FILTERED_SCREENSHOT);
      }
    }
    expect(pageErrors).toEqual([]);
  });
});
