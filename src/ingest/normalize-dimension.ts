import { COUNTRY_CODES } from '../model/countries.js';
import {
  APP_BROWSER,
  DEVICES,
  MAX_EVENT_NAME_LENGTH,
  MAX_PAGE_LENGTH,
  MAX_VALUE_LENGTH,
  OTHER,
  SESSION_SOURCES,
  UNKNOWN,
} from '../model/dimensions.js';
import type { Dimension } from '../protocol/dimensions.js';

/**
 * Normalization of dimension values that clients send explicitly (`session.source`, `browser`,
 * `os`, `device`, `page`, `country`, `app_version` of an upload record, or the tracker's hit). Values derived from a User-Agent or a
 * referrer are produced already normalized and do not pass through here.
 *
 * Result convention: `undefined` means Unknown (nothing usable was sent); `null` means the value is
 * not a string at all, which the caller rejects as an invalid structure.
 */
export type NormalizedValue = string | undefined;

/**
 * The key values are matched by: lower case, without spaces, underscores and hyphens, so that
 * 'Organic Search', 'organic_search' and 'ORGANIC-SEARCH' are one value.
 */
export function matchKey(value: string): string {
  let key = '';
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x20 || c === 0x5f || c === 0x2d) {
      key += value.slice(start, i);
      start = i + 1;
    }
  }
  return (start === 0 ? value : key + value.slice(start)).toLowerCase();
}

/**
 * At most `max` UTF-16 code units of `value`; one fewer when the cut would leave half of a
 * surrogate pair, so the result is always well-formed where the input was.
 */
export function cutToLength(value: string, max: number = MAX_VALUE_LENGTH): string {
  if (value.length <= max) return value;
  let end = max;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return value.slice(0, end);
}

function tableOf(entries: readonly (readonly [string, string])[]): ReadonlyMap<string, string> {
  const table = new Map<string, string>();
  for (const [alias, canonical] of entries) table.set(matchKey(alias), canonical);
  return table;
}

const vocabulary = (values: readonly string[]) => tableOf(values.map((v) => [v, v] as const));

const DEVICE_TABLE = vocabulary(DEVICES);
const SESSION_SOURCE_TABLE = vocabulary(SESSION_SOURCES);

/** Free-form values that mean "no value" or "the rest": the engine gives them their own slots. */
const SPECIAL_VALUES = [
  ['unknown', UNKNOWN],
  ['other', OTHER],
] as const;
const SPECIAL_TABLE = tableOf(SPECIAL_VALUES);

/**
 * Browser families, by the names clients commonly send (including ua-parser-js's). Anything not
 * listed is kept as sent (trimmed and cut).
 */
const BROWSER_TABLE = tableOf([
  ...SPECIAL_VALUES,
  ['chrome', 'Chrome'],
  ['google chrome', 'Chrome'],
  ['mobile chrome', 'Chrome'],
  ['chrome mobile', 'Chrome'],
  ['safari', 'Safari'],
  ['mobile safari', 'Safari'],
  ['firefox', 'Firefox'],
  ['mobile firefox', 'Firefox'],
  ['firefox mobile', 'Firefox'],
  ['edge', 'Edge'],
  ['microsoft edge', 'Edge'],
  ['samsung internet', 'Samsung Internet'],
  ['samsung browser', 'Samsung Internet'],
  ['opera', 'Opera'],
  ['app', APP_BROWSER],
]);

/** Operating-system families; anything not listed is kept as sent (trimmed and cut). */
const OS_TABLE = tableOf([
  ...SPECIAL_VALUES,
  ['android', 'Android'],
  ['ios', 'iOS'],
  ['windows', 'Windows'],
  ['macos', 'macOS'],
  ['mac os', 'macOS'],
  ['mac os x', 'macOS'],
  ['osx', 'macOS'],
  ['linux', 'Linux'],
  ['chromeos', 'ChromeOS'],
  ['chrome os', 'ChromeOS'],
]);

/** Trimmed and cut to `max`; undefined when nothing but whitespace was sent. */
function trimAndCut(value: string, max = MAX_VALUE_LENGTH): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const cut = cutToLength(trimmed, max);
  // A cut may end on whitespace that was inside the value; a trimmed value should not.
  return cut === trimmed ? cut : cut.trimEnd();
}

function fromVocabulary(
  value: string,
  table: ReadonlyMap<string, string>,
  fallback: string,
): NormalizedValue {
  const kept = trimAndCut(value);
  if (kept === undefined) return undefined;
  return table.get(matchKey(kept)) ?? fallback;
}

function freeForm(value: string, families: ReadonlyMap<string, string>): NormalizedValue {
  const kept = trimAndCut(value);
  if (kept === undefined) return undefined;
  return families.get(matchKey(kept)) ?? kept;
}

/** A URL's scheme and host (`https://example.com`), which a page value leaves out. */
const SCHEME_AND_HOST = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * A page: a path, or an app's screen name kept as sent. A full URL gives its path; a path (and a
 * URL) loses its query and fragment, which would make every visit a page of its own.
 */
function pageOf(value: string): NormalizedValue {
  let page = value.trim();
  const host = SCHEME_AND_HOST.exec(page);
  if (host !== null) page = page.slice(host[0].length) || '/';
  if (host !== null || page.startsWith('/')) {
    const end = page.search(/[?#]/);
    if (end >= 0) page = page.slice(0, end) || '/';
  }
  const kept = trimAndCut(page, MAX_PAGE_LENGTH);
  return kept === undefined ? undefined : (SPECIAL_TABLE.get(matchKey(kept)) ?? kept);
}

/** Raw values remembered per dimension; past this the memo starts over (values are few in practice). */
export const MEMO_ENTRIES = 4096;
/** Longer raw values are normalized each time rather than kept alive by the memo. */
const MEMO_MAX_LENGTH = 2 * MAX_VALUE_LENGTH;
/** Stands for an `undefined` answer in the memo; no normalized value is empty. */
const MEMO_UNKNOWN = '';

/**
 * `normalize` with its answers remembered: clients send the same few raw values in event after
 * event, and a lookup costs less than trimming, building the match key and looking that up.
 */
function memoized(normalize: (value: string) => NormalizedValue): (value: string) => NormalizedValue {
  const memo = new Map<string, string>();
  return (value) => {
    const known = memo.get(value);
    if (known !== undefined) return known === MEMO_UNKNOWN ? undefined : known;
    const normalized = normalize(value);
    if (value.length <= MEMO_MAX_LENGTH) {
      if (memo.size >= MEMO_ENTRIES) memo.clear();
      memo.set(value, normalized ?? MEMO_UNKNOWN);
    }
    return normalized;
  };
}

/** One of DEVICES; a value outside the vocabulary is Unknown ('Other' is not a device). */
export const normalizeDevice = memoized((value) => fromVocabulary(value, DEVICE_TABLE, UNKNOWN));

/** One of SESSION_SOURCES; a value outside the vocabulary is Other. */
export const normalizeSessionSource = memoized((value) => fromVocabulary(value, SESSION_SOURCE_TABLE, OTHER));

/** A browser family name when recognized, else the value as sent (trimmed and cut). */
export const normalizeBrowser = memoized((value) => freeForm(value, BROWSER_TABLE));

/** An operating-system family name when recognized, else the value as sent (trimmed and cut). */
export const normalizeOs = memoized((value) => freeForm(value, OS_TABLE));

/** A page path or screen name (pageOf). */
export const normalizePage = memoized(pageOf);

/** An ISO 3166-1 alpha-2 code in upper case (COUNTRY_CODES); anything else is Unknown. */
export const normalizeCountry = memoized((value) => {
  const trimmed = value.trim();
  // Two ASCII letters only: toUpperCase would also make IT of 'ıt' (dotless i).
  if (!/^[A-Za-z]{2}$/.test(trimmed)) return undefined;
  const code = trimmed.toUpperCase();
  return COUNTRY_CODES.has(code) ? code : undefined;
});

/** A version as sent (trimmed and cut); 'unknown' and 'other' in any case are Unknown and Other. */
export const normalizeAppVersion = memoized((value) => freeForm(value, SPECIAL_TABLE));

/** An event name (`evtName`), kept as sent but trimmed and cut to MAX_EVENT_NAME_LENGTH. */
export const normalizeEventName = memoized((value) => trimAndCut(value, MAX_EVENT_NAME_LENGTH));

/**
 * The normalized value of `dimension` for an explicit client value: `undefined` for Unknown
 * (absent, null, empty or whitespace), `null` when the value is present but not a string.
 */
export function normalizeDimension(dimension: Dimension, value: unknown): NormalizedValue | null {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return null;
  switch (dimension) {
    case 'session_source':
      return normalizeSessionSource(value);
    case 'browser':
      return normalizeBrowser(value);
    case 'os':
      return normalizeOs(value);
    case 'device':
      return normalizeDevice(value);
    case 'page':
      return normalizePage(value);
    case 'country':
      return normalizeCountry(value);
    case 'app_version':
      return normalizeAppVersion(value);
  }
}
