import type { SessionHints } from './clevertap-records.js';
import { matchKey } from './normalize-dimension.js';
import {
  APP_PACKAGES,
  APP_REFERRER_SCHEMES,
  IGNORED_PAGE_SCHEMES,
  PAID_CLICK_IDS,
  SECOND_LEVEL_LABELS,
  type SessionSource,
  SHARED_HOST_SUFFIXES,
  SITE_TABLES,
  type SiteChannel,
  SOCIAL_CLICK_IDS,
  UTM_RULES,
  type UtmTags,
  WEB_PAGE_SCHEMES,
} from './session-source-tables.js';

/**
 * Derivation of `session_source` from a hit's page URL (its UTM parameters and ad click ids) and
 * its referrer, after GA4's default channel grouping, written from GA4's published definitions
 * and folded into our vocabulary (docs/semantics.md §7). The rules, their order and the reasons for each
 * departure from GA4 are in docs/classification.md, "Session source"; every table the rules read
 * is in session-source-tables.ts. Pure, synchronous, never throws, bounded work on any input.
 */

/** Characters of the page URL and of the referrer looked at; the rest is ignored. */
export const MAX_CLASSIFIED_LENGTH = 2048;

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

interface CompiledSite {
  readonly channel: SiteChannel;
  /** Patterns matched against the whole host, by suffix on label boundaries. */
  readonly exact: readonly string[];
  /** Patterns (without `.*`) matched against the host without its top-level domain. */
  readonly anyTld: readonly string[];
}

const COMPILED_SITES: readonly CompiledSite[] = SITE_TABLES.flatMap(([channel, sites]) =>
  sites.map((site) => ({
    channel,
    exact: site.hosts.filter((h) => !h.endsWith('.*')),
    anyTld: site.hosts.filter((h) => h.endsWith('.*')).map((h) => h.slice(0, -2)),
  })),
);

const SITE_NAMES: ReadonlyMap<string, SiteChannel> = new Map(
  SITE_TABLES.flatMap(([channel, sites]) =>
    sites.flatMap((site) => site.names.map((name) => [matchKey(name), channel] as const)),
  ).reverse(), // so that, were a name in two tables, the earlier table wins
);

/** `host` is `pattern` or a subdomain of it. */
function isWithin(host: string, pattern: string): boolean {
  return host === pattern || (host.length > pattern.length && host.endsWith(`.${pattern}`));
}

/** The host without its top-level domain, under the two readings `.*` allows (one, two labels). */
function withoutTld(host: string): string[] {
  const bases: string[] = [];
  const last = host.lastIndexOf('.');
  if (last <= 0) return bases;
  bases.push(host.slice(0, last));
  const cc = host.slice(last + 1);
  const prev = host.lastIndexOf('.', last - 1);
  if (prev > 0 && /^[a-z]{2}$/.test(cc) && SECOND_LEVEL_LABELS.has(host.slice(prev + 1, last))) {
    bases.push(host.slice(0, prev));
  }
  return bases;
}

/** The channel of the first site in SITE_TABLES order whose patterns match `host`. */
export function siteChannelOfHost(host: string): SiteChannel | undefined {
  const bases = withoutTld(host);
  for (const site of COMPILED_SITES) {
    if (site.exact.some((p) => isWithin(host, p))) return site.channel;
    if (site.anyTld.some((p) => bases.some((base) => isWithin(base, p)))) return site.channel;
  }
  return undefined;
}

/** Lower case, without the trailing dot of a fully qualified name. */
function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The channel of the site a `utm_source` value names: a host (it has a dot) or a bare name. */
function siteChannelOfSource(source: string): SiteChannel | undefined {
  if (!source.includes('.')) return SITE_NAMES.get(matchKey(source));
  let host = source;
  const scheme = host.indexOf('://');
  if (scheme >= 0) host = host.slice(scheme + 3);
  const end = host.search(/[/:?#]/);
  if (end >= 0) host = host.slice(0, end);
  return siteChannelOfHost(normalizeHost(host));
}

/** The host's last `count` labels (the whole host when it has no more). */
function lastLabels(host: string, count: number): string {
  let start = host.length;
  for (let i = 0; i < count; i++) {
    start = host.lastIndexOf('.', start - 1);
    if (start < 0) return host;
  }
  return host.slice(start + 1);
}

/**
 * The site a host belongs to, approximated without a public-suffix list: its registrable domain
 * (the label before the top-level domain, read as in `.*` patterns: `shop.example.co.uk` →
 * `example.co.uk`), or one label below a SHARED_HOST_SUFFIXES entry (`alice.github.io`); IP
 * addresses and single-label hosts are their own site.
 */
function siteOf(host: string): string {
  if (host.startsWith('[') || /^[0-9.]+$/.test(host)) return host;
  for (const suffix of SHARED_HOST_SUFFIXES) {
    if (host.length > suffix.length && host.endsWith(`.${suffix}`)) {
      return lastLabels(host, suffix.split('.').length + 1);
    }
  }
  const twoLabelTld = withoutTld(host).length === 2;
  return lastLabels(host, twoLabelTld ? 3 : 2);
}

/** Same site: the page's host and the referrer's belong to one site (siteOf). */
function isSameSite(pageHost: string, referrerHost: string): boolean {
  return pageHost !== '' && siteOf(pageHost) === siteOf(referrerHost);
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.length > MAX_CLASSIFIED_LENGTH ? value.slice(0, MAX_CLASSIFIED_LENGTH) : value;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

const schemeOf = (url: URL): string => url.protocol.slice(0, -1);

/** The first value of each parameter in `wanted` (names compared in lower case). */
function queryParams(url: URL, wanted: ReadonlySet<string>): Map<string, string> {
  const found = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const key = name.toLowerCase();
    if (wanted.has(key) && !found.has(key)) found.set(key, value.trim());
  }
  return found;
}

const QUERY_PARAMS: ReadonlySet<string> = new Set([
  'utm_source',
  'utm_medium',
  ...PAID_CLICK_IDS.map(([id]) => id),
  ...SOCIAL_CLICK_IDS,
]);

function utmChannel(source: string, medium: string): SessionSource {
  const tags: UtmTags = {
    source: matchKey(source),
    medium: matchKey(medium),
    site: siteChannelOfSource(source),
  };
  for (const [channel, holds] of UTM_RULES) if (holds(tags)) return channel;
  return 'Other';
}

/** The channel of an http(s) referrer host, given the page's host ('' when unknown). */
function referrerHostChannel(referrerHost: string, pageHost: string): SessionSource {
  if (isSameSite(pageHost, referrerHost)) return 'Direct';
  return siteChannelOfHost(referrerHost) ?? 'Referral';
}

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------

/**
 * The session source of a hit with page URL `url` and referrer `referrer`; undefined when neither
 * tells anything (no usable page URL and no usable referrer), which the caller records as Unknown.
 * A usable page URL with no usable referrer and no tags is Direct. Inputs that are not strings,
 * empty, unparsable or on an ignored scheme count as absent; only their first
 * MAX_CLASSIFIED_LENGTH characters are read. Rules in order (docs/classification.md):
 *
 * 1. UTM: `utm_source` or `utm_medium` non-empty on the page URL → UTM_RULES, else Other.
 * 2. Search/display click id on the page URL (PAID_CLICK_IDS) → its channel.
 * 3. Page URL on an app-link scheme (not web, not ignored) → Deep Link.
 * 4. Referrer: `android-app://` known package → APP_PACKAGES; other app referrer → Deep Link;
 *    http(s) host of the page's own site → Direct (self-referral); else SITE_TABLES in order
 *    (webmail → Email, search engines → Organic Search, social → Social); other hosts → Referral.
 * 5. Social click id on the page URL (SOCIAL_CLICK_IDS) → Social.
 * 6. A usable page URL → Direct; nothing usable → undefined.
 */
export function classifySessionSource(
  hints: Pick<SessionHints, 'url' | 'referrer'>,
): SessionSource | undefined {
  let page = parseUrl(hints.url);
  if (page !== undefined && IGNORED_PAGE_SCHEMES.has(schemeOf(page))) page = undefined;
  const params = page === undefined ? new Map<string, string>() : queryParams(page, QUERY_PARAMS);

  // 1. UTM tags.
  const source = params.get('utm_source') ?? '';
  const medium = params.get('utm_medium') ?? '';
  if (source !== '' || medium !== '') return utmChannel(source, medium);

  // 2. Search-engine and display click ids.
  for (const [id, channel] of PAID_CLICK_IDS) if (params.get(id)) return channel;

  // 3. App links.
  if (page !== undefined && !WEB_PAGE_SCHEMES.has(schemeOf(page))) return 'Deep Link';

  // 4. The referrer.
  const referrer = parseUrl(hints.referrer);
  if (referrer !== undefined) {
    const scheme = schemeOf(referrer);
    const host = normalizeHost(referrer.hostname);
    if (APP_REFERRER_SCHEMES.has(scheme)) {
      return (scheme === 'android-app' ? APP_PACKAGES.get(host) : undefined) ?? 'Deep Link';
    }
    if ((scheme === 'http' || scheme === 'https') && host !== '') {
      return referrerHostChannel(host, page === undefined ? '' : normalizeHost(page.hostname));
    }
  }

  // 5. Social click ids, 6. Direct.
  if (page === undefined) return undefined;
  for (const id of SOCIAL_CLICK_IDS) if (params.get(id)) return 'Social';
  return 'Direct';
}
