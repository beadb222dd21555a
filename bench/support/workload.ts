/**
 * Deterministic synthetic traffic for the benchmarks: users with 16-character ids, a Zipf-like
 * activity distribution (every user at least once), realistic browser / OS / device / source skew,
 * a share of users already known to the first-seen registry, and some late activities.
 */

import { type Activity, activityOf } from '../../src/model/activity.js';
import { APP_BROWSER } from '../../src/model/dimensions.js';
import { seededRandom } from '../../src/simulate/seeded-random.js';

export const T0 = 1_700_000_000;
const ID_LENGTH = 16;
const OUT_OF_ORDER_SHARE = 0.02;
const MAX_LATENESS_SECONDS = 10;
const RETURNING_SHARE = 0.7;
const ZIPF_EXPONENT = 0.8;
const SOURCE_SWITCH_SHARE = 0.03;
const OTHER_DEVICE_SHARE = 0.005;

export interface WorkloadShape {
  readonly users: number;
  readonly activities: number;
  /** Activities per batch (one upload request). */
  readonly batchSize: number;
  /** Simulated seconds the activities are spread over. */
  readonly spanSeconds: number;
  readonly seed: number;
  /**
   * Fill page, country, app_version and the event too (activenow's: 1,000 pages, 40 countries,
   * 6 app versions, 30 event names); otherwise only CleverTap's four. The data is the same either way.
   */
  readonly activenowDimensions?: boolean;
}

/** An activity whose fields a batch filler overwrites in place, to keep allocation out of timings. */
export interface MutableActivity {
  user: string;
  ts: number;
  sessionSource: string | undefined;
  browser: string | undefined;
  os: string | undefined;
  device: string | undefined;
  page: string | undefined;
  country: string | undefined;
  appVersion: string | undefined;
  event: string | undefined;
}

let random = seededRandom(1);

/** Weighted choice among value strings; `undefined` stands for a missing attribute. */
class Weighted {
  readonly values: (string | undefined)[];
  private readonly cumulative: number[];
  constructor(entries: readonly (readonly [string | undefined, number])[]) {
    this.values = entries.map(([value]) => value);
    let sum = 0;
    this.cumulative = entries.map(([, weight]) => {
      sum += weight;
      return sum;
    });
    this.cumulative = this.cumulative.map((c) => c / sum);
  }
  pick(): number {
    const r = random();
    const cumulative = this.cumulative;
    for (let i = 0; i < cumulative.length - 1; i++) if (r < cumulative[i]) return i;
    return cumulative.length - 1;
  }
}

const SOURCE = new Weighted([
  ['Direct', 34],
  ['Organic Search', 24],
  ['Social', 12],
  ['Referral', 8],
  ['Paid Search', 8],
  ['Email', 5],
  ['Push', 4],
  ['Deep Link', 2],
  ['SMS', 1],
  [undefined, 2],
]);
const BROWSER = new Weighted([
  ['Chrome', 60],
  ['Safari', 20],
  [APP_BROWSER, 6],
  ['Edge', 5],
  ['Samsung Internet', 4],
  ['Firefox', 3],
  ['Opera', 1.5],
  [undefined, 0.5],
]);
const OS_VALUES = ['Android', 'iOS', 'Windows', 'macOS', 'Linux', 'ChromeOS'] as const;
type Os = (typeof OS_VALUES)[number];
const OS_BY_BROWSER = new Map<string | undefined, Weighted>([
  [
    'Chrome',
    new Weighted([
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
    new Weighted([
      ['iOS', 75],
      ['macOS', 25],
    ]),
  ],
  [
    APP_BROWSER,
    new Weighted([
      ['Android', 65],
      ['iOS', 35],
    ]),
  ],
  [
    'Edge',
    new Weighted([
      ['Windows', 93],
      ['macOS', 5],
      ['Android', 2],
    ]),
  ],
  ['Samsung Internet', new Weighted([['Android', 1]])],
  [
    'Firefox',
    new Weighted([
      ['Windows', 60],
      ['Linux', 20],
      ['macOS', 15],
      ['Android', 5],
    ]),
  ],
  [
    'Opera',
    new Weighted([
      ['Windows', 60],
      ['Android', 40],
    ]),
  ],
  [
    undefined,
    new Weighted([
      ['Android', 50],
      ['Windows', 30],
      [undefined, 20],
    ]),
  ],
]);
const DEVICE_BY_OS = new Map<string | undefined, Weighted>([
  [
    'Android',
    new Weighted([
      ['Mobile', 88],
      ['Tablet', 8],
      ['TV', 3],
      [undefined, 1],
    ]),
  ],
  [
    'iOS',
    new Weighted([
      ['Mobile', 85],
      ['Tablet', 15],
    ]),
  ],
  ['Windows', new Weighted([['Desktop', 1]])],
  ['macOS', new Weighted([['Desktop', 1]])],
  [
    'Linux',
    new Weighted([
      ['Desktop', 90],
      ['TV', 10],
    ]),
  ],
  ['ChromeOS', new Weighted([['Desktop', 1]])],
  [
    undefined,
    new Weighted([
      ['Desktop', 50],
      [undefined, 50],
    ]),
  ],
]);

/** The constant pools activity values are drawn from; code NONE stands for a missing value. */
const SOURCES = SOURCE.values;
const BROWSERS = BROWSER.values;
const OSES: (string | undefined)[] = [...OS_VALUES, undefined];
const DEVICE_VALUES: (string | undefined)[] = ['Mobile', 'Desktop', 'Tablet', 'TV', undefined];
const NONE = 255;

function code(pool: readonly (string | undefined)[], value: string | undefined): number {
  const i = pool.indexOf(value);
  if (i < 0) throw new Error(`no pool value ${value}`);
  return value === undefined ? NONE : i;
}
function poolValue(pool: readonly (string | undefined)[], c: number): string | undefined {
  return c === NONE ? undefined : pool[c];
}

/** A browser/os/device triple drawn with the skew above, as pool codes. */
function drawProfile(out: Uint8Array): void {
  const browser = BROWSER.values[BROWSER.pick()];
  const osTable = OS_BY_BROWSER.get(browser) as Weighted;
  const osValue = osTable.values[osTable.pick()] as Os | undefined;
  const deviceTable = DEVICE_BY_OS.get(osValue) as Weighted;
  out[0] = code(BROWSERS, browser);
  out[1] = code(OSES, osValue);
  out[2] = code(DEVICE_VALUES, deviceTable.values[deviceTable.pick()]);
}

export interface Data {
  /** ID_LENGTH latin1 bytes per user; `freshId` makes a new string of them, as a parser would. */
  readonly idBytes: Buffer;
  /** Users a registry already knows: first-seen epoch second, 0 for a user never seen before. */
  readonly pastFirstSeen: Uint32Array;
  readonly user: Int32Array;
  /** Seconds an activity is older than its batch's `now` (0 for in-order ones). */
  readonly lateness: Uint8Array;
  readonly source: Uint8Array;
  readonly browser: Uint8Array;
  readonly os: Uint8Array;
  readonly device: Uint8Array;
  /** Index in PAGES, per activity: the page the user is on at that activity. */
  readonly page: Uint16Array;
  /** Per activity, from the user's country and app version (NONE for web browsers). */
  readonly country: Uint8Array;
  readonly appVersion: Uint8Array;
  /** Index in EVENTS, per activity. */
  readonly event: Uint8Array;
}

function generate(users: number, activities: number): Data {
  const alphabet = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
  const idBytes = Buffer.alloc(users * ID_LENGTH);
  const seen = new Set<string>();
  for (let u = 0; u < users; u++) {
    for (;;) {
      for (let i = 0; i < ID_LENGTH; i++)
        idBytes[u * ID_LENGTH + i] = alphabet[Math.floor(random() * alphabet.length)];
      const id = idBytes.toString('latin1', u * ID_LENGTH, (u + 1) * ID_LENGTH);
      if (!seen.has(id)) {
        seen.add(id);
        break;
      }
    }
  }
  seen.clear();

  const pastFirstSeen = new Uint32Array(users);
  const profileSource = new Uint8Array(users);
  const profile = new Uint8Array(users * 3);
  const triple = new Uint8Array(3);
  for (let u = 0; u < users; u++) {
    if (random() < RETURNING_SHARE) pastFirstSeen[u] = T0 - 86_400 - Math.floor(random() * 89 * 86_400);
    profileSource[u] = code(SOURCES, SOURCES[SOURCE.pick()]);
    drawProfile(triple);
    profile.set(triple, u * 3);
  }

  // Every user once, the rest Zipf-distributed over users (user u has rank u), then shuffled.
  const user = new Int32Array(activities);
  const cdf = new Float64Array(users);
  let sum = 0;
  for (let u = 0; u < users; u++) {
    sum += (u + 1) ** -ZIPF_EXPONENT;
    cdf[u] = sum;
  }
  for (let i = 0; i < activities; i++) {
    if (i < users) {
      user[i] = i;
      continue;
    }
    const r = random() * sum;
    let lo = 0;
    let hi = users - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    user[i] = lo;
  }
  for (let i = activities - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = user[i];
    user[i] = user[j];
    user[j] = t;
  }

  const lateness = new Uint8Array(activities);
  const source = new Uint8Array(activities);
  const browser = new Uint8Array(activities);
  const osCodes = new Uint8Array(activities);
  const device = new Uint8Array(activities);
  for (let i = 0; i < activities; i++) {
    const u = user[i];
    if (random() < OUT_OF_ORDER_SHARE) lateness[i] = 1 + Math.floor(random() * MAX_LATENESS_SECONDS);
    source[i] = random() < SOURCE_SWITCH_SHARE ? code(SOURCES, SOURCES[SOURCE.pick()]) : profileSource[u];
    if (random() < OTHER_DEVICE_SHARE) drawProfile(triple);
    else triple.set(profile.subarray(u * 3, u * 3 + 3));
    browser[i] = triple[0];
    osCodes[i] = triple[1];
    device[i] = triple[2];
  }
  const { page, country, appVersion, event } = activenowValues(users, user, browser);
  return {
    idBytes,
    pastFirstSeen,
    user,
    lateness,
    source,
    browser,
    os: osCodes,
    device,
    page,
    country,
    appVersion,
    event,
  };
}

/** Number of distinct pages, Zipf(1)-popular: the "1,000 distinct pages". */
export const PAGE_COUNT = 1000;
const PAGES = Array.from({ length: PAGE_COUNT }, (_, i) =>
  i === 0 ? '/' : i % 5 === 0 ? `/blog/post-${i}` : `/products/item-${i}`,
);
const COUNTRIES = [
  'US',
  'IN',
  'BR',
  'ID',
  'DE',
  'GB',
  'FR',
  'JP',
  'MX',
  'NG',
  'PH',
  'VN',
  'TR',
  'IT',
  'ES',
  'PK',
  'BD',
  'EG',
  'RU',
  'KR',
  'CA',
  'AU',
  'PL',
  'NL',
  'TH',
  'AR',
  'CO',
  'ZA',
  'SA',
  'MY',
  'UA',
  'SE',
  'CH',
  'BE',
  'AT',
  'PT',
  'CL',
  'KE',
  'IL',
  undefined,
];
const APP_VERSIONS = ['6.4.1', '6.4.0', '6.3.2', '6.2.0', '5.9.9', undefined];
/** Event names, Zipf(1)-popular: a few common ones, then an app's own. */
const EVENTS = [
  'Page Viewed',
  'App Launched',
  'Product Viewed',
  'Search',
  'Added To Cart',
  'Charged',
  ...Array.from({ length: 24 }, (_, i) => `Custom Event ${i + 1}`),
];

/**
 * Page, country and app version of every activity, from their own random stream so that the
 * CleverTap values above stay those earlier runs drew: a user keeps a country and an app version
 * (app users only) and moves to a new page at each activity.
 */
function activenowValues(users: number, user: Int32Array, browser: Uint8Array) {
  const draw = seededRandom(0x9a6e5);
  const pageCdf = new Float64Array(PAGE_COUNT);
  let sum = 0;
  for (let p = 0; p < PAGE_COUNT; p++) {
    sum += 1 / (p + 1);
    pageCdf[p] = sum;
  }
  const countryOf = new Uint8Array(users);
  const versionOf = new Uint8Array(users);
  for (let u = 0; u < users; u++) {
    // Roughly a power law over the list: the first countries hold most users.
    countryOf[u] = Math.min(COUNTRIES.length - 1, Math.floor(COUNTRIES.length * draw() ** 2.5));
    versionOf[u] = Math.min(APP_VERSIONS.length - 2, Math.floor(APP_VERSIONS.length * draw() ** 2));
  }
  const app = code(BROWSERS, APP_BROWSER);
  const page = new Uint16Array(user.length);
  const country = new Uint8Array(user.length);
  const appVersion = new Uint8Array(user.length);
  const event = new Uint8Array(user.length);
  // Their own stream, so that the values above stay those earlier runs drew.
  const drawEvent = seededRandom(0x7e47);
  const eventCdf = new Float64Array(EVENTS.length);
  let eventSum = 0;
  for (let e = 0; e < EVENTS.length; e++) {
    eventSum += 1 / (e + 1);
    eventCdf[e] = eventSum;
  }
  for (let i = 0; i < user.length; i++) {
    const r = drawEvent() * eventSum;
    let e = 0;
    while (eventCdf[e] < r) e++;
    event[i] = e;
  }
  for (let i = 0; i < user.length; i++) {
    const r = draw() * sum;
    let lo = 0;
    let hi = PAGE_COUNT - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pageCdf[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    page[i] = lo;
    const u = user[i];
    country[i] = COUNTRIES[countryOf[u]] === undefined ? NONE : countryOf[u];
    appVersion[i] = browser[i] === app ? versionOf[u] : NONE;
  }
  return { page, country, appVersion, event };
}

export class Workload {
  readonly batches: number;
  readonly data: Data;

  constructor(readonly shape: WorkloadShape) {
    random = seededRandom(shape.seed);
    this.batches = Math.ceil(shape.activities / shape.batchSize);
    this.data = generate(shape.users, shape.activities);
  }

  /** One sentence on the traffic, for benchmark reports. */
  describe(): string {
    const { users, activities, batchSize, spanSeconds, seed } = this.shape;
    return `${users.toLocaleString('en')} users (${ID_LENGTH}-character ids), ${activities.toLocaleString('en')} activities over ${spanSeconds} s of simulated time in batches of ${batchSize}, ${OUT_OF_ORDER_SHARE * 100}% up to ${MAX_LATENESS_SECONDS} s late, Zipf(${ZIPF_EXPONENT}) activity per user (every user at least once), ${RETURNING_SHARE * 100}% of users known to the first-seen store beforehand; seed 0x${seed.toString(16)}`;
  }

  /** Simulated receive time of batch `b`, epoch seconds. */
  batchNow(b: number): number {
    return T0 + Math.floor((b * this.shape.spanSeconds) / this.batches);
  }

  /** A new id string of user `u`, as a request parser would make it. */
  userId(u: number): string {
    return this.data.idBytes.toString('latin1', u * ID_LENGTH, (u + 1) * ID_LENGTH);
  }

  /** First-seen time a registry already knows for user `u`, or 0 for a user never seen. */
  pastFirstSeen(u: number): number {
    return this.data.pastFirstSeen[u];
  }

  /** Objects to fill batches into. */
  newBatch(): MutableActivity[] {
    return Array.from({ length: this.shape.batchSize }, () => ({ ...activityOf('', 0) }));
  }

  /**
   * Fills `batch` with the activities of batch `b` (shortening it for the last one). Ids are new
   * strings unless `pooledIds` gives one string per user; page, country and app_version are filled
   * when `activenow` (default: the shape's activenowDimensions).
   */
  fillBatch(
    b: number,
    batch: MutableActivity[],
    pooledIds?: readonly string[],
    activenow = this.shape.activenowDimensions === true,
  ): readonly Activity[] {
    const data = this.data;
    const now = this.batchNow(b);
    const from = b * this.shape.batchSize;
    const n = Math.min(this.shape.batchSize, this.shape.activities - from);
    if (n !== batch.length) batch.length = n;
    for (let k = 0; k < n; k++) {
      const i = from + k;
      const activity = batch[k];
      activity.user = pooledIds === undefined ? this.userId(data.user[i]) : pooledIds[data.user[i]];
      activity.ts = now - data.lateness[i];
      activity.sessionSource = poolValue(SOURCES, data.source[i]);
      activity.browser = poolValue(BROWSERS, data.browser[i]);
      activity.os = poolValue(OSES, data.os[i]);
      activity.device = poolValue(DEVICE_VALUES, data.device[i]);
      if (activenow) {
        activity.page = PAGES[data.page[i]];
        activity.country = poolValue(COUNTRIES, data.country[i]);
        activity.appVersion = poolValue(APP_VERSIONS, data.appVersion[i]);
        activity.event = EVENTS[data.event[i]];
      }
    }
    return batch;
  }
}
