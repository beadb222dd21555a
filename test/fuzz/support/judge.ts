import type { Activity } from '../../../src/model/activity.js';
import type { NowQuery, NowResult } from '../../../src/model/now-query.js';
import { SPLIT_NAMES } from '../../../src/protocol/dimensions.js';
import { API_ERRORS } from '../../../src/protocol/error-catalogue.js';
import { expectedBodyText } from '../../support/expected-body.js';
import {
  type EventSpec,
  HIT_AGENTS,
  HIT_PAGES,
  type HitSpec,
  MUTATION_CODES,
  type RecordSpec,
  type RequestSpec,
  type TokenSpec,
  type Who,
} from './request-specs.js';
import {
  recordJson,
  uploadText,
  userKey,
  type WireAnswer,
  type WireContext,
  type WireRequest,
} from './wire.js';

/**
 * What a response must look like, worked out from the request spec alone (never from the server's
 * code), and what an accepted request stored.
 */

export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_JSON_DEPTH = 128;

/** The record errors of docs/api.md, by code. */
const RECORD_MESSAGES: Record<number, string> = {
  509: 'Event name mandatory',
  512: 'Invalid event structure',
  523: 'Missing identity',
  524: 'Data neither event nor profile',
  525: 'Timestamp not in UNIX epoch format',
  526: 'objectId invalid',
};

/** The `/1/now/stream` query: every split, user_type and the timeline, default window. */
export const STREAM_QUERY: NowQuery = { window: 300, userType: true, splits: SPLIT_NAMES, timeline: true };

/**
 * The now.json body the oracle's answer renders as, timeline included, and `as_of` (the answer's
 * time) when the request used an extension.
 */
export function renderExpected(result: NowResult, asOf?: number, bots?: number): string {
  return expectedBodyText(result, { timeline: result.timeline, bots, as_of: asOf });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');

/** True when `message` is a catalogue message of `status`, its {placeholders} filled. */
export function isCatalogueMessage(status: number, message: string): boolean {
  return Object.values(API_ERRORS).some(
    (entry) =>
      entry.status === status &&
      new RegExp(`^${escapeRegExp(entry.message).replace(/\\\{\w+\\\}/g, '.*')}$`, 's').test(message),
  );
}

/** Problems with an error response: anything but the exact envelope of a catalogue error. */
export function envelopeProblem(answer: WireAnswer): string | undefined {
  if (!/^application\/json(;|$)/.test(answer.headers['content-type'] ?? '')) {
    return `error without a JSON Content-Type (${answer.headers['content-type']})`;
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'error body is not JSON';
  }
  const { status, error, code } = (body ?? {}) as Record<string, unknown>;
  if (JSON.stringify(Object.keys(body ?? {})) !== '["status","error","code"]')
    return 'error body is not the envelope';
  if (status !== 'fail') return 'envelope status is not "fail"';
  if (code !== answer.status) return `envelope code ${String(code)} differs from HTTP ${answer.status}`;
  if (typeof error !== 'string' || !isCatalogueMessage(answer.status, error)) {
    return `"${String(error)}" is not a ${answer.status} of the catalogue`;
  }
  if (answer.status === 405 && answer.headers.allow === undefined) return '405 without Allow';
  if (answer.status === 429 && answer.headers['retry-after'] === undefined) return '429 without Retry-After';
  return undefined;
}

// ------------------------------------------------------------------------------------------ effects

/** The activity a valid event record stands for, received at `now`. */
export function activityOfEvent(event: EventSpec, now: number): Activity {
  return {
    user: userKey(event.user),
    ts: event.age === undefined ? now : now - event.age,
    sessionSource: event.source,
    browser: event.browser,
    os: event.os,
    device: event.device,
    page: event.page,
    country: event.country,
    appVersion: event.appVersion,
    // Kept trimmed (docs/semantics.md §14); the names drawn are shorter than the 128 kept.
    event: event.evtName.trim(),
  };
}

/** The activity a valid hit stands for, and whether it is a bot's (counted in the bot lane). */
export function activityOfHit(hit: HitSpec, now: number): { activity: Activity; bot: boolean } {
  const dims = HIT_AGENTS[hit.agent].dims;
  const user = userKey(hit.user).trim();
  if (dims === undefined) return { activity: { user, ts: now }, bot: true };
  return {
    activity: {
      user,
      ts: now,
      sessionSource: HIT_PAGES[hit.page].source,
      browser: dims.browser,
      os: dims.os,
      device: dims.device,
      // Hits come from 127.0.0.1, which no country holds.
      page: hit.path,
      event: hit.kind === 'pageview' ? 'Page Viewed' : undefined,
    },
    bot: false,
  };
}

/** The `processed` / `unprocessed` an upload of these records answers. */
export function expectedUploadAnswer(records: readonly RecordSpec[], now: number): string {
  let processed = 0;
  const unprocessed: object[] = [];
  records.forEach((spec, i) => {
    if (spec.kind !== 'broken') {
      processed++;
      return;
    }
    const code = MUTATION_CODES[spec.mutation.kind];
    unprocessed.push({
      status: 'fail',
      code,
      error: `${RECORD_MESSAGES[code]}. Skipped record number : ${i + 1}`,
      record: JSON.stringify(recordJson(spec, now)),
    });
  });
  return JSON.stringify({ status: 'success', processed, unprocessed });
}

/** `dryRun` as the query says it: documented values only; several or a bad one are refused. */
export function dryRunOf(spec: RequestSpec): boolean | 'refused' {
  const parts = spec.query.filter((part) => part.kind === 'dryRun');
  if (parts.length === 0) return false;
  if (parts.length > 1) return 'refused';
  const { value } = parts[0] as { value: string };
  if (value === 'maybe') return 'refused';
  return value === '1' || value === 'true' || value === '%31';
}

/** Who the credential headers authenticate as, if anyone. */
export function authenticatedAs(spec: RequestSpec): Who | undefined {
  return spec.credentials?.kind === 'right' ? spec.credentials.who : undefined;
}

/**
 * Who a stream request may read: its read token's account (a token wins over credential headers;
 * an account id header sent beside it, as the server sees it, must name the same account), or the
 * account its credential headers authenticate.
 */
export function streamReader(spec: RequestSpec, wire: WireRequest, ctx: WireContext): Who | undefined {
  const tokens = spec.query.filter((part) => part.kind === 'token');
  if (tokens.length === 0) return authenticatedAs(spec);
  if (tokens.length > 1) return undefined;
  const { token } = tokens[0] as { token: TokenSpec };
  if (token.kind !== 'issued') return undefined;
  const ids = wire.headers.filter(([name]) => name.toLowerCase() === 'x-clevertap-account-id');
  if (ids.length === 0) return token.who;
  return ids.length === 1 && ids[0][1].trim() === ctx.accounts[token.who].id ? token.who : undefined;
}

// ----------------------------------------------------------------------------- clean expectations

/**
 * A request sent as documented (no framing, path or header tricks, the route's method and usual
 * Content-Type, right credentials where needed, body intact): the status it must get. Undefined
 * for every other request, which only the general properties judge.
 */
export function cleanStatus(
  spec: RequestSpec,
  wire: WireRequest,
  ctx: WireContext,
  registered: (method: string, url: string) => boolean,
): number | undefined {
  const simpleHeaders = spec.extraHeaders.every(
    (h) => h.kind !== 'content-encoding' && !(h.kind === 'long' && h.bytes > 8000),
  );
  if (
    !['normal', 'chunked', 'http10-no-host'].includes(spec.framing) ||
    !wire.headers.every(([, value]) => isFieldValue(value)) ||
    spec.pathMutation.kind !== 'none' ||
    spec.method !== spec.route.method ||
    spec.contentType !== 'usual' ||
    spec.corruption !== undefined ||
    !simpleHeaders ||
    spec.query.some((part) => part.kind === 'junk' && /%(?![0-9a-f]{2})/i.test(part.text))
  ) {
    return undefined;
  }
  const path = spec.route.path;
  if (!registered(spec.route.method, path)) return 404;
  if (spec.route.authenticated) {
    if (authenticatedAs(spec) === undefined) return spec.credentials?.kind === 'right' ? undefined : 401;
    if (path === '/1/upload') return cleanUploadStatus(spec, ctx);
    if (path === '/1/now.json') {
      if (spec.body.kind === 'none') return 200;
      if (spec.body.kind !== 'now') return undefined;
      return spec.body.body.kind === 'valid' ? 200 : 400;
    }
    if (path === '/1/now/token') {
      if (spec.body.kind === 'none') return 200;
      if (spec.body.kind !== 'json') return undefined;
      const { value } = spec.body;
      return typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length === 0
        ? 200
        : 400;
    }
    return undefined;
  }
  if (path === '/1/collect') {
    if (spec.body.kind !== 'hit') return undefined;
    const mutation = spec.body.hit.mutation;
    if (mutation === undefined) return 202;
    return ['wrong-token', 'passcode-as-token', 'unknown-account', 'foreign-region'].includes(mutation)
      ? 401
      : 400;
  }
  if (path === '/1/now/stream') return streamReader(spec, wire, ctx) === undefined ? 401 : 200;
  const matchesAll = spec.extraHeaders.some(
    (h) => h.kind === 'if-none-match' && /(^|,)\s*\*\s*$/.test(h.value),
  );
  if (['/activenow.js', '/dashboard', '/dashboard/app.js', '/dashboard/style.css'].includes(path)) {
    return matchesAll ? 304 : 200;
  }
  if (path === '/healthz' || path === '/readyz') return 200;
  // /metrics and /openapi.json: whatever their authors decided, as long as it is not a 404 or 5xx.
  return undefined;
}

/** A header value HTTP allows: no control characters but tab (bytes past 0x7f pass as obs-text). */
function isFieldValue(value: string): boolean {
  return [...value].every((c) => c === '\t' || (c >= ' ' && c !== '\x7f'));
}

function cleanUploadStatus(spec: RequestSpec, ctx: WireContext): number | undefined {
  // No body: no records (or a refused dryRun first), 400 either way.
  if (spec.body.kind === 'none') return 400;
  if (spec.body.kind !== 'upload') return undefined;
  const { wrapper, records } = spec.body;
  const json = records.map((r) => recordJson(r, ctx.now));
  const size = Buffer.byteLength(uploadText(wrapper, json));
  if (size > MAX_BODY_BYTES) return 413;
  if (wrapper.kind === 'nested' && wrapper.depth + 1 > MAX_JSON_DEPTH) return 400;
  if (dryRunOf(spec) === 'refused') return 400;
  if (wrapper.kind === 'd-missing' || wrapper.kind === 'd-not-array' || wrapper.kind === 'not-object')
    return 400;
  return wrapper.kind === 'too-many' ? 400 : 200;
}
