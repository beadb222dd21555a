import Bowser from 'bowser';
import { LRUCache } from 'lru-cache';
import { cutToLength } from './normalize-dimension.js';
import {
  BOT_PATTERNS,
  BROWSER_NAMES,
  BROWSER_RULES,
  DEVICE_OF_PLATFORM,
  DEVICE_RULES,
  NATIVE_APP_STACK,
  OS_NAMES,
  OS_RULES,
} from './user-agent-tables.js';

/**
 * Browser, OS and device of a User-Agent, in activenow's vocabulary (docs/semantics.md §7), and whether it
 * is a bot whose activity must not be counted. Parsing is bowser's; the mapping onto our names, the
 * console / wearable / TV / in-app rules and the bot patterns are ours, and docs/classification.md
 * ("Browser, OS and device") states them in prose. Answers are cached: User-Agents repeat heavily.
 */

/** Classification of one User-Agent. An absent dimension is Unknown. Cached answers are frozen. */
export interface UserAgentClass {
  readonly browser?: string;
  readonly os?: string;
  readonly device?: string;
  readonly bot: boolean;
}

/**
 * Only the first MAX_USER_AGENT_LENGTH characters of a User-Agent (after leading whitespace) are
 * classified, and they are the cache key. Real User-Agents are shorter (the long in-app ones run to
 * about 400); the cut bounds the regular-expression work and the cache's memory whatever is sent.
 */
export const MAX_USER_AGENT_LENGTH = 512;

/** Distinct User-Agents whose answers are kept, least recently used evicted first. */
export const USER_AGENT_CACHE_MAX_ENTRIES = 10_000;

/**
 * Android's WebView marks itself with "; wv)", and iOS's bare WKWebView lacks "Safari/": they are
 * `Android WebView` and `iOS WebView` when bowser can only name them after their engine.
 */
const ANDROID_WEBVIEW = /; wv\)/;
const ENGINE_NAMED: ReadonlySet<string> = new Set(['Chrome', 'Chromium', 'Android Browser', 'Safari']);

/** An iOS browser's token in a "Macintosh" User-Agent: an iPad asking for desktop sites. */
const IPAD_DESKTOP_MODE = /\b(?:CriOS|FxiOS|EdgiOS)\//;

/** Every browser name bowser can give; anything else is its generic fallback (the first token). */
const KNOWN_BROWSERS: ReadonlySet<string> = new Set(Object.values(Bowser.BROWSER_MAP));
const KNOWN_OSES: ReadonlySet<string> = new Set(Object.values(Bowser.OS_MAP));

/**
 * bowser takes any User-Agent containing "yahoo" for Yahoo's Slurp crawler, which would drop the
 * Yahoo! JAPAN app's in-app views ("YJApp-IOS jp.co.yahoo…"). bowser gets the token masked; Slurp
 * is caught by BOT_PATTERNS.
 */
const YAHOO = /yahoo/gi;

const NOTHING: UserAgentClass = Object.freeze({ bot: false });
const BOT: UserAgentClass = Object.freeze({ bot: true });

function firstMatch(ua: string, rules: readonly (readonly [RegExp, string])[]): string | undefined {
  for (const [pattern, value] of rules) if (pattern.test(ua)) return value;
  return undefined;
}

function isBotPattern(ua: string): boolean {
  return BOT_PATTERNS.some((pattern) => pattern.test(ua));
}

function browserOf(ua: string, bowserName: string | undefined, os: string | undefined): string | undefined {
  const ruled = firstMatch(ua, BROWSER_RULES);
  if (ruled !== undefined) return ruled;
  if (bowserName === undefined || !KNOWN_BROWSERS.has(bowserName)) return undefined;
  // A webview that bowser names after its engine (an app it knows, like WeChat, keeps its name).
  if (ENGINE_NAMED.has(bowserName) && ANDROID_WEBVIEW.test(ua)) return 'Android WebView';
  // Safari, and every other iOS browser, carries "Safari/"; a bare WKWebView does not.
  if (bowserName === 'Safari' && os === 'iOS' && !ua.includes('Safari/')) return 'iOS WebView';
  return cutToLength(BROWSER_NAMES[bowserName] ?? bowserName);
}

function osOf(ua: string, bowserName: string | undefined): string | undefined {
  const ruled = firstMatch(ua, OS_RULES);
  if (ruled !== undefined) return ruled;
  if (bowserName === undefined || !KNOWN_OSES.has(bowserName)) return undefined;
  return cutToLength(OS_NAMES[bowserName] ?? bowserName);
}

function deviceOf(ua: string, platformType: string | undefined): string | undefined {
  const ruled = firstMatch(ua, DEVICE_RULES);
  if (ruled !== undefined) return ruled;
  if (NATIVE_APP_STACK.test(ua)) return undefined;
  return platformType === undefined ? undefined : DEVICE_OF_PLATFORM[platformType];
}

/**
 * The classification of `ua` without the cache. `ua` is taken as it is: callers trim and cut
 * (classifyUserAgent does).
 */
export function parseUserAgent(ua: string): UserAgentClass {
  if (ua === '') return NOTHING;
  if (isBotPattern(ua)) return BOT;
  const parsed = Bowser.parse(ua.replace(YAHOO, 'y-hoo'));
  if (parsed.platform.type === 'bot') return BOT;

  let os = osOf(ua, parsed.os.name);
  let device = deviceOf(ua, parsed.platform.type);
  if (os === 'macOS' && IPAD_DESKTOP_MODE.test(ua)) {
    os = 'iOS';
    device = 'Tablet';
  }
  const browser = browserOf(ua, parsed.browser.name || undefined, os);

  if (browser === undefined && os === undefined && device === undefined) return NOTHING;
  const result: { browser?: string; os?: string; device?: string; bot: boolean } = { bot: false };
  if (browser !== undefined) result.browser = browser;
  if (os !== undefined) result.os = os;
  if (device !== undefined) result.device = device;
  return Object.freeze(result);
}

/** The part of a raw User-Agent that is classified and used as the cache key. */
export function consideredUserAgent(ua: string): string {
  return cutToLength(ua.trimStart(), MAX_USER_AGENT_LENGTH).trimEnd();
}

export interface UserAgentClassifierOptions {
  /** Cache bound; default USER_AGENT_CACHE_MAX_ENTRIES. */
  readonly maxEntries?: number;
}

/** parseUserAgent behind a bounded LRU cache keyed by the considered User-Agent. */
export class UserAgentClassifier {
  readonly #cache: LRUCache<string, UserAgentClass>;

  constructor(options: UserAgentClassifierOptions = {}) {
    this.#cache = new LRUCache({ max: options.maxEntries ?? USER_AGENT_CACHE_MAX_ENTRIES });
  }

  /** Same answer (the same frozen object while cached) for the same considered User-Agent. */
  classify(ua: string): UserAgentClass {
    if (typeof ua !== 'string') return NOTHING;
    const key = consideredUserAgent(ua);
    if (key === '') return NOTHING;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const result = parseUserAgent(key);
    this.#cache.set(key, result);
    return result;
  }

  /** Number of cached User-Agents, at most maxEntries. */
  get size(): number {
    return this.#cache.size;
  }
}

/** The process-wide classifier behind classifyUserAgent. */
export const defaultUserAgentClassifier = new UserAgentClassifier();

/**
 * Browser, OS and device of a raw User-Agent in activenow's vocabulary, and whether it is a bot
 * (then no dimension is given). Empty or unrecognizable input gives no dimension and `bot: false`.
 */
export function classifyUserAgent(ua: string): UserAgentClass {
  return defaultUserAgentClassifier.classify(ua);
}
