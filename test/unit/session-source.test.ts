import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifySessionSource,
  MAX_CLASSIFIED_LENGTH,
  siteChannelOfHost,
} from '../../src/ingest/session-source.js';
import {
  APP_PACKAGES,
  PAID_CLICK_IDS,
  type SessionSource,
  SITE_TABLES,
  SOCIAL_CLICK_IDS,
  UTM_RULES,
} from '../../src/ingest/session-source-tables.js';
import { SESSION_SOURCES } from '../../src/model/dimensions.js';

/** The customer's page, on its own site `example.com`. */
const PAGE = 'https://shop.example.com/product/1';
const tagged = (query: string): string => `${PAGE}?${query}`;

type Case = readonly [
  name: string,
  url: string | undefined,
  referrer: string | undefined,
  SessionSource | undefined,
];

const REFERRER_CASES: readonly Case[] = [
  ['no referrer', PAGE, undefined, 'Direct'],
  ['empty referrer', PAGE, '', 'Direct'],
  ['google.com', PAGE, 'https://www.google.com/', 'Organic Search'],
  ['google country domain google.co.uk', PAGE, 'https://www.google.co.uk/', 'Organic Search'],
  ['google country domain google.com.br', PAGE, 'https://www.google.com.br/search?q=x', 'Organic Search'],
  ['google country domain google.de, no www', PAGE, 'https://google.de/', 'Organic Search'],
  ['fully qualified host with trailing dot', PAGE, 'https://www.google.fr./', 'Organic Search'],
  ['notgoogle.com is not Google', PAGE, 'https://notgoogle.com/', 'Referral'],
  ['google.evil.com is not Google', PAGE, 'https://google.evil.com/', 'Referral'],
  ['google.com.evil.net is not Google', PAGE, 'https://google.com.evil.net/', 'Referral'],
  ['bing.com', PAGE, 'https://www.bing.com/search?q=x', 'Organic Search'],
  ['duckduckgo.com', PAGE, 'https://duckduckgo.com/', 'Organic Search'],
  ['yahoo.co.jp', PAGE, 'https://search.yahoo.co.jp/', 'Organic Search'],
  ['yandex.ru', PAGE, 'https://yandex.ru/search/', 'Organic Search'],
  ['baidu.com', PAGE, 'https://www.baidu.com/link?url=x', 'Organic Search'],
  ['search.brave.com', PAGE, 'https://search.brave.com/', 'Organic Search'],
  ['brave.com is not its search', PAGE, 'https://brave.com/', 'Referral'],
  ['ecosia.org', PAGE, 'https://www.ecosia.org/', 'Organic Search'],
  ['uppercase host', PAGE, 'HTTPS://WWW.GOOGLE.COM/', 'Organic Search'],
  ['t.co', PAGE, 'https://t.co/AbC123', 'Social'],
  ['x.com', PAGE, 'https://x.com/someone', 'Social'],
  ['l.facebook.com', PAGE, 'https://l.facebook.com/l.php?u=x', 'Social'],
  ['lm.facebook.com', PAGE, 'https://lm.facebook.com/', 'Social'],
  ['instagram.com', PAGE, 'https://www.instagram.com/', 'Social'],
  ['linkedin via lnkd.in', PAGE, 'https://lnkd.in/abc', 'Social'],
  ['reddit.com', PAGE, 'https://old.reddit.com/r/x', 'Social'],
  ['pinterest country domain', PAGE, 'https://www.pinterest.co.uk/', 'Social'],
  ['youtube.com', PAGE, 'https://m.youtube.com/watch?v=x', 'Social'],
  ['gmail web', PAGE, 'https://mail.google.com/mail/u/0/', 'Email'],
  ['outlook web', PAGE, 'https://outlook.live.com/', 'Email'],
  ['yahoo mail, country domain', PAGE, 'https://mail.yahoo.co.jp/', 'Email'],
  ['other site', PAGE, 'https://news.ycombinator.com/item?id=1', 'Referral'],
  ['self-referral, same host', PAGE, 'https://shop.example.com/cart', 'Direct'],
  ['self-referral with www', 'https://example.com/', 'https://www.example.com/', 'Direct'],
  ['self-referral from the bare domain', PAGE, 'https://example.com/', 'Direct'],
  ['self-referral from a sibling subdomain', PAGE, 'https://blog.example.com/post', 'Direct'],
  ['self-referral across ports and schemes', 'https://example.com:8443/', 'http://example.com/', 'Direct'],
  [
    'self-referral under a country TLD',
    'https://shop.example.co.uk/',
    'https://www.example.co.uk/',
    'Direct',
  ],
  ['another site under the same country TLD', 'https://example.co.uk/', 'https://other.co.uk/', 'Referral'],
  ['siblings on a hosting platform', 'https://bob.github.io/', 'https://alice.github.io/', 'Referral'],
  ['same site on a hosting platform', 'https://bob.github.io/a', 'https://bob.github.io/b', 'Direct'],
  ['own search engine is a self-referral', 'https://www.google.com/', 'https://google.com/', 'Direct'],
  ['no page URL: referrer alone', undefined, 'https://www.bing.com/', 'Organic Search'],
  ['no page URL: other referrer', undefined, 'https://example.org/', 'Referral'],
  ['android-app:// unknown package', PAGE, 'android-app://com.example.app/', 'Deep Link'],
  [
    'android-app:// Google app',
    PAGE,
    'android-app://com.google.android.googlequicksearchbox/',
    'Organic Search',
  ],
  ['android-app:// Gmail', PAGE, 'android-app://com.google.android.gm/', 'Email'],
  ['android-app:// Facebook, uppercase', PAGE, 'android-app://COM.FACEBOOK.KATANA/', 'Social'],
  ['ios-app://', PAGE, 'ios-app://123456/https/example.org', 'Deep Link'],
];

const UTM_CASES: readonly Case[] = [
  ['utm_medium=email', tagged('utm_medium=email'), undefined, 'Email'],
  ['utm_medium=e-mail', tagged('utm_source=acme&utm_medium=e-mail'), undefined, 'Email'],
  ['utm_source=newsletter', tagged('utm_source=newsletter'), undefined, 'Email'],
  ['cpc with utm_source=google', tagged('utm_source=google&utm_medium=cpc'), undefined, 'Paid Search'],
  ['uppercase UTM values', tagged('utm_source=GOOGLE&utm_medium=CPC'), undefined, 'Paid Search'],
  ['uppercase UTM names', tagged('UTM_SOURCE=Bing&UTM_MEDIUM=PPC'), undefined, 'Paid Search'],
  ['source given as a host', tagged('utm_source=www.google.de&utm_medium=paid'), undefined, 'Paid Search'],
  [
    'paid_search medium, any source',
    tagged('utm_source=acme&utm_medium=paid_search'),
    undefined,
    'Paid Search',
  ],
  ['paid + social source is Social', tagged('utm_source=facebook&utm_medium=paid'), undefined, 'Social'],
  ['cpm + social source is Social', tagged('utm_source=instagram&utm_medium=cpm'), undefined, 'Social'],
  ['paid-social medium', tagged('utm_source=acme&utm_medium=paid-social'), undefined, 'Social'],
  ['display is Other', tagged('utm_source=acme&utm_medium=display'), undefined, 'Other'],
  ['banner is Other', tagged('utm_medium=banner'), undefined, 'Other'],
  ['cpc, unknown source is Other', tagged('utm_source=acme&utm_medium=cpc'), undefined, 'Other'],
  ['social medium', tagged('utm_source=acme&utm_medium=social-network'), undefined, 'Social'],
  ['sm medium', tagged('utm_medium=SM'), undefined, 'Social'],
  ['social source alone', tagged('utm_source=twitter'), undefined, 'Social'],
  ['social source, organic medium', tagged('utm_source=facebook&utm_medium=organic'), undefined, 'Social'],
  ['organic + search source', tagged('utm_source=bing&utm_medium=organic'), undefined, 'Organic Search'],
  ['search source alone', tagged('utm_source=google'), undefined, 'Organic Search'],
  ['organic medium alone', tagged('utm_medium=organic'), undefined, 'Organic Search'],
  ['referral medium', tagged('utm_source=partner&utm_medium=referral'), undefined, 'Referral'],
  ['affiliate medium', tagged('utm_source=partner&utm_medium=affiliate'), undefined, 'Referral'],
  ['sms medium', tagged('utm_source=acme&utm_medium=sms'), undefined, 'SMS'],
  ['sms source', tagged('utm_source=SMS'), undefined, 'SMS'],
  ['push medium', tagged('utm_medium=push'), undefined, 'Push'],
  ['web-push medium', tagged('utm_medium=web_push'), undefined, 'Push'],
  ['mobile-notification medium', tagged('utm_medium=mobile-notification'), undefined, 'Push'],
  ['notification medium', tagged('utm_medium=Notification'), undefined, 'Push'],
  ['firebase source', tagged('utm_source=firebase'), undefined, 'Push'],
  ['deeplink medium', tagged('utm_medium=deeplink'), undefined, 'Deep Link'],
  ['deep_link medium', tagged('utm_medium=deep_link'), undefined, 'Deep Link'],
  ['(direct) / (none)', tagged('utm_source=(direct)&utm_medium=(none)'), undefined, 'Direct'],
  [
    'search source beats an email medium (GA4 order)',
    tagged('utm_source=google&utm_medium=email'),
    undefined,
    'Organic Search',
  ],
  ['unknown source, no medium is Other', tagged('utm_source=acme'), 'https://t.co/', 'Other'],
  ['unknown tags are Other', tagged('utm_source=acme&utm_medium=flyer'), undefined, 'Other'],
  ['UTM wins over the referrer', tagged('utm_medium=email'), 'https://www.google.com/', 'Email'],
  ['UTM wins over a click id', tagged('utm_medium=email&gclid=x'), undefined, 'Email'],
  ['first occurrence wins', tagged('utm_medium=email&utm_medium=cpc'), undefined, 'Email'],
  ['empty UTM values are no tags', tagged('utm_source=&utm_medium=%20'), 'https://t.co/', 'Social'],
  ['encoded values', tagged('utm_source=Google&utm_medium=Paid+Search'), undefined, 'Paid Search'],
  ['utm_campaign alone is no tag', tagged('utm_campaign=spring'), undefined, 'Direct'],
  ['UTM on an app link', 'myapp://promo?utm_medium=push', undefined, 'Push'],
];

const CLICK_ID_AND_SCHEME_CASES: readonly Case[] = [
  ['gclid', tagged('gclid=abc'), undefined, 'Paid Search'],
  ['gclid beats a search referrer', tagged('gclid=abc'), 'https://www.google.com/', 'Paid Search'],
  ['gbraid', tagged('gbraid=abc'), undefined, 'Paid Search'],
  ['wbraid', tagged('wbraid=abc'), undefined, 'Paid Search'],
  ['msclkid', tagged('msclkid=abc'), 'https://www.bing.com/', 'Paid Search'],
  ['dclid is display: Other', tagged('dclid=abc'), undefined, 'Other'],
  ['empty gclid is ignored', tagged('gclid='), undefined, 'Direct'],
  ['gclid beats fbclid', tagged('fbclid=a&gclid=b'), undefined, 'Paid Search'],
  ['fbclid alone is Social', tagged('fbclid=abc'), undefined, 'Social'],
  ['fbclid with a facebook referrer', tagged('fbclid=abc'), 'https://l.facebook.com/', 'Social'],
  ['fbclid yields to the referrer', tagged('fbclid=abc'), 'https://www.google.com/', 'Organic Search'],
  ['fbclid yields to a self-referral', tagged('fbclid=abc'), 'https://example.com/', 'Direct'],
  ['ttclid', tagged('ttclid=abc'), undefined, 'Social'],
  ['custom scheme page URL', 'myapp://product/1', undefined, 'Deep Link'],
  ['custom scheme beats the referrer', 'myapp://product/1', 'https://www.google.com/', 'Deep Link'],
  ['intent:// page URL', 'intent://scan/#Intent;scheme=zxing;end', undefined, 'Deep Link'],
  ['opaque custom scheme', 'myapp:open', undefined, 'Deep Link'],
  ['capacitor shell page is a web page', 'capacitor://localhost/home', undefined, 'Direct'],
  ['file page is a web page', 'file:///android_asset/www/index.html', 't.co', 'Direct'],
  ['about:blank is no page', 'about:blank', undefined, undefined],
  ['about:blank page, known referrer', 'about:blank', 'https://www.bing.com/', 'Organic Search'],
];

const GARBAGE_CASES: readonly Case[] = [
  ['nothing at all', undefined, undefined, undefined],
  ['empty strings', '', '', undefined],
  ['whitespace', '   ', '\t', undefined],
  ['garbage page URL and referrer', 'not a url', '::::', undefined],
  ['relative page URL is ignored', '/product?utm_medium=email', undefined, undefined],
  ['garbage page URL, usable referrer', 'http://', 'https://t.co/', 'Social'],
  ['garbage referrer is ignored', PAGE, 'http://exa mple.com/', 'Direct'],
  ['scheme-less referrer is ignored', PAGE, 'www.google.com', 'Direct'],
  ['javascript: referrer is ignored', PAGE, 'javascript:alert(1)', 'Direct'],
  ['chrome-extension referrer is ignored', PAGE, 'chrome-extension://abc/page.html', 'Direct'],
  ['IP address referrer', PAGE, 'http://192.168.0.1/', 'Referral'],
  ['IP address self-referral', 'http://10.0.0.1:8080/a', 'http://10.0.0.1/b', 'Direct'],
  ['localhost self-referral', 'http://localhost:3000/', 'http://localhost:5173/', 'Direct'],
  ['IPv6 referrer', PAGE, 'http://[::1]/', 'Referral'],
  ['percent-garbage in the query', tagged('utm_medium=%E0%A4%A&utm_source=%'), undefined, 'Other'],
  ['lone surrogate', `${PAGE}?utm_medium=\uD800`, undefined, 'Other'],
];

describe('classifySessionSource', () => {
  describe.each([
    ['referrer', REFERRER_CASES],
    ['UTM tags', UTM_CASES],
    ['click ids and schemes', CLICK_ID_AND_SCHEME_CASES],
    ['garbage', GARBAGE_CASES],
  ] as const)('%s', (_group, cases) => {
    it.each(cases)('%s', (_name, url, referrer, expected) => {
      expect(classifySessionSource({ url, referrer })).toBe(expected);
    });
  });

  it('ignores values that are not strings', () => {
    const hints = { url: 42, referrer: { href: 'https://t.co/' } } as unknown as { url: string };
    expect(classifySessionSource(hints)).toBeUndefined();
  });

  describe('very long input', () => {
    const padding = 'a'.repeat(1_000_000);

    it('classifies a long referrer by its host', () => {
      expect(
        classifySessionSource({ url: PAGE, referrer: `https://www.google.com/search?q=${padding}` }),
      ).toBe('Organic Search');
    });

    it(`reads only the first ${MAX_CLASSIFIED_LENGTH} characters of the page URL`, () => {
      const before = `${PAGE}?utm_medium=email&x=${padding}`;
      const after = `${PAGE}?x=${'a'.repeat(MAX_CLASSIFIED_LENGTH)}&utm_medium=email`;
      expect(classifySessionSource({ url: before })).toBe('Email');
      expect(classifySessionSource({ url: after })).toBe('Direct');
    });

    it('stays fast on hostile hosts and values', () => {
      const url = `https://${'a.'.repeat(500_000)}example.com/?utm_source=${'x.'.repeat(500_000)}`;
      const referrer = `https://${'b.'.repeat(500_000)}com/`;
      const started = performance.now();
      for (let i = 0; i < 200; i++) classifySessionSource({ url, referrer });
      expect(performance.now() - started).toBeLessThan(2000);
    });
  });

  it('always returns a session source or undefined, and never throws', () => {
    const urlish = fc.oneof(
      fc.string(),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc
        .tuple(
          fc.constantFrom('https://', 'http://', 'android-app://', 'myapp://', 'about:', ''),
          fc.domain(),
          fc.constantFrom('', '/', '/?utm_medium=', '/?utm_source=', '/?gclid=', '/?fbclid='),
          fc.string(),
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(
        fc.option(urlish, { nil: undefined }),
        fc.option(urlish, { nil: undefined }),
        (url, referrer) => {
          const result = classifySessionSource({ url, referrer });
          expect(result === undefined || (SESSION_SOURCES as readonly string[]).includes(result)).toBe(true);
          expect(result).not.toBe('Unknown');
        },
      ),
    );
  });
});

describe('the tables', () => {
  it('name only vocabulary values', () => {
    const channels = [
      ...UTM_RULES.map(([channel]) => channel),
      ...PAID_CLICK_IDS.map(([, channel]) => channel),
      ...APP_PACKAGES.values(),
      ...SITE_TABLES.map(([channel]) => channel),
    ];
    for (const channel of channels) expect(SESSION_SOURCES).toContain(channel);
  });

  it('hold lower-case host patterns and parameter names', () => {
    for (const [, sites] of SITE_TABLES) {
      for (const site of sites) for (const host of site.hosts) expect(host).toMatch(/^[a-z0-9.-]+(\.\*)?$/);
    }
    for (const id of [...PAID_CLICK_IDS.map(([name]) => name), ...SOCIAL_CLICK_IDS]) {
      expect(id).toBe(id.toLowerCase());
    }
  });

  it.each([
    ['mail.google.com', 'Email'],
    ['google.com', 'Organic Search'],
    ['images.google.co.jp', 'Organic Search'],
    ['google', undefined],
    ['co.uk', undefined],
    ['facebook.com.evil.org', undefined],
    ['', undefined],
  ] as const)('siteChannelOfHost(%j) is %j', (host, expected) => {
    expect(siteChannelOfHost(host)).toBe(expected);
  });
});
