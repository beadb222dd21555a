import { type Activity, activityOf } from '../model/activity.js';
import { UNKNOWN } from '../model/dimensions.js';
import { RECORD_ERRORS } from '../model/record-errors.js';
import {
  type NormalizedValue,
  normalizeAppVersion,
  normalizeBrowser,
  normalizeCountry,
  normalizeDevice,
  normalizeEventName,
  normalizeOs,
  normalizePage,
  normalizeSessionSource,
} from './normalize-dimension.js';

/**
 * Validation of CleverTap Upload Events/Profiles records (`POST /1/upload`, docs/api.md) and their
 * conversion to Activity. Pure and synchronous; the route enforces the request-level limits
 * (records per request, body size) before calling it.
 */

export interface RecordFailure {
  readonly status: 'fail';
  readonly code: number;
  readonly error: string;
  readonly record: string;
}

export interface ParsedUpload {
  /** One per valid event, in input order. Profiles are valid but make nobody active. */
  readonly activities: Activity[];
  /** One per valid event of a bot (its `session.ua`), in input order: counted apart (bot-lane.ts). */
  readonly bots: Activity[];
  /** Number of valid records, events and profiles. */
  readonly processed: number;
  readonly unprocessed: RecordFailure[];
}

/** What a record's `session` carries for derivation: the raw User-Agent, referrer and page URL. */
export interface SessionHints {
  readonly ua?: string;
  readonly referrer?: string;
  readonly url?: string;
}

/**
 * Dimension values derived from SessionHints, already normalized (vocabulary values and family
 * names). `bot: true` marks a record whose activity must not be counted: it is still processed.
 */
export interface DerivedSession {
  readonly sessionSource?: string;
  readonly browser?: string;
  readonly os?: string;
  readonly device?: string;
  readonly bot?: boolean;
}

export type DeriveSession = (hints: SessionHints) => DerivedSession;

export interface ParseRecordsOptions {
  /**
   * Hook for derivation from `session.ua` / `referrer` / `url`. Called only for events whose
   * session carries at least one of them; its values fill only the dimensions that have no usable
   * explicit value (explicit values win).
   */
  readonly deriveSession?: DeriveSession;
  /**
   * The country of a client IP address, for events whose session carries `ip` and no usable
   * `country`. The address is only looked up, never kept.
   */
  readonly countryOfIp?: (ip: string) => string | undefined;
}

/** Longest user key accepted, in UTF-16 code units (as CleverTap's Java `String.length()`). */
export const MAX_USER_KEY_LENGTH = 120;

/** How far in the future a record's `ts` may lie, relative to the receive time. */
export const MAX_FUTURE_SECONDS = 60;

type RecordError = (typeof RECORD_ERRORS)[keyof typeof RECORD_ERRORS];

type Fields = Readonly<Record<string, unknown>>;

const NO_OPTIONS: ParseRecordsOptions = {};

function isPlainObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent for validation purposes: JSON clients often send null for an optional field. */
function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

/**
 * Validates each record and converts valid events to Activity. `receivedAt` is the server receive
 * time in epoch seconds (a fractional value is floored); it stands in for an absent `ts` and bounds
 * how far in the future `ts` may be.
 */
export function parseRecords(
  records: readonly unknown[],
  receivedAt: number,
  options: ParseRecordsOptions = NO_OPTIONS,
): ParsedUpload {
  const checker = new RecordChecker(receivedAt, options);
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const error = checker.check(record);
    // Records come from JSON.parse, so they always stringify; `?? 'null'` keeps the type honest.
    if (error !== undefined) checker.refuse(error, i, JSON.stringify(record) ?? 'null');
  }
  return checker.result();
}

/**
 * The records of one upload checked one by one, in order, into a ParsedUpload. `parseRecords` feeds
 * it parsed values; the upload fast path (upload-fast-path.ts) feeds it views read from the bytes,
 * and the JSON text of a refused record only when it needs it.
 */
export class RecordChecker {
  private readonly now: number;
  private readonly options: ParseRecordsOptions;
  private readonly activities: Activity[] = [];
  private readonly bots: Activity[] = [];
  private readonly unprocessed: RecordFailure[] = [];
  private processed = 0;

  constructor(receivedAt: number, options: ParseRecordsOptions) {
    this.now = Math.floor(receivedAt);
    this.options = options;
  }

  /**
   * Checks one record: a value parsed from JSON, or an object with the fields of RecordFields as
   * JSON would give them. Counts it processed (and keeps its activity, if any) or returns its error,
   * which the caller reports with `refuse`.
   */
  check(record: unknown): RecordError | undefined {
    const error = parseRecord(record, this.now, this.options, this.activities, this.bots);
    if (error === undefined) this.processed++;
    return error;
  }

  /** Reports the record numbered `index + 1`, whose JSON text is `record`, as refused with `error`. */
  refuse(error: RecordError, index: number, record: string): void {
    this.unprocessed.push({
      status: 'fail',
      code: error.code,
      error: `${error.message}. Skipped record number : ${index + 1}`,
      record,
    });
  }

  result(): ParsedUpload {
    return {
      activities: this.activities,
      bots: this.bots,
      processed: this.processed,
      unprocessed: this.unprocessed,
    };
  }
}

/** Fields that may carry the user key, in the order they are looked at. */
export const KEY_FIELDS = ['identity', 'objectId', 'FBID', 'GPID'] as const;

/** The fields of a record the rules read. */
export const RECORD_FIELDS = [
  'type',
  ...KEY_FIELDS,
  'ts',
  'evtName',
  'evtData',
  'profileData',
  'session',
] as const;

/** The fields of a record's `session` the rules read. */
export const SESSION_FIELDS = [
  'source',
  'browser',
  'os',
  'device',
  'page',
  'country',
  'app_version',
  'ua',
  'referrer',
  'url',
  'ip',
] as const;

/**
 * A record's RECORD_FIELDS, each as JSON.parse would give it (undefined when absent). A parsed
 * record is one; so is the fast path's view, whose objects and arrays no rule looks into stand in
 * as empty ones, except `session`, a SessionFields.
 */
export type RecordFields = { [Field in (typeof RECORD_FIELDS)[number]]?: unknown };

/** A session's SESSION_FIELDS, as in RecordFields. */
export type SessionFields = { [Field in (typeof SESSION_FIELDS)[number]]?: unknown };

/** Checks one record, rules in docs/api.md's order (first failure wins); pushes its activity if any. */
function parseRecord(
  record: unknown,
  now: number,
  options: ParseRecordsOptions,
  activities: Activity[],
  bots: Activity[],
): RecordError | undefined {
  if (!isPlainObject(record)) return RECORD_ERRORS.invalidStructure;
  const fields: RecordFields = record;

  const type = fields.type;
  if (type !== 'event' && type !== 'profile') return RECORD_ERRORS.neitherEventNorProfile;

  const user = userKeyOf(fields);
  if (typeof user !== 'string') return user;

  let ts = now;
  const rawTs = fields.ts;
  if (!isAbsent(rawTs)) {
    ts = epochSecondsOf(rawTs);
    if (!(ts > 0 && ts <= now + MAX_FUTURE_SECONDS)) return RECORD_ERRORS.invalidTimestamp;
  }

  const isEvent = type === 'event';
  let event: string | undefined;
  if (isEvent) {
    const name = fields.evtName;
    event = typeof name === 'string' ? normalizeEventName(name) : undefined;
    if (event === undefined) return RECORD_ERRORS.eventNameMissing;
    const data = fields.evtData;
    if (!isAbsent(data) && !isPlainObject(data)) return RECORD_ERRORS.invalidStructure;
  } else {
    const data = fields.profileData;
    if (!isAbsent(data) && !isPlainObject(data)) return RECORD_ERRORS.invalidStructure;
  }

  const session = fields.session;
  if (isAbsent(session)) {
    if (isEvent) activities.push(activityOf(user, ts, { event }));
    return undefined;
  }
  if (!isPlainObject(session)) return RECORD_ERRORS.invalidStructure;
  const { source, browser, os, device, page, country, app_version, ua, referrer, url, ip }: SessionFields =
    session;
  if (
    !isOptionalString(source) ||
    !isOptionalString(browser) ||
    !isOptionalString(os) ||
    !isOptionalString(device) ||
    !isOptionalString(page) ||
    !isOptionalString(country) ||
    !isOptionalString(app_version) ||
    !isOptionalString(ua) ||
    !isOptionalString(referrer) ||
    !isOptionalString(url) ||
    !isOptionalString(ip)
  ) {
    return RECORD_ERRORS.invalidStructure;
  }
  if (!isEvent) return undefined;

  let sessionSource = typeof source === 'string' ? known(normalizeSessionSource(source)) : undefined;
  let browserValue = typeof browser === 'string' ? known(normalizeBrowser(browser)) : undefined;
  let osValue = typeof os === 'string' ? known(normalizeOs(os)) : undefined;
  let deviceValue = typeof device === 'string' ? known(normalizeDevice(device)) : undefined;
  const pageValue =
    (typeof page === 'string' ? known(normalizePage(page)) : undefined) ??
    (typeof url === 'string' ? normalizePage(url) : undefined);
  let countryValue = typeof country === 'string' ? normalizeCountry(country) : undefined;
  if (countryValue === undefined && typeof ip === 'string') countryValue = options.countryOfIp?.(ip);
  const appVersion = typeof app_version === 'string' ? known(normalizeAppVersion(app_version)) : undefined;

  const derive = options.deriveSession;
  if (
    derive !== undefined &&
    (typeof ua === 'string' || typeof referrer === 'string' || typeof url === 'string')
  ) {
    const derived = derive({
      ua: typeof ua === 'string' ? ua : undefined,
      referrer: typeof referrer === 'string' ? referrer : undefined,
      url: typeof url === 'string' ? url : undefined,
    });
    if (derived.bot === true) {
      // A bot's activity: its user active in the bot lane, with no dimension values.
      bots.push(activityOf(user, ts));
      return undefined;
    }
    sessionSource ??= derived.sessionSource;
    browserValue ??= derived.browser;
    osValue ??= derived.os;
    deviceValue ??= derived.device;
  }
  activities.push(
    activityOf(user, ts, {
      sessionSource,
      browser: browserValue,
      os: osValue,
      device: deviceValue,
      page: pageValue,
      country: countryValue,
      appVersion,
      event,
    }),
  );
  return undefined;
}

/** True for a string or an absent value (undefined or null). */
function isOptionalString(value: unknown): value is string | undefined | null {
  return value === undefined || value === null || typeof value === 'string';
}

/**
 * Unknown is represented by absence, so an explicit value that says nothing (empty, 'unknown', a
 * device outside the vocabulary) leaves the dimension open to derivation.
 */
function known(value: NormalizedValue): NormalizedValue {
  return value === UNKNOWN ? undefined : value;
}

/** The user key (first present identifier) or the error that rejects the record. */
function userKeyOf(record: RecordFields): string | RecordError {
  for (let k = 0; k < KEY_FIELDS.length; k++) {
    const field = KEY_FIELDS[k];
    const value = record[field];
    if (value === undefined || value === null || value === '') continue;
    let key: string;
    if (typeof value === 'string') {
      key = value;
    } else if (field === 'objectId') {
      return RECORD_ERRORS.invalidObjectId;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      key = String(value);
    } else {
      return RECORD_ERRORS.invalidStructure;
    }
    return key.length > MAX_USER_KEY_LENGTH ? RECORD_ERRORS.identityMissing : key;
  }
  return RECORD_ERRORS.identityMissing;
}

/** `ts` as epoch seconds, or NaN when it is neither an integer number nor a string of digits. */
function epochSecondsOf(value: unknown): number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number.NaN;
  if (typeof value !== 'string' || value.length === 0) return Number.NaN;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return Number.NaN;
  }
  return Number(value);
}
