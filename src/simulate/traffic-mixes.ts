import { APP_BROWSER } from '../model/dimensions.js';
import type { Random } from './seeded-random.js';
import { WeightedChoice } from './weighted-choice.js';

/**
 * The value mixes of simulated sessions, skewed like real traffic: browser first, then an OS that
 * goes with that browser, then a device that goes with that OS; the session source depends on
 * whether the session is in a native app (push, deep links) or on the web (search, social).
 */

/** What one session sends in `session` with every event: explicit values, all in the vocabularies. */
export interface SessionProfile {
  readonly source: string;
  readonly browser: string;
  readonly os: string;
  readonly device: string;
  readonly country: string;
  /** Native-app sessions only. */
  readonly app_version?: string;
}

export const BROWSER_MIX = new WeightedChoice<string>([
  ['Chrome', 55],
  ['Safari', 20],
  [APP_BROWSER, 10],
  ['Edge', 6],
  ['Samsung Internet', 4],
  ['Firefox', 4],
  ['Opera', 1],
]);

export const OS_MIX_BY_BROWSER: ReadonlyMap<string, WeightedChoice<string>> = new Map([
  [
    'Chrome',
    new WeightedChoice([
      ['Android', 55],
      ['Windows', 30],
      ['macOS', 7],
      ['Linux', 3],
      ['ChromeOS', 3],
      ['iOS', 2],
    ]),
  ],
  [
    'Safari',
    new WeightedChoice([
      ['iOS', 75],
      ['macOS', 25],
    ]),
  ],
  [
    APP_BROWSER,
    new WeightedChoice([
      ['Android', 65],
      ['iOS', 35],
    ]),
  ],
  [
    'Edge',
    new WeightedChoice([
      ['Windows', 93],
      ['macOS', 5],
      ['Android', 2],
    ]),
  ],
  ['Samsung Internet', new WeightedChoice([['Android', 1]])],
  [
    'Firefox',
    new WeightedChoice([
      ['Windows', 60],
      ['Linux', 20],
      ['macOS', 15],
      ['Android', 5],
    ]),
  ],
  [
    'Opera',
    new WeightedChoice([
      ['Windows', 60],
      ['Android', 40],
    ]),
  ],
]);

export const DEVICE_MIX_BY_OS: ReadonlyMap<string, WeightedChoice<string>> = new Map([
  [
    'Android',
    new WeightedChoice([
      ['Mobile', 88],
      ['Tablet', 8],
      ['TV', 3],
      ['Wearable', 1],
    ]),
  ],
  [
    'iOS',
    new WeightedChoice([
      ['Mobile', 85],
      ['Tablet', 15],
    ]),
  ],
  ['Windows', new WeightedChoice([['Desktop', 1]])],
  ['macOS', new WeightedChoice([['Desktop', 1]])],
  [
    'Linux',
    new WeightedChoice([
      ['Desktop', 90],
      ['TV', 10],
    ]),
  ],
  ['ChromeOS', new WeightedChoice([['Desktop', 1]])],
]);

export const WEB_SOURCE_MIX = new WeightedChoice<string>([
  ['Direct', 34],
  ['Organic Search', 26],
  ['Social', 12],
  ['Referral', 9],
  ['Paid Search', 9],
  ['Email', 6],
  ['SMS', 1],
  ['Unknown', 3],
]);

export const APP_SOURCE_MIX = new WeightedChoice<string>([
  ['Direct', 55],
  ['Push', 25],
  ['Deep Link', 10],
  ['Email', 5],
  ['SMS', 3],
  ['Social', 2],
]);

export const COUNTRY_MIX = new WeightedChoice<string>([
  ['US', 28],
  ['IN', 18],
  ['GB', 8],
  ['DE', 8],
  ['BR', 7],
  ['FR', 5],
  ['CA', 5],
  ['JP', 4],
  ['ID', 4],
  ['MX', 3],
  ['NG', 3],
  ['AU', 3],
  ['ES', 2],
  ['NL', 2],
]);

export const APP_VERSION_MIX = new WeightedChoice<string>([
  ['6.4.1', 55],
  ['6.4.0', 20],
  ['6.3.2', 15],
  ['5.9.9', 10],
]);

/** Pages of a web session's events, by event name; an app session names its screens instead. */
const WEB_PAGES: Readonly<Record<string, WeightedChoice<string>>> = {
  'App Launched': new WeightedChoice([
    ['/', 70],
    ['/pricing', 15],
    ['/blog/realtime-counts', 15],
  ]),
  'Page Viewed': new WeightedChoice([
    ['/', 30],
    ['/pricing', 20],
    ['/docs/getting-started', 15],
    ['/blog/realtime-counts', 12],
    ['/docs/api', 10],
    ['/about', 8],
    ['/signup', 5],
  ]),
  'Product Viewed': new WeightedChoice(
    Array.from({ length: 24 }, (_, i) => [`/products/item-${i + 1}`, 24 - i] as [string, number]),
  ),
  Searched: new WeightedChoice([['/search', 1]]),
  'Added To Cart': new WeightedChoice([['/cart', 1]]),
  Charged: new WeightedChoice([['/checkout/done', 1]]),
};
const APP_SCREENS: Readonly<Record<string, string>> = {
  'App Launched': 'Home',
  'Page Viewed': 'Feed',
  'Product Viewed': 'Product',
  Searched: 'Search',
  'Added To Cart': 'Cart',
  Charged: 'Checkout',
};

/** The page (web) or screen (app) an event of `eventName` is on. */
export function drawPage(random: Random, browser: string, eventName: string): string {
  if (browser === APP_BROWSER) return APP_SCREENS[eventName] ?? 'Home';
  return (WEB_PAGES[eventName] ?? WEB_PAGES['Page Viewed']).pick(random);
}

/** Name of a session's first event, then the mix of the following ones. */
export const FIRST_EVENT = 'App Launched';
export const EVENT_MIX = new WeightedChoice<string>([
  ['Page Viewed', 50],
  ['Product Viewed', 30],
  ['Searched', 10],
  ['Added To Cart', 7],
  ['Charged', 3],
]);

/** Where and how a user is: the browser, OS, device, country (and app version) of a session. */
export type DeviceProfile = Omit<SessionProfile, 'source'>;

export function drawDevice(random: Random): DeviceProfile {
  const browser = BROWSER_MIX.pick(random);
  const os = mixFor(OS_MIX_BY_BROWSER, browser).pick(random);
  const device = mixFor(DEVICE_MIX_BY_OS, os).pick(random);
  const country = COUNTRY_MIX.pick(random);
  if (browser !== APP_BROWSER) return { browser, os, device, country };
  return { browser, os, device, country, app_version: APP_VERSION_MIX.pick(random) };
}

export function drawSource(random: Random, browser: string): string {
  return (browser === APP_BROWSER ? APP_SOURCE_MIX : WEB_SOURCE_MIX).pick(random);
}

function mixFor(mixes: ReadonlyMap<string, WeightedChoice<string>>, key: string): WeightedChoice<string> {
  const mix = mixes.get(key);
  if (mix === undefined) throw new Error(`no mix for ${key}`);
  return mix;
}
