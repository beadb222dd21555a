import type { SESSION_SOURCES } from '../model/dimensions.js';
import { matchKey } from './normalize-dimension.js';

/**
 * The tables that session-source.ts classifies with: sites by channel, host rules, app packages,
 * click ids, URL schemes and the UTM rules. Data only (the UTM rules are predicates over these
 * sets); docs/classification.md, "Session source", lists them in prose.
 */

/** A `session_source` value of our vocabulary. */
export type SessionSource = (typeof SESSION_SOURCES)[number];

/** The channels that a site (a referrer host or a `utm_source`) can stand for. */
export type SiteChannel = 'Email' | 'Organic Search' | 'Social';

/**
 * A site: the bare names it is tagged with in `utm_source` (compared after `matchKey`: case, spaces,
 * `-` and `_` ignored) and its host patterns. A pattern matches its host and every subdomain, on
 * label boundaries (`google.com` matches `www.google.com`, not `notgoogle.com`). A pattern ending
 * in `.*` stands for any top-level domain: one label (`google.de`), or a two-letter country code
 * after one of SECOND_LEVEL_LABELS (`google.co.uk`, `google.com.br`).
 */
export interface Site {
  readonly names: readonly string[];
  readonly hosts: readonly string[];
}

/** Webmail front ends. Looked up before search engines: `mail.google.com` is not Google Search. */
export const WEBMAIL_SITES: readonly Site[] = [
  { names: ['gmail'], hosts: ['mail.google.com', 'inbox.google.com'] },
  {
    names: ['outlook', 'hotmail'],
    hosts: ['outlook.live.com', 'outlook.office.com', 'outlook.office365.com', 'mail.live.com'],
  },
  { names: ['yahoomail'], hosts: ['mail.yahoo.*'] },
  { names: ['aolmail'], hosts: ['mail.aol.com'] },
  { names: ['protonmail'], hosts: ['mail.proton.me', 'mail.protonmail.com'] },
  { names: ['zohomail'], hosts: ['mail.zoho.*'] },
  { names: ['yandexmail'], hosts: ['mail.yandex.*'] },
  { names: [], hosts: ['e.mail.ru', 'mail.naver.com', 'mail.daum.net', 'navigator.gmx.net'] },
  { names: [], hosts: ['navigator.web.de', 'app.fastmail.com', 'mail.tutanota.com', 'app.tuta.com'] },
];

/** Search engines. */
export const SEARCH_SITES: readonly Site[] = [
  { names: ['google'], hosts: ['google.*'] },
  { names: ['bing'], hosts: ['bing.com', 'cn.bing.com'] },
  { names: ['duckduckgo', 'ddg'], hosts: ['duckduckgo.com'] },
  { names: ['yahoo'], hosts: ['yahoo.*'] },
  { names: ['yandex'], hosts: ['yandex.*', 'ya.ru'] },
  { names: ['baidu'], hosts: ['baidu.com'] },
  { names: ['ecosia'], hosts: ['ecosia.org'] },
  { names: ['brave'], hosts: ['search.brave.com'] },
  { names: ['naver'], hosts: ['naver.com'] },
  { names: ['daum'], hosts: ['daum.net'] },
  { names: ['seznam'], hosts: ['seznam.cz'] },
  { names: ['qwant'], hosts: ['qwant.com'] },
  { names: ['startpage'], hosts: ['startpage.com'] },
  { names: ['sogou'], hosts: ['sogou.com'] },
  { names: ['so360', '360'], hosts: ['so.com'] },
  { names: ['ask'], hosts: ['ask.com'] },
  { names: ['aol'], hosts: ['search.aol.com'] },
  { names: ['kagi'], hosts: ['kagi.com'] },
  { names: ['mojeek'], hosts: ['mojeek.com'] },
  { names: ['coccoc'], hosts: ['coccoc.com'] },
];

/**
 * Social networks, messengers and video platforms (GA4's "video" sites are folded in here: our
 * vocabulary has no Video channel, and their traffic is user-shared like a social network's).
 */
export const SOCIAL_SITES: readonly Site[] = [
  { names: ['facebook', 'fb'], hosts: ['facebook.com', 'fb.com', 'fb.me'] },
  { names: ['messenger'], hosts: ['messenger.com'] },
  { names: ['instagram', 'ig'], hosts: ['instagram.com'] },
  { names: ['twitter', 'x'], hosts: ['twitter.com', 'x.com', 't.co'] },
  { names: ['linkedin'], hosts: ['linkedin.com', 'lnkd.in'] },
  { names: ['reddit'], hosts: ['reddit.com', 'redd.it'] },
  { names: ['pinterest'], hosts: ['pinterest.*', 'pin.it'] },
  { names: ['youtube', 'yt'], hosts: ['youtube.com', 'youtu.be'] },
  { names: ['tiktok'], hosts: ['tiktok.com'] },
  { names: ['snapchat'], hosts: ['snapchat.com'] },
  { names: ['threads'], hosts: ['threads.net', 'threads.com'] },
  { names: ['bluesky'], hosts: ['bsky.app'] },
  { names: ['mastodon'], hosts: ['mastodon.social'] },
  { names: ['tumblr'], hosts: ['tumblr.com'] },
  { names: ['vk', 'vkontakte'], hosts: ['vk.com'] },
  { names: ['odnoklassniki'], hosts: ['ok.ru'] },
  { names: ['weibo'], hosts: ['weibo.com', 'weibo.cn'] },
  { names: ['quora'], hosts: ['quora.com'] },
  { names: ['discord'], hosts: ['discord.com', 'discord.gg'] },
  { names: ['whatsapp'], hosts: ['whatsapp.com'] },
  { names: ['telegram'], hosts: ['t.me', 'telegram.org'] },
  { names: ['line'], hosts: ['line.me'] },
  { names: ['vimeo'], hosts: ['vimeo.com'] },
  { names: ['twitch'], hosts: ['twitch.tv'] },
  { names: ['dailymotion'], hosts: ['dailymotion.com'] },
];

/** Site tables in lookup order: the first table with a matching site gives the channel. */
export const SITE_TABLES: readonly (readonly [SiteChannel, readonly Site[]])[] = [
  ['Email', WEBMAIL_SITES],
  ['Organic Search', SEARCH_SITES],
  ['Social', SOCIAL_SITES],
];

/** Labels that, before a two-letter country code, form a top-level domain (`co.uk`, `com.br`). */
export const SECOND_LEVEL_LABELS: ReadonlySet<string> = new Set([
  'co',
  'com',
  'net',
  'org',
  'ac',
  'edu',
  'gov',
  'ne',
  'or',
  'go',
  'gob',
]);

/**
 * Domains under which every subdomain is a different owner's site (hosting platforms), for the
 * self-referral rule: `alice.github.io` and `bob.github.io` are two sites, `www.example.com` and
 * `shop.example.com` one.
 */
export const SHARED_HOST_SUFFIXES: readonly string[] = [
  'github.io',
  'gitlab.io',
  'netlify.app',
  'vercel.app',
  'pages.dev',
  'workers.dev',
  'web.app',
  'firebaseapp.com',
  'herokuapp.com',
  'appspot.com',
  'azurewebsites.net',
  'cloudfront.net',
  's3.amazonaws.com',
  'blogspot.com',
  'wordpress.com',
  'myshopify.com',
  'wixsite.com',
  'squarespace.com',
  'substack.com',
  'webflow.io',
  'onrender.com',
  'fly.dev',
  'glitch.me',
  'ngrok.io',
  'ngrok-free.app',
];

/**
 * Android apps known by package name, for `android-app://PACKAGE/…` referrers (an Android app
 * opened the page). Any other package, and every `ios-app://` referrer, is Deep Link.
 */
export const APP_PACKAGES: ReadonlyMap<string, SessionSource> = new Map<string, SessionSource>([
  ['com.google.android.googlequicksearchbox', 'Organic Search'],
  ['com.google.android.gm', 'Email'],
  ['com.microsoft.office.outlook', 'Email'],
  ['com.yahoo.mobile.client.android.mail', 'Email'],
  ['com.facebook.katana', 'Social'],
  ['com.facebook.lite', 'Social'],
  ['com.facebook.orca', 'Social'],
  ['com.instagram.android', 'Social'],
  ['com.twitter.android', 'Social'],
  ['com.linkedin.android', 'Social'],
  ['com.reddit.frontpage', 'Social'],
  ['com.pinterest', 'Social'],
  ['com.google.android.youtube', 'Social'],
  ['com.zhiliaoapp.musically', 'Social'],
  ['com.whatsapp', 'Social'],
  ['org.telegram.messenger', 'Social'],
]);

/**
 * Ad-network click ids on the page URL, in precedence order. Search-engine ids (Google Ads'
 * gclid/gbraid/wbraid, Microsoft Advertising's msclkid, Yandex Direct's yclid) are decisive and
 * are applied before the referrer. dclid (Google display, Campaign Manager) is display: Other.
 * Social ids are weak evidence (Facebook adds fbclid to organic outbound links too, and they stay
 * on URLs that get copied around), so they are applied only when there is no referrer.
 */
export const PAID_CLICK_IDS: readonly (readonly [string, SessionSource])[] = [
  ['gclid', 'Paid Search'],
  ['gbraid', 'Paid Search'],
  ['wbraid', 'Paid Search'],
  ['msclkid', 'Paid Search'],
  ['yclid', 'Paid Search'],
  ['dclid', 'Other'],
];

export const SOCIAL_CLICK_IDS: readonly string[] = [
  'fbclid',
  'ttclid',
  'twclid',
  'li_fat_id',
  'epik',
  'sccid',
  'rdt_cid',
];

/**
 * Page URL schemes. A page on a web-page scheme is a page view (http(s), or a web app hosted
 * locally by a native shell or an extension). Opaque schemes are no page at all and are ignored.
 * Any other scheme (`myapp://…`, `intent://…`) is an app link: Deep Link.
 */
export const WEB_PAGE_SCHEMES: ReadonlySet<string> = new Set([
  'http',
  'https',
  'file',
  'capacitor',
  'ionic',
  'tauri',
  'ms-appx',
  'ms-appx-web',
  'chrome-extension',
  'moz-extension',
  'safari-web-extension',
]);

export const IGNORED_PAGE_SCHEMES: ReadonlySet<string> = new Set(['about', 'blob', 'data', 'javascript']);

/** Referrer schemes that name an app rather than a page; any other non-http(s) referrer is ignored. */
export const APP_REFERRER_SCHEMES: ReadonlySet<string> = new Set(['android-app', 'ios-app']);

/** UTM values are compared as `matchKey` keys: lower case, without spaces, `-` and `_`. */
const keys = (...values: string[]): ReadonlySet<string> => new Set(values.map(matchKey));

const DIRECT_SOURCES = keys('(direct)', 'direct');
const NONE_MEDIUMS = keys('', '(none)', 'none', '(not set)');
const DEEP_LINK_MEDIUMS = keys('deeplink', 'deep link', 'app link', 'universal link');
const PAID_SEARCH_MEDIUMS = keys('paid search', 'sem');
const PAID_SOCIAL_MEDIUMS = keys('paid social');
const DISPLAY_MEDIUMS = keys('display', 'banner', 'expandable', 'interstitial', 'cpm');
const SOCIAL_MEDIUMS = keys('social', 'social network', 'social media', 'sm');
const REFERRAL_MEDIUMS = keys('referral', 'app', 'link', 'affiliate', 'affiliates');
const EMAIL_TAGS = keys('email', 'e-mail', 'e_mail', 'e mail', 'newsletter');

/** The UTM tags of a page URL, as keys, with the channel of the site that `utm_source` names. */
export interface UtmTags {
  readonly source: string;
  readonly medium: string;
  readonly site: SiteChannel | undefined;
}

/** GA4's paid mediums (`^(.*cp.*|ppc|retargeting|paid.*)$`), on the key. */
const isPaid = ({ medium: m }: UtmTags): boolean =>
  m.includes('cp') || m === 'ppc' || m === 'retargeting' || m.startsWith('paid');

/**
 * The UTM rules, in order; the first that holds gives the channel, and tags that no rule
 * recognizes are Other. GA4's order, with its channels folded into ours (see the doc).
 */
export const UTM_RULES: readonly (readonly [SessionSource, (t: UtmTags) => boolean])[] = [
  ['Direct', (t) => DIRECT_SOURCES.has(t.source) && NONE_MEDIUMS.has(t.medium)],
  ['Deep Link', (t) => DEEP_LINK_MEDIUMS.has(t.medium)],
  ['Paid Search', (t) => isPaid(t) && t.site === 'Organic Search'],
  ['Social', (t) => isPaid(t) && t.site === 'Social'],
  ['Paid Search', (t) => PAID_SEARCH_MEDIUMS.has(t.medium)],
  ['Social', (t) => PAID_SOCIAL_MEDIUMS.has(t.medium)],
  ['Other', (t) => DISPLAY_MEDIUMS.has(t.medium) || isPaid(t)],
  ['Social', (t) => t.site === 'Social' || SOCIAL_MEDIUMS.has(t.medium) || t.medium.includes('video')],
  ['Organic Search', (t) => t.site === 'Organic Search' || t.medium === 'organic'],
  ['Referral', (t) => REFERRAL_MEDIUMS.has(t.medium)],
  ['Email', (t) => t.site === 'Email' || EMAIL_TAGS.has(t.source) || EMAIL_TAGS.has(t.medium)],
  ['SMS', (t) => t.source === 'sms' || t.medium === 'sms'],
  [
    'Push',
    (t) =>
      t.medium.endsWith('push') ||
      t.medium.includes('mobile') ||
      t.medium.includes('notification') ||
      t.source === 'firebase',
  ],
];
