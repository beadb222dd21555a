import { connect } from 'node:net';
import type { AccountCredentials } from '../../../src/accounts/account-registry.js';
import { issueReadToken } from '../../../src/http/read-token.js';
import { parseResponse } from '../../support/raw-http.js';
import {
  type BodySpec,
  CONTENT_TYPES,
  type Corruption,
  type CredentialSpec,
  type EventSpec,
  type Framing,
  type HeaderCasing,
  HIT_AGENTS,
  HIT_PAGES,
  type HitSpec,
  type Json,
  type NowBodySpec,
  type PathMutation,
  type RecordSpec,
  type RequestSpec,
  type TokenSpec,
  type UploadWrapper,
  USERS,
  type Who,
} from './request-specs.js';

/** What a spec needs to become bytes: the accounts of the run, the clock, the token key. */
export interface WireContext {
  readonly port: number;
  readonly accounts: Readonly<Record<Who | 'C', AccountCredentials>>;
  readonly now: number;
  readonly readTokenKey: Buffer;
}

export interface WireRequest {
  readonly transport: 'fetch' | 'raw';
  readonly method: string;
  /** Path and query as written (fetch may still normalize dot segments and encode). */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer | undefined;
  readonly framing: Framing;
}

export interface WireAnswer {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** For an event stream: what arrived up to the end of the first event. */
  readonly text: string;
  /**
   * The connection was reset before the whole body arrived (the head did). Happens when a server
   * closes a `Connection: close` socket on which request bytes it never read are still arriving:
   * the kernel answers them with a reset, which can discard the end of the response in flight.
   */
  readonly truncated?: boolean;
}

/** Seconds a read token lives, as the server issues them. */
const READ_TOKEN_TTL = 300;
const ANSWER_PATIENCE_MS = 15_000;
const FIRST_EVENT_PATIENCE_MS = 5_000;

// ------------------------------------------------------------------------------------------ bodies

export function userKey(index: number): string {
  return USERS[index];
}

/** The record an event spec stands for, at server time `now`. */
export function eventRecord(event: EventSpec, now: number): Record<string, Json> {
  const key = userKey(event.user);
  const record: Record<string, Json> = {
    [event.idField]:
      event.idField === 'identity' && event.numericId && /^[1-9]\d*$/.test(key) ? Number(key) : key,
    type: 'event',
    evtName: event.evtName,
  };
  if (event.age !== undefined) {
    const ts = now - event.age;
    record.ts = event.tsAsString ? String(ts) : ts;
  }
  if (event.evtData !== undefined) record.evtData = event.evtData;
  const session: Record<string, Json> = {};
  if (event.source !== undefined) session.source = event.source;
  if (event.browser !== undefined) session.browser = event.browser;
  if (event.os !== undefined) session.os = event.os;
  if (event.device !== undefined) session.device = event.device;
  if (event.page !== undefined) session.page = event.page;
  if (event.country !== undefined) session.country = event.country;
  if (event.appVersion !== undefined) session.app_version = event.appVersion;
  if (Object.keys(session).length > 0) record.session = session;
  return record;
}

export function recordJson(spec: RecordSpec, now: number): Json {
  if (spec.kind === 'event') return eventRecord(spec.event, now);
  if (spec.kind === 'profile') {
    const profile: Record<string, Json> = { identity: userKey(spec.user), type: 'profile' };
    if (spec.data !== undefined) profile.profileData = spec.data;
    return profile;
  }
  const record = eventRecord(spec.event, now);
  const { mutation } = spec;
  const set = (name: string, value: Json | undefined) => {
    if (value === undefined) delete record[name];
    else record[name] = value;
  };
  switch (mutation.kind) {
    case 'not-object':
      return mutation.value;
    case 'type':
      set('type', mutation.value);
      break;
    case 'no-identifier':
      set(spec.event.idField, undefined);
      break;
    case 'identity':
      set(spec.event.idField, undefined);
      set('identity', mutation.value);
      break;
    case 'object-id':
      set(spec.event.idField, undefined);
      set('objectId', mutation.value);
      break;
    case 'ts':
      set('ts', mutation.future === undefined ? mutation.value : now + mutation.future);
      break;
    case 'evt-name':
      set('evtName', mutation.value);
      break;
    case 'evt-data':
      set('evtData', mutation.value);
      break;
    case 'session':
      set('session', mutation.value);
      break;
    case 'session-field':
      set('session', {
        ...((record.session as Record<string, Json> | undefined) ?? {}),
        [mutation.field]: mutation.value,
      });
      break;
  }
  return record;
}

/** Records past the API's limit of 1000, cycling through the spec's (or one valid event). */
export const TOO_MANY_RECORDS = 1001;

export function uploadText(wrapper: UploadWrapper, records: readonly Json[]): string {
  switch (wrapper.kind) {
    case 'ok':
      return JSON.stringify({ ...wrapper.extra, d: records });
    case 'nested': {
      const [open, close] = wrapper.open === '[' ? ['[', ']'] : ['{"a":', '}'];
      const inner = wrapper.open === '[' ? '' : '1';
      return `{"d":${JSON.stringify(records)},"x":${open.repeat(wrapper.depth)}${inner}${close.repeat(wrapper.depth)}}`;
    }
    case 'padded': {
      const base = JSON.stringify({ d: records, pad: '' });
      const pad = Math.max(0, wrapper.bytes - Buffer.byteLength(base));
      return base.replace(/"pad":""}$/, `"pad":"${'x'.repeat(pad)}"}`);
    }
    case 'd-missing':
      return JSON.stringify({ records });
    case 'd-not-array':
      return JSON.stringify({ d: wrapper.value });
    case 'not-object':
      return JSON.stringify(records);
    case 'too-many': {
      const pool = records.length > 0 ? records : [{ identity: 'fz-0', type: 'event', evtName: 'x' }];
      return JSON.stringify({ d: Array.from({ length: TOO_MANY_RECORDS }, (_, i) => pool[i % pool.length]) });
    }
  }
}

export function nowBodyJson(body: NowBodySpec): Json {
  switch (body.kind) {
    case 'valid':
      return {
        ...body.flags,
        ...(body.window === undefined ? {} : { window: body.window }),
        ...(body.top === undefined ? {} : { top: body.top }),
        ...(body.filter === undefined ? {} : { filter: body.filter as Json }),
      };
    case 'unknown-key':
      return { [body.key]: true };
    case 'mistyped':
      return { [body.key]: body.value };
  }
}

export function hitJson(hit: HitSpec, ctx: WireContext): Json {
  const own = ctx.accounts[hit.who];
  const page = HIT_PAGES[hit.page];
  const body: Record<string, Json> = {
    account: own.id,
    token: own.token,
    user: userKey(hit.user),
    kind: hit.kind,
  };
  if (page.url !== undefined) body.url = page.url;
  if (page.referrer !== undefined) body.referrer = page.referrer;
  if (hit.path !== undefined) body.page = hit.path;
  switch (hit.mutation) {
    case undefined:
      break;
    case 'wrong-token':
      body.token = ctx.accounts[hit.who === 'A' ? 'B' : 'A'].token;
      break;
    case 'passcode-as-token':
      body.token = own.passcode;
      break;
    case 'unknown-account':
      body.account = 'ZZZ-ZZZ-ZZZZ';
      break;
    case 'foreign-region':
      body.account = ctx.accounts.C.id;
      body.token = ctx.accounts.C.token;
      break;
    case 'unknown-field':
      body.ts = ctx.now;
      break;
    case 'bad-kind':
      body.kind = 'click';
      break;
    case 'blank-user':
      body.user = ' \t ';
      break;
    case 'long-user':
      body.user = 'u'.repeat(121);
      break;
    case 'long-url':
      body.url = `https://shop.example/?${'q'.repeat(4097)}`;
      break;
    case 'url-not-string':
      body.url = 42;
      break;
    case 'no-token':
      delete body.token;
      break;
    case 'not-object':
      return [body];
  }
  return body;
}

export function bodyBytes(body: BodySpec, ctx: WireContext): Buffer | undefined {
  switch (body.kind) {
    case 'none':
      return undefined;
    case 'upload':
      return Buffer.from(
        uploadText(
          body.wrapper,
          body.records.map((r) => recordJson(r, ctx.now)),
        ),
      );
    case 'now':
      return Buffer.from(JSON.stringify(nowBodyJson(body.body)));
    case 'hit':
      return Buffer.from(JSON.stringify(hitJson(body.hit, ctx)));
    case 'json':
      return Buffer.from(JSON.stringify(body.value));
    case 'text':
      return Buffer.from(body.text);
    case 'bytes':
      return Buffer.from(body.bytes);
    case 'deep':
      return Buffer.from(`${'['.repeat(body.depth)}${']'.repeat(body.depth)}`);
  }
}

/** Bodies whose corruption is sure to leave them invalid JSON, invalid UTF-8 or not an object. */
export function corruptible(body: BodySpec): boolean {
  return ['upload', 'now', 'hit', 'json', 'deep'].includes(body.kind);
}

export function corrupt(bytes: Buffer, corruption: Corruption): Buffer {
  const at = (fraction: number) => Math.floor(fraction * bytes.length);
  switch (corruption.kind) {
    case 'nul':
      return Buffer.concat([
        bytes.subarray(0, at(corruption.at)),
        Buffer.from([0]),
        bytes.subarray(at(corruption.at)),
      ]);
    case 'invalid-utf8':
      return Buffer.concat([
        bytes.subarray(0, at(corruption.at)),
        Buffer.from(corruption.bytes),
        bytes.subarray(at(corruption.at)),
      ]);
    case 'truncate':
      // At least one byte kept: an empty body means "no parameters" to some routes.
      return bytes.subarray(0, Math.min(bytes.length - 1, Math.max(1, at(corruption.at))));
    case 'append':
      return Buffer.concat([bytes, Buffer.from(corruption.junk)]);
  }
}

// ----------------------------------------------------------------------------------------- headers

function cased(name: string, casing: HeaderCasing): string {
  switch (casing) {
    case 'canonical':
      return name;
    case 'lower':
      return name.toLowerCase();
    case 'upper':
      return name.toUpperCase();
    case 'alternating':
      return [...name].map((c, i) => (i % 2 === 0 ? c.toLowerCase() : c.toUpperCase())).join('');
  }
}

const ID = 'X-CleverTap-Account-Id';
const PASSCODE = 'X-CleverTap-Passcode';

function credentialHeaders(spec: CredentialSpec, ctx: WireContext): [string, string][] {
  const { A, B, C } = ctx.accounts;
  const other = (who: Who) => (who === 'A' ? B : A);
  switch (spec.kind) {
    case 'right': {
      const own = ctx.accounts[spec.who];
      return spec.padded
        ? [
            [ID, `  ${own.id}\t`],
            [PASSCODE, ` ${own.passcode} `],
          ]
        : [
            [ID, own.id],
            [PASSCODE, own.passcode],
          ];
    }
    case 'wrong-passcode':
      return [
        [ID, ctx.accounts[spec.who].id],
        [PASSCODE, other(spec.who).passcode],
      ];
    case 'unknown-account':
      return [
        [ID, 'ZZZ-ZZZ-ZZZZ'],
        [PASSCODE, A.passcode],
      ];
    case 'foreign-region':
      return [
        [ID, C.id],
        [PASSCODE, C.passcode],
      ];
    case 'missing':
      if (spec.which === 'both') return [];
      return spec.which === 'id' ? [[PASSCODE, A.passcode]] : [[ID, A.id]];
    case 'empty':
      return [
        [ID, ''],
        [PASSCODE, ''],
      ];
    case 'long':
      return spec.which === 'id'
        ? [
            [ID, `${A.id}${'A'.repeat(spec.length)}`],
            [PASSCODE, A.passcode],
          ]
        : [
            [ID, A.id],
            [PASSCODE, `${A.passcode}${'p'.repeat(spec.length)}`],
          ];
    case 'garbage':
      return [
        [ID, spec.id],
        [PASSCODE, spec.passcode],
      ];
    case 'duplicated': {
      const own = ctx.accounts[spec.who];
      const second = spec.secondWrong ? other(spec.who) : own;
      return [
        [ID, own.id],
        [PASSCODE, own.passcode],
        [ID, second.id],
        [PASSCODE, second.passcode],
      ];
    }
  }
}

/** The read token a spec stands for, signed with the server's key where it should verify. */
export function readToken(spec: TokenSpec, ctx: WireContext): string {
  switch (spec.kind) {
    case 'issued':
      return issueReadToken(ctx.readTokenKey, ctx.accounts[spec.who].id, ctx.now + READ_TOKEN_TTL);
    case 'expired':
      return issueReadToken(ctx.readTokenKey, ctx.accounts[spec.who].id, ctx.now - 1);
    case 'foreign-region':
      return issueReadToken(ctx.readTokenKey, ctx.accounts.C.id, ctx.now + READ_TOKEN_TTL);
    case 'tampered': {
      const token = issueReadToken(ctx.readTokenKey, ctx.accounts[spec.who].id, ctx.now + READ_TOKEN_TTL);
      const i = Math.floor(spec.at * token.length);
      return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    }
    case 'garbage':
      return spec.text;
  }
}

// -------------------------------------------------------------------------------------------- path

export function mutatePath(path: string, mutation: PathMutation): string {
  switch (mutation.kind) {
    case 'none':
      return path;
    case 'trailing-slash':
      return `${path}/`;
    case 'upper-case':
      return path.toUpperCase();
    case 'encode-char': {
      const start = path.lastIndexOf('/') + 1;
      // Nothing after the last slash (`/`, `/1/`): encode a character appended there instead.
      if (start === path.length) return `${path}%7${mutation.lowerHex ? 'e' : 'E'}`;
      const i = Math.min(path.length - 1, start + Math.floor(mutation.at * (path.length - start)));
      const hex = path.charCodeAt(i).toString(16).padStart(2, '0');
      return `${path.slice(0, i)}%${mutation.lowerHex ? hex.toLowerCase() : hex.toUpperCase()}${path.slice(i + 1)}`;
    }
    case 'encoded-slash': {
      // Not the leading slash: a target must start with one.
      const cut = path.lastIndexOf('/');
      return cut > 0 ? `${path.slice(0, cut)}%2F${path.slice(cut + 1)}` : `${path}%2F`;
    }
    case 'dot-segment': {
      const cut = path.lastIndexOf('/');
      return `${path.slice(0, cut)}${mutation.parent ? '/zz/..' : '/.'}${path.slice(cut)}`;
    }
    case 'double-slash':
      return `/${path}`;
    case 'suffix':
      return `${path}${mutation.suffix}`;
    case 'repeat':
      return path.repeat(mutation.times);
  }
}

export function queryString(spec: RequestSpec, ctx: WireContext): string {
  if (spec.query.length === 0) return '';
  const parts = spec.query.map((part) => {
    if (part.kind === 'dryRun') return `dryRun=${part.value}`;
    if (part.kind === 'token') return `token=${encodeURIComponent(readToken(part.token, ctx))}`;
    return part.text;
  });
  return `?${parts.join('&')}`;
}

// -------------------------------------------------------------------------------------- the wire

/** The usual Content-Type of a route's body: text/plain for the tracker's hits (as sendBeacon sends). */
function usualContentType(spec: RequestSpec): string | undefined {
  if (spec.body.kind === 'none') return undefined;
  return spec.route.path === '/1/collect' ? 'text/plain;charset=UTF-8' : 'application/json';
}

export function contentTypeOf(spec: RequestSpec): string | undefined {
  return spec.contentType === 'usual'
    ? usualContentType(spec)
    : spec.contentType === undefined
      ? undefined
      : CONTENT_TYPES[spec.contentType];
}

/** The hit's User-Agent: fetch would otherwise send its own. */
function userAgentOf(spec: RequestSpec): string | undefined {
  return spec.body.kind === 'hit' ? HIT_AGENTS[spec.body.hit.agent].ua : undefined;
}

const FETCH_METHODS = /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|PROPFIND|FOO|SEARCH|QUERY)$/;

/** fetch (undici) refuses some header values and rewrites some requests: those go raw. */
function fetchCanSay(
  method: string,
  headers: readonly (readonly [string, string])[],
  body: Buffer | undefined,
): boolean {
  if (!FETCH_METHODS.test(method)) return false;
  if ((method === 'GET' || method === 'HEAD') && body !== undefined) return false;
  return headers.every(
    ([name, value]) =>
      name.toLowerCase() !== 'expect' &&
      // No control characters, nothing beyond Latin-1, no surrounding whitespace fetch would trim.
      /^[\x20-\x7e\x80-\xff]*$/.test(value) &&
      value === value.trim(),
  );
}

export function toWire(spec: RequestSpec, ctx: WireContext): WireRequest {
  const headers: [string, string][] = [];
  const casing = spec.casing;
  if (spec.credentials !== undefined) {
    for (const [name, value] of credentialHeaders(spec.credentials, ctx))
      headers.push([cased(name, casing), value]);
  }
  const idHeader = spec.query.find((part) => part.kind === 'token' && part.token.kind === 'issued');
  if (idHeader?.kind === 'token' && idHeader.token.kind === 'issued' && idHeader.token.idHeader !== 'none') {
    const named =
      idHeader.token.idHeader === 'same' ? idHeader.token.who : idHeader.token.who === 'A' ? 'B' : 'A';
    if (!headers.some(([name]) => name.toLowerCase() === ID.toLowerCase())) {
      headers.push([cased(ID, casing), ctx.accounts[named].id]);
    }
  }
  const type = contentTypeOf(spec);
  if (type !== undefined) headers.push([cased('Content-Type', casing), type]);
  const agent = userAgentOf(spec);
  if (agent !== undefined) headers.push([cased('User-Agent', casing), agent]);
  for (const extra of spec.extraHeaders) {
    switch (extra.kind) {
      case 'if-none-match':
        headers.push([cased('If-None-Match', casing), extra.value]);
        break;
      case 'expect-continue':
        headers.push(['Expect', '100-continue']);
        break;
      case 'content-encoding':
        headers.push([cased('Content-Encoding', casing), extra.value]);
        break;
      case 'origin':
        headers.push(['Origin', extra.value]);
        break;
      case 'accept':
        headers.push(['Accept', extra.value]);
        break;
      case 'junk':
        headers.push([extra.name, extra.value]);
        break;
      case 'long':
        headers.push(['X-Long', 'v'.repeat(extra.bytes)]);
        break;
    }
  }
  let body = bodyBytes(spec.body, ctx);
  if (body !== undefined && spec.corruption !== undefined && corruptible(spec.body) && body.length >= 2) {
    body = corrupt(body, spec.corruption);
  }
  const target = `${mutatePath(spec.route.path, spec.pathMutation)}${queryString(spec, ctx)}`;
  const raw = spec.raw || spec.framing !== 'normal' || !fetchCanSay(spec.method, headers, body);
  return {
    transport: raw ? 'raw' : 'fetch',
    method: spec.method,
    target,
    headers,
    body,
    framing: spec.framing,
  };
}

/** True when the spec's body was sent corrupted (see `corrupt`). */
export function wasCorrupted(spec: RequestSpec, ctx: WireContext): boolean {
  if (spec.corruption === undefined || !corruptible(spec.body)) return false;
  return (bodyBytes(spec.body, ctx)?.length ?? 0) >= 2;
}

// -------------------------------------------------------------------------------------- sending

export async function send(request: WireRequest, port: number): Promise<WireAnswer> {
  return request.transport === 'fetch' ? sendFetch(request, port) : sendRaw(request, port);
}

async function sendFetch(request: WireRequest, port: number): Promise<WireAnswer> {
  const headers = new Headers();
  for (const [name, value] of request.headers) headers.append(name, value);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ANSWER_PATIENCE_MS);
  try {
    const response = await fetch(`http://127.0.0.1:${port}${request.target}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: 'manual',
      signal: controller.signal,
    });
    const answerHeaders = Object.fromEntries(response.headers);
    if (!answerHeaders['content-type']?.startsWith('text/event-stream')) {
      return { status: response.status, headers: answerHeaders, text: await response.text() };
    }
    // A stream never ends: read its first event, then hang up.
    const reader = response.body?.getReader();
    let text = '';
    const deadline = Date.now() + FIRST_EVENT_PATIENCE_MS;
    while (reader !== undefined && !text.includes('\n\n') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    return { status: response.status, headers: answerHeaders, text };
  } finally {
    clearTimeout(timer);
  }
}

const CRLF = '\r\n';

function line(text: string): Buffer {
  // Header values beyond Latin-1 go as UTF-8, as a client that does not check them would send them.
  return Buffer.from(text, [...text].every((c) => c.charCodeAt(0) <= 0xff) ? 'latin1' : 'utf8');
}

function chunked(body: Buffer): Buffer {
  const half = Math.floor(body.length / 2);
  const parts = [body.subarray(0, half), body.subarray(half)].filter((part) => part.length > 0);
  return Buffer.concat([
    ...parts.flatMap((part) => [Buffer.from(`${part.length.toString(16)}${CRLF}`), part, Buffer.from(CRLF)]),
    Buffer.from(`0${CRLF}${CRLF}`),
  ]);
}

/** The request as bytes, framed (or misframed) as its spec says. */
export function rawBytes(request: WireRequest, port: number): Buffer {
  const { framing } = request;
  const body = request.body ?? Buffer.alloc(0);
  const version =
    framing === 'bad-version' ? 'HTTP/9.9' : framing === 'http10-no-host' ? 'HTTP/1.0' : 'HTTP/1.1';
  const lines: string[] = [
    framing === 'garbage-request-line'
      ? 'GARBAGE \u0001\u0002'
      : `${request.method} ${request.target} ${version}`,
  ];
  if (framing !== 'no-host' && framing !== 'http10-no-host') lines.push(`Host: 127.0.0.1:${port}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const hasBody = request.body !== undefined || ['POST', 'PUT', 'PATCH'].includes(request.method);
  let payload = body;
  switch (framing) {
    case 'chunked':
    case 'bad-chunk-size':
    case 'length-and-chunked':
      if (framing === 'length-and-chunked') lines.push(`Content-Length: ${body.length}`);
      lines.push('Transfer-Encoding: chunked');
      payload =
        framing === 'bad-chunk-size'
          ? Buffer.concat([Buffer.from(`zz${CRLF}`), body, Buffer.from(`${CRLF}0${CRLF}${CRLF}`)])
          : chunked(body);
      break;
    case 'bad-content-length':
      lines.push('Content-Length: abc');
      break;
    case 'two-content-lengths':
      lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
      break;
    default:
      if (hasBody) lines.push(`Content-Length: ${body.length}`);
  }
  if (framing === 'header-without-colon') lines.push('NotAHeader');
  if (framing === 'space-before-colon') lines.push('X-Thing : 1');
  if (framing === 'nul-in-header') lines.push('X-Nul: a\u0000b');
  if (framing === 'obs-fold') lines.push(`X-Folded: a${CRLF} b`);
  if (framing !== 'trailing-garbage') lines.push('Connection: close');
  const eol = framing === 'bare-lf' ? '\n' : CRLF;
  const head = Buffer.concat([
    ...lines.map((l) => Buffer.concat([line(l), Buffer.from(eol)])),
    Buffer.from(eol),
  ]);
  const trailer = framing === 'trailing-garbage' ? Buffer.from(`garbage${CRLF}${CRLF}`) : Buffer.alloc(0);
  return Buffer.concat([head, payload, trailer]);
}

/** The status line and headers of a response whose head is complete, or undefined. */
function parseHead(
  buffer: Buffer,
): { status: number; headers: Record<string, string>; end: number } | undefined {
  let start = 0;
  for (;;) {
    const end = buffer.indexOf('\r\n\r\n', start);
    if (end < 0) return undefined;
    const lines = buffer.subarray(start, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
    if (Number.isNaN(status)) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
    // Interim responses (100 Continue) come before the real one.
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const headerLine of lines.slice(1)) {
      const colon = headerLine.indexOf(':');
      const name = headerLine.slice(0, colon).trim().toLowerCase();
      const value = headerLine.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return { status, headers, end: end + 4 };
  }
}

function sendRaw(request: WireRequest, port: number): Promise<WireAnswer> {
  const bodiless = request.method === 'HEAD';
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let buffer = Buffer.alloc(0);
    let ended = false;
    let settled = false;
    const finish = (outcome: WireAnswer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const look = () => {
      try {
        const head = parseHead(buffer);
        if (head === undefined) {
          if (ended)
            finish(
              new Error(`connection closed without a response: ${JSON.stringify(buffer.toString('latin1'))}`),
            );
          return;
        }
        const rest = buffer.subarray(head.end);
        if (bodiless || head.status === 204 || head.status === 304) {
          finish({ status: head.status, headers: head.headers, text: '' });
        } else if (head.headers['content-type']?.startsWith('text/event-stream')) {
          const text = rest.toString('utf8');
          if (text.includes('\n\n') || ended) finish({ status: head.status, headers: head.headers, text });
        } else {
          const parsed = parseResponse(buffer, ended);
          if (parsed !== undefined) finish(parsed.answer);
          else if (ended) {
            finish({
              status: head.status,
              headers: head.headers,
              text: rest.toString('utf8'),
              truncated: true,
            });
          }
        }
      } catch (error) {
        finish(error as Error);
      }
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `no complete answer within ${ANSWER_PATIENCE_MS} ms: ${JSON.stringify(buffer.toString('latin1').slice(0, 500))}`,
          ),
        ),
      ANSWER_PATIENCE_MS,
    );
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      look();
    });
    const end = () => {
      ended = true;
      look();
    };
    socket.on('end', end);
    socket.on('close', end);
    // A reset after the answer arrived is the server's business; without one, `end` reports it.
    socket.on('error', end);
    socket.write(rawBytes(request, port));
  });
}

/** A short, printable account of a request and its answer, for failure messages. */
export function describe(request: WireRequest, answer: WireAnswer | undefined): string {
  const body =
    request.body === undefined ? '(none)' : JSON.stringify(request.body.subarray(0, 400).toString('latin1'));
  const headers = request.headers.map(([n, v]) => `  ${n}: ${JSON.stringify(v.slice(0, 120))}`).join('\n');
  const shown =
    answer === undefined
      ? '(no answer)'
      : `${answer.status} ${JSON.stringify(answer.headers)}\n  ${answer.text.slice(0, 600)}`;
  return `${request.transport} ${request.method} ${JSON.stringify(request.target.slice(0, 300))} framing=${request.framing}\n${headers}\n  body (${request.body?.length ?? 0} bytes): ${body}\n→ ${shown}`;
}
