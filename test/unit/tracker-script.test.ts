import { readFileSync } from 'node:fs';
import { createContext, runInContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TRACKER_FILE } from '../../src/http/routes/tracker.js';

/**
 * The browser tracker, run as written in a hand-made fake browser (`node:vm`): the page's globals
 * are the fakes below, timers and `Date` are vitest's fake ones. A real browser test comes apart.
 */

const SOURCE = readFileSync(TRACKER_FILE, 'utf8');
const SCRIPT_SRC = 'https://an.example.com/activenow.js';
const COLLECT_URL = 'https://an.example.com/1/collect';
const PAGE = 'https://shop.example.org/products?utm_source=news';
const DATASET = { account: 'W9R-486-4W5Z', token: 'pt_public' };
const VISIT_KEY = 'activenow:visit';

interface Hit {
  readonly via: 'beacon' | 'fetch';
  readonly url: string;
  readonly body: Record<string, unknown>;
  readonly raw: string;
  /** The Blob's type (beacon) or the fetch init (fetch). */
  readonly type?: string;
  readonly init?: Record<string, unknown>;
}

type Listener = (event: unknown) => void;

class FakeEvents {
  private readonly listeners = new Map<string, Set<Listener>>();

  addEventListener(type: string, listener: Listener, options?: { once?: boolean }): void {
    const set = this.listeners.get(type) ?? new Set();
    const wrapped: Listener = options?.once
      ? (event) => {
          set.delete(wrapped);
          listener(event);
        }
      : listener;
    set.add(wrapped);
    this.listeners.set(type, set);
  }

  dispatch(type: string, event: unknown = { type }): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event);
  }
}

class FakeStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** Reads work (and find nothing), writes throw: Safari's old private mode. */
class QuotaStorage extends FakeStorage {
  override setItem(): void {
    throw new Error('QuotaExceededError');
  }
}

/** Every call throws. */
class BrokenStorage extends FakeStorage {
  override getItem(): string | null {
    throw new Error('SecurityError');
  }
  override setItem(): void {
    throw new Error('SecurityError');
  }
}

class FakeBlob {
  readonly type: string;
  constructor(
    readonly parts: string[],
    options: { type: string },
  ) {
    this.type = options.type;
  }
}

interface BrowserOptions {
  readonly dataset?: Record<string, string>;
  readonly href?: string;
  readonly referrer?: string;
  /** A storage shared with another "page load", `'blocked'` (the getter throws), or a fresh one. */
  readonly storage?: FakeStorage | 'blocked';
  /** `sessionStorage`, the same way: share it between page loads of one tab. */
  readonly session?: FakeStorage | 'blocked';
  readonly doNotTrack?: string;
  readonly globalPrivacyControl?: boolean;
  /** What `navigator.sendBeacon` does; `'missing'` leaves it out. */
  readonly beacon?: 'accepts' | 'refuses' | 'throws' | 'missing';
  readonly fetch?: boolean;
  readonly hidden?: boolean;
  readonly prerendering?: boolean;
  readonly randomUUID?: boolean;
  readonly currentScript?: boolean;
  /** Runs in the page before the tracker, e.g. to queue calls. */
  readonly before?: string;
}

interface Browser {
  readonly hits: Hit[];
  readonly window: Record<string, unknown> & {
    activenow: { identify(id: unknown): void };
    history: { pushState(...args: unknown[]): unknown; replaceState(...args: unknown[]): unknown };
  };
  readonly storage: FakeStorage | undefined;
  readonly session: FakeStorage | undefined;
  readonly warn: ReturnType<typeof vi.fn>;
  /** Reads and writes of `document.cookie`. */
  readonly cookieAccesses: () => number;
  /** Runs the tracker (again) in this page. */
  load(): void;
  /** The browser's back button: the URL changes, then `popstate`. */
  back(href: string): void;
  setHidden(hidden: boolean): void;
  endPrerendering(): void;
  run(code: string): unknown;
}

function startBrowser(options: BrowserOptions = {}): Browser {
  const hits: Hit[] = [];
  const windowEvents = new FakeEvents();
  const documentEvents = new FakeEvents();
  // `href` is set as a page would; the parts the tracker reads follow it, as in `window.location`.
  const location = {
    href: options.href ?? PAGE,
    get host() {
      return new URL(this.href).host;
    },
    get search() {
      return new URL(this.href).search;
    },
    get pathname() {
      return new URL(this.href).pathname;
    },
  };
  const navigateTo = (url: unknown): void => {
    if (url !== undefined && url !== null) location.href = new URL(String(url), location.href).href;
  };
  const script = { src: SCRIPT_SRC, dataset: options.dataset ?? { ...DATASET } };
  const document = {
    currentScript: options.currentScript === false ? null : script,
    querySelector: (selector: string) => (selector === 'script[data-account][data-token]' ? script : null),
    referrer: options.referrer ?? '',
    hidden: options.hidden ?? false,
    prerendering: options.prerendering ?? false,
    addEventListener: documentEvents.addEventListener.bind(documentEvents),
  };
  let cookieAccesses = 0;
  Object.defineProperty(document, 'cookie', {
    get: () => {
      cookieAccesses++;
      return '';
    },
    set: () => {
      cookieAccesses++;
    },
  });
  const beacon = options.beacon ?? 'accepts';
  const navigator: Record<string, unknown> = {
    doNotTrack: options.doNotTrack ?? null,
    globalPrivacyControl: options.globalPrivacyControl,
  };
  if (beacon !== 'missing')
    navigator.sendBeacon = (url: string, blob: FakeBlob) => {
      if (beacon === 'throws') throw new TypeError('beacon broken');
      if (beacon === 'refuses') return false;
      const raw = blob.parts.join('');
      hits.push({ via: 'beacon', url, raw, body: JSON.parse(raw), type: blob.type });
      return true;
    };
  const storage = options.storage === 'blocked' ? undefined : (options.storage ?? new FakeStorage());
  const session = options.session === 'blocked' ? undefined : (options.session ?? new FakeStorage());
  const warn = vi.fn();
  const globals: Record<string, unknown> = {
    document,
    navigator,
    location,
    history: {
      // Returns something, and needs its own `this`, as the real one does.
      pushState(this: unknown, _state: unknown, _title: unknown, url?: unknown) {
        if (this !== globals.history) throw new TypeError('Illegal invocation');
        navigateTo(url);
        return 'pushed';
      },
      replaceState(this: unknown, _state: unknown, _title: unknown, url?: unknown) {
        if (this !== globals.history) throw new TypeError('Illegal invocation');
        navigateTo(url);
        return 'replaced';
      },
    },
    addEventListener: windowEvents.addEventListener.bind(windowEvents),
    console: { warn },
    crypto: options.randomUUID === false ? {} : { randomUUID: () => crypto.randomUUID() },
    Blob: FakeBlob,
    URL,
    Date,
    setTimeout,
    clearTimeout,
  };
  for (const [name, value] of [
    ['localStorage', storage],
    ['sessionStorage', session],
  ] as const)
    Object.defineProperty(globals, name, {
      get() {
        if (value === undefined) throw new Error('SecurityError: access is denied');
        return value;
      },
    });
  if (options.fetch !== false)
    globals.fetch = (url: string, init: Record<string, unknown>) => {
      const raw = String(init.body);
      hits.push({ via: 'fetch', url, raw, body: JSON.parse(raw), init });
      return Promise.resolve({ status: 202 });
    };
  const context = createContext(globals);
  globals.window = context;
  if (options.before !== undefined) runInContext(options.before, context);
  const browser: Browser = {
    hits,
    window: context as Browser['window'],
    storage,
    session,
    warn,
    cookieAccesses: () => cookieAccesses,
    load: () => runInContext(SOURCE, context, { filename: 'activenow.js' }),
    back(href) {
      location.href = href;
      windowEvents.dispatch('popstate', { type: 'popstate', state: null });
    },
    setHidden(hidden) {
      document.hidden = hidden;
      documentEvents.dispatch('visibilitychange');
    },
    endPrerendering() {
      document.prerendering = false;
      documentEvents.dispatch('prerenderingchange');
    },
    run: (code) => runInContext(code, context),
  };
  return browser;
}

function loadPage(options: BrowserOptions = {}): Browser {
  const browser = startBrowser(options);
  browser.load();
  return browser;
}

const kinds = (browser: Browser) => browser.hits.map((hit) => hit.body.kind);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2025-11-26T08:20:00Z') });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the tracker file', () => {
  it('is under 2 KB gzipped', () => {
    expect(gzipSync(readFileSync(TRACKER_FILE)).length).toBeLessThan(2048);
  });

  it('uses none of the usual post-ES2017 syntax (it is served as written)', () => {
    const code = SOURCE.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\?\.|\?\?|catch\s*\{|\*\*|\{\s*\.\.\./);
  });
});

describe('on load', () => {
  it('sends one pageview by beacon to the collect URL of the script origin', () => {
    const browser = loadPage({ referrer: 'https://www.google.com/' });
    expect(browser.hits).toHaveLength(1);
    const [hit] = browser.hits;
    expect(hit.via).toBe('beacon');
    expect(hit.url).toBe(COLLECT_URL);
    expect(hit.type).toBe('text/plain');
    const user = browser.storage?.getItem('activenow:uid');
    expect(user).toMatch(/^[0-9a-f-]{36}$/);
    // Exactly the contract's fields, in its order.
    expect(hit.raw).toBe(
      JSON.stringify({
        account: DATASET.account,
        token: DATASET.token,
        user,
        url: PAGE,
        referrer: 'https://www.google.com/',
        page: new URL(PAGE).pathname,
        kind: 'pageview',
      }),
    );
    expect(JSON.parse(browser.session?.getItem(VISIT_KEY) ?? '')).toEqual({
      url: PAGE,
      referrer: 'https://www.google.com/',
    });
  });

  it('sends an empty referrer when there is none', () => {
    expect(loadPage().hits[0].body.referrer).toBe('');
  });

  it('keeps the anonymous id across page loads', () => {
    const storage = new FakeStorage();
    const first = loadPage({ storage }).hits[0].body.user;
    const second = loadPage({ storage, href: 'https://shop.example.org/cart' }).hits[0].body.user;
    expect(second).toBe(first);
    expect(loadPage().hits[0].body.user).not.toBe(first);
  });

  it('makes an id without crypto.randomUUID (insecure contexts)', () => {
    const a = loadPage({ randomUUID: false }).hits[0].body.user;
    const b = loadPage({ randomUUID: false }).hits[0].body.user;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
  });

  it('cuts huge URLs so the body stays under 4 KiB', () => {
    const long = `${PAGE}&q=${'x'.repeat(8000)}`;
    const [hit] = loadPage({ href: long, referrer: long }).hits;
    expect(Buffer.byteLength(hit.raw)).toBeLessThan(4096);
    expect(hit.body.url).toBe(long.slice(0, 1500));
  });

  it('finds its script tag when document.currentScript is not set', () => {
    const browser = loadPage({ currentScript: false });
    expect(browser.hits.map((hit) => hit.url)).toEqual([COLLECT_URL]);
  });

  it('waits for a prerendered page to be shown', () => {
    const browser = loadPage({ prerendering: true });
    expect(browser.hits).toHaveLength(0);
    browser.endPrerendering();
    expect(kinds(browser)).toEqual(['pageview']);
  });

  it('sends nothing, and says why, without data-account or data-token', () => {
    for (const dataset of [{ token: 'pt_x' }, { account: 'A' }] as Record<string, string>[]) {
      const browser = loadPage({ dataset });
      expect(browser.hits).toHaveLength(0);
      expect(browser.warn).toHaveBeenCalledOnce();
      expect(() => browser.window.activenow.identify('u1')).not.toThrow();
    }
  });

  it('runs once when included twice', () => {
    const browser = loadPage({ dataset: { ...DATASET, heartbeat: '30' } });
    browser.load();
    browser.window.history.pushState(null, '', '/b');
    vi.advanceTimersByTime(30_000);
    expect(kinds(browser)).toEqual(['pageview', 'pageview', 'heartbeat']);
  });
});

describe('single-page navigation', () => {
  const GOOGLE = 'https://www.google.com/';
  /** What each hit says: its kind and the visit's attribution (never the current page). */
  const sent = (browser: Browser) =>
    browser.hits.map((hit) => [hit.body.kind, hit.body.url, hit.body.referrer]);

  it('sends a pageview on pushState and replaceState to a new URL, none for the same URL', () => {
    const browser = loadPage({ referrer: GOOGLE });
    const { history } = browser.window;
    expect(history.pushState({ page: 2 }, '', '/b?x=1')).toBe('pushed');
    expect(history.pushState({ page: 2 }, '', '/b?x=1')).toBe('pushed');
    expect(history.replaceState({ page: 3 }, '')).toBe('replaced');
    expect(history.replaceState(null, '', 'https://shop.example.org/c')).toBe('replaced');
    // Three URLs, three pageviews, all with the landing page and its referrer.
    expect(sent(browser)).toEqual([
      ['pageview', PAGE, GOOGLE],
      ['pageview', PAGE, GOOGLE],
      ['pageview', PAGE, GOOGLE],
    ]);
    // Each with the path of the page shown, never its query.
    expect(browser.hits.map((hit) => hit.body.page)).toEqual(['/products', '/b', '/c']);
  });

  it('dedupes by the current URL, not by the landing page', () => {
    // Going back to the landing URL is a URL change like any other.
    const browser = loadPage({ referrer: GOOGLE });
    browser.window.history.pushState(null, '', '/b');
    browser.window.history.pushState(null, '', PAGE);
    browser.window.history.pushState(null, '', PAGE);
    expect(sent(browser)).toEqual([
      ['pageview', PAGE, GOOGLE],
      ['pageview', PAGE, GOOGLE],
      ['pageview', PAGE, GOOGLE],
    ]);
  });

  it('sends a pageview on popstate when the URL changed', () => {
    const browser = loadPage({ referrer: GOOGLE });
    browser.window.history.pushState(null, '', '/b');
    browser.back(PAGE);
    browser.back(PAGE);
    expect(sent(browser)).toEqual([
      ['pageview', PAGE, GOOGLE],
      ['pageview', PAGE, GOOGLE],
      ['pageview', PAGE, GOOGLE],
    ]);
  });

  it('keeps the attribution when navigating to a tagged URL (only page loads start a visit)', () => {
    const browser = loadPage({ referrer: GOOGLE });
    browser.window.history.pushState(null, '', '/promo?utm_source=banner&gclid=1');
    expect(sent(browser)).toEqual([
      ['pageview', PAGE, GOOGLE],
      ['pageview', PAGE, GOOGLE],
    ]);
    expect(JSON.parse(browser.session?.getItem(VISIT_KEY) ?? '')).toEqual({ url: PAGE, referrer: GOOGLE });
  });

  it("lets the page's own history errors through, and still works afterwards", () => {
    const browser = loadPage();
    const { pushState } = browser.window.history;
    expect(() => pushState(null, '', '/detached')).toThrow('Illegal invocation');
    browser.window.history.pushState(null, '', '/b');
    expect(sent(browser)).toEqual([
      ['pageview', PAGE, ''],
      ['pageview', PAGE, ''],
    ]);
  });
});

describe('visit attribution', () => {
  const GOOGLE = 'https://www.google.com/search?q=shoes';
  const CART = 'https://shop.example.org/cart';
  const attribution = (browser: Browser) => browser.hits.map((hit) => [hit.body.url, hit.body.referrer]);
  const stored = (session: FakeStorage) => JSON.parse(session.getItem(VISIT_KEY) ?? 'null');

  it('is stored for the tab on the first load, and sent', () => {
    const session = new FakeStorage();
    const browser = loadPage({ session, referrer: GOOGLE });
    expect(stored(session)).toEqual({ url: PAGE, referrer: GOOGLE });
    expect(attribution(browser)).toEqual([[PAGE, GOOGLE]]);
  });

  it('is reused by later page loads of the tab from the same host, or with no referrer', () => {
    const session = new FakeStorage();
    loadPage({ session, referrer: GOOGLE });
    const second = loadPage({ session, href: CART, referrer: PAGE });
    const third = loadPage({ session, href: `${CART}?step=2`, referrer: CART });
    const typed = loadPage({ session, href: 'https://shop.example.org/help' });
    for (const browser of [second, third, typed]) expect(attribution(browser)).toEqual([[PAGE, GOOGLE]]);
    expect(stored(session)).toEqual({ url: PAGE, referrer: GOOGLE });
  });

  it('is not shared between tabs', () => {
    loadPage({ referrer: GOOGLE });
    expect(attribution(loadPage({ href: CART, referrer: PAGE }))).toEqual([[CART, PAGE]]);
  });

  it('is replaced by a page load with a referrer from another host', () => {
    const session = new FakeStorage();
    loadPage({ session, referrer: GOOGLE });
    for (const referrer of [
      'https://news.example.net/a',
      'https://blog.shop.example.org/',
      'http://shop.example.org:8080/',
    ]) {
      const browser = loadPage({ session, href: CART, referrer });
      expect(attribution(browser)).toEqual([[CART, referrer]]);
      expect(stored(session)).toEqual({ url: CART, referrer });
    }
  });

  it.each(['utm_source=mail', 'utm_campaign=x', 'gclid=1', 'gbraid=1', 'wbraid=1', 'msclkid=1', 'fbclid=1'])(
    'is replaced by a page load tagged with %s, even from the same host',
    (tag) => {
      const session = new FakeStorage();
      loadPage({ session, referrer: GOOGLE });
      for (const href of [`${CART}?${tag}`, `${CART}?step=2&${tag}`]) {
        const browser = loadPage({ session, href, referrer: PAGE });
        expect(attribution(browser)).toEqual([[href, PAGE]]);
        expect(stored(session)).toEqual({ url: href, referrer: PAGE });
      }
    },
  );

  it('is not replaced by parameters that only look like tags', () => {
    const session = new FakeStorage();
    loadPage({ session, referrer: GOOGLE });
    const browser = loadPage({ session, href: `${CART}?no_utm_source=x#utm_source=y`, referrer: CART });
    expect(attribution(browser)).toEqual([[PAGE, GOOGLE]]);
  });

  it('treats a referrer that is not a URL as none: the stored visit stays', () => {
    const session = new FakeStorage();
    loadPage({ session, referrer: GOOGLE });
    for (const referrer of ['not a url', 'http://', '::::']) {
      const browser = startBrowser({ session, href: CART, referrer });
      expect(() => browser.load()).not.toThrow();
      expect(attribution(browser)).toEqual([[PAGE, GOOGLE]]);
    }
  });

  it('starts a visit with a referrer that is not a URL when there is none yet (the server ignores it)', () => {
    const browser = startBrowser({ referrer: 'not a url' });
    expect(() => browser.load()).not.toThrow();
    expect(attribution(browser)).toEqual([[PAGE, 'not a url']]);
    expect(stored(browser.session as FakeStorage)).toEqual({ url: PAGE, referrer: 'not a url' });
  });

  it('starts a new visit when the stored one is not JSON', () => {
    const session = new FakeStorage();
    session.setItem(VISIT_KEY, '{oops');
    expect(attribution(loadPage({ session, href: CART, referrer: PAGE }))).toEqual([[CART, PAGE]]);
    expect(stored(session)).toEqual({ url: CART, referrer: PAGE });
  });

  it.each([
    ['blocked', 'blocked'],
    ['throwing', new BrokenStorage()],
    ['read-only', new QuotaStorage()],
  ] as const)('uses the current landing when sessionStorage is %s', (_, session) => {
    const browser = startBrowser({
      session,
      href: CART,
      referrer: PAGE,
      dataset: { ...DATASET, heartbeat: '30' },
    });
    expect(() => browser.load()).not.toThrow();
    browser.window.history.pushState(null, '', '/b');
    vi.advanceTimersByTime(30_000);
    expect(kinds(browser)).toEqual(['pageview', 'pageview', 'heartbeat']);
    expect(new Set(attribution(browser).map(String))).toEqual(new Set([`${CART},${PAGE}`]));
  });
});

describe('heartbeat', () => {
  it('beats every 60 s by default while the page is visible', () => {
    const browser = loadPage();
    vi.advanceTimersByTime(59_999);
    expect(kinds(browser)).toEqual(['pageview']);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(120_000);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat', 'heartbeat', 'heartbeat']);
    expect(browser.hits[1].body).toMatchObject({ url: PAGE, user: browser.hits[0].body.user });
  });

  it('beats every data-heartbeat seconds, counted from the latest hit', () => {
    const browser = loadPage({ dataset: { ...DATASET, heartbeat: '30' } });
    vi.advanceTimersByTime(30_000);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat']);
    vi.advanceTimersByTime(10_000);
    browser.window.history.pushState(null, '', '/b');
    vi.advanceTimersByTime(29_999);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat', 'pageview']);
    vi.advanceTimersByTime(1);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat', 'pageview', 'heartbeat']);
    expect(browser.hits[3].body.url).toBe(PAGE);
  });

  it('is off with data-heartbeat="0", also when the page comes back into view', () => {
    const browser = loadPage({ dataset: { ...DATASET, heartbeat: '0' } });
    vi.advanceTimersByTime(600_000);
    browser.setHidden(true);
    browser.setHidden(false);
    expect(kinds(browser)).toEqual(['pageview']);
  });

  it('beats at least 5 s apart, and every 60 s when data-heartbeat is not a number', () => {
    const fast = loadPage({ dataset: { ...DATASET, heartbeat: '1' } });
    const bad = loadPage({ dataset: { ...DATASET, heartbeat: 'soon' } });
    vi.advanceTimersByTime(60_000);
    expect(kinds(fast)).toHaveLength(1 + 12);
    expect(kinds(bad)).toEqual(['pageview', 'heartbeat']);
  });

  it('stops while hidden and beats once on return when one was missed', () => {
    const browser = loadPage({ dataset: { ...DATASET, heartbeat: '30' } });
    vi.advanceTimersByTime(10_000);
    browser.setHidden(true);
    vi.advanceTimersByTime(300_000);
    expect(kinds(browser)).toEqual(['pageview']);
    browser.setHidden(false);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat']);
    vi.advanceTimersByTime(30_000);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat', 'heartbeat']);
  });

  it('keeps the rhythm, without an extra beat, after a short absence', () => {
    const browser = loadPage({ dataset: { ...DATASET, heartbeat: '30' } });
    vi.advanceTimersByTime(10_000);
    browser.setHidden(true);
    vi.advanceTimersByTime(5_000);
    browser.setHidden(false);
    expect(kinds(browser)).toEqual(['pageview']);
    vi.advanceTimersByTime(14_999);
    expect(kinds(browser)).toEqual(['pageview']);
    vi.advanceTimersByTime(1);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat']);
  });

  it('does not beat in a tab opened in the background until it is shown', () => {
    const browser = loadPage({ hidden: true, dataset: { ...DATASET, heartbeat: '30' } });
    vi.advanceTimersByTime(120_000);
    expect(kinds(browser)).toEqual(['pageview']);
    browser.setHidden(false);
    vi.advanceTimersByTime(30_000);
    expect(kinds(browser)).toEqual(['pageview', 'heartbeat', 'heartbeat']);
  });
});

describe('identify', () => {
  it('reports the given user id from the next hit on, and across page loads', () => {
    const storage = new FakeStorage();
    const browser = loadPage({ storage });
    const anonymous = browser.hits[0].body.user;
    browser.window.activenow.identify('user-42');
    browser.window.history.pushState(null, '', '/account');
    expect(browser.hits.map((hit) => hit.body.user)).toEqual([anonymous, 'user-42']);
    expect(loadPage({ storage }).hits[0].body.user).toBe('user-42');
  });

  it('goes back to the anonymous id with identify(null)', () => {
    const storage = new FakeStorage();
    const browser = loadPage({ storage });
    const anonymous = browser.hits[0].body.user;
    browser.window.activenow.identify(42);
    browser.window.history.pushState(null, '', '/in');
    browser.window.activenow.identify(null);
    browser.window.history.pushState(null, '', '/out');
    expect(browser.hits.map((hit) => hit.body.user)).toEqual([anonymous, '42', anonymous]);
    expect(storage.getItem('activenow:user')).toBeNull();
    expect(loadPage({ storage }).hits[0].body.user).toBe(anonymous);
  });

  it('takes calls queued in window.activenow before the script loaded', () => {
    const browser = loadPage({
      before: "window.activenow = [['identify', 'early-bird'], ['noSuchMethod'], 'junk'];",
    });
    expect(browser.hits.map((hit) => hit.body.user)).toEqual(['early-bird']);
    expect(typeof browser.window.activenow.identify).toBe('function');
  });
});

describe('storage', () => {
  it('works with an in-memory id when localStorage (and sessionStorage) throws', () => {
    const browser = loadPage({
      storage: 'blocked',
      session: 'blocked',
      dataset: { ...DATASET, heartbeat: '30' },
    });
    vi.advanceTimersByTime(30_000);
    const users = browser.hits.map((hit) => hit.body.user);
    expect(users).toHaveLength(2);
    expect(users[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(users[1]).toBe(users[0]);
    browser.window.activenow.identify('u1');
    browser.window.history.pushState(null, '', '/b');
    expect(browser.hits[2].body.user).toBe('u1');
  });

  it('keeps one id when reads work but writes throw', () => {
    const browser = loadPage({ storage: new QuotaStorage(), dataset: { ...DATASET, heartbeat: '30' } });
    vi.advanceTimersByTime(60_000);
    expect(new Set(browser.hits.map((hit) => hit.body.user)).size).toBe(1);
    expect(browser.hits).toHaveLength(3);
  });
});

describe('Do Not Track and Global Privacy Control', () => {
  const respect = { ...DATASET, respectDnt: '' };

  it('are ignored without data-respect-dnt', () => {
    expect(loadPage({ doNotTrack: '1' }).hits).toHaveLength(1);
    expect(loadPage({ globalPrivacyControl: true }).hits).toHaveLength(1);
  });

  it('stop everything with data-respect-dnt: no hits, nothing stored, identify harmless', () => {
    for (const signal of [{ doNotTrack: '1' }, { globalPrivacyControl: true }]) {
      const browser = loadPage({ ...signal, dataset: respect });
      browser.window.activenow.identify('u1');
      browser.window.history.pushState(null, '', '/b');
      vi.advanceTimersByTime(600_000);
      expect(browser.hits).toHaveLength(0);
      expect(browser.storage?.items.size).toBe(0);
      expect(browser.session?.items.size).toBe(0);
    }
  });

  it('let data-respect-dnt pages send when neither is on', () => {
    expect(loadPage({ doNotTrack: '0', globalPrivacyControl: false, dataset: respect }).hits).toHaveLength(1);
  });
});

describe('transport', () => {
  const FETCH_INIT = {
    method: 'POST',
    keepalive: true,
    headers: { 'Content-Type': 'text/plain' },
    credentials: 'omit',
  };

  it.each(['missing', 'refuses', 'throws'] as const)('uses fetch keepalive when sendBeacon %s', (beacon) => {
    const [hit] = loadPage({ beacon }).hits;
    expect(hit.via).toBe('fetch');
    expect(hit.url).toBe(COLLECT_URL);
    expect(hit.init).toEqual({ ...FETCH_INIT, body: hit.raw });
    expect(hit.body).toMatchObject({ kind: 'pageview', url: PAGE });
  });

  it('never throws into the page, even with no way to send', () => {
    const browser = startBrowser({ beacon: 'throws', fetch: false, dataset: { ...DATASET, heartbeat: '5' } });
    expect(() => browser.load()).not.toThrow();
    expect(browser.window.history.pushState(null, '', '/b')).toBe('pushed');
    expect(() => vi.advanceTimersByTime(60_000)).not.toThrow();
    expect(() => browser.setHidden(true)).not.toThrow();
    expect(browser.hits).toHaveLength(0);
  });

  it('never touches cookies', () => {
    const browser = loadPage({ dataset: { ...DATASET, heartbeat: '5' } });
    browser.window.activenow.identify('u1');
    browser.window.history.pushState(null, '', '/b');
    vi.advanceTimersByTime(60_000);
    expect(browser.hits.length).toBeGreaterThan(10);
    expect(browser.cookieAccesses()).toBe(0);
  });
});
