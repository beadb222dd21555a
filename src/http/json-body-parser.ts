import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { MAX_JSON_DEPTH } from '../defaults.js';
import { ApiError } from '../model/api-errors.js';

/** `application/json`, with any parameters. */
export const JSON_CONTENT_TYPE = /^application\/json(\s*;.*)?$/i;

/**
 * Parses `application/json` bodies (any parameters): rejects bytes that are not UTF-8 instead of
 * replacing them, and `__proto__` / `constructor.prototype` keys instead of letting them through.
 * An empty body parses as undefined; routes decide what that means.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  registerBodyParsers(app, parseJsonBody);
}

/**
 * The same Content-Types, but a JSON body is kept as its bytes (an empty one as undefined), for a
 * route that reads them itself (`/1/upload`'s fast path) and calls decodeJsonBody when it needs the
 * value the parser above would have given.
 */
export function registerJsonBodyBytes(app: FastifyInstance): void {
  registerBodyParsers(app, keepBytes);
}

type BodyParser = (
  request: unknown,
  body: string | Buffer,
  done: (error: Error | null, value?: unknown) => void,
) => void;

function registerBodyParsers(app: FastifyInstance, json: BodyParser): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'buffer' }, json);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, refuseUnlessEmpty);
}

const keepBytes: BodyParser = (_request, body, done) => done(null, body.length === 0 ? undefined : body);

/**
 * Any other Content-Type, or none: a body of zero bytes is no body (as with Content-Length: 0,
 * also when it comes chunked); a body of any other length is refused.
 */
function refuseUnlessEmpty(
  _request: unknown,
  body: string | Buffer,
  done: (error: Error | null, value?: unknown) => void,
): void {
  if (body.length === 0) done(null, undefined);
  else done(new ApiError('invalidContentType'));
}

/** A content-type parser of JSON bodies with decodeJsonBody's checks, for any media type it is given. */
export function parseJsonBody(
  _request: unknown,
  body: string | Buffer,
  done: (error: Error | null, value?: unknown) => void,
): void {
  let value: unknown;
  try {
    value = decodeJsonBody(body as Buffer);
  } catch (error) {
    done(error as Error, undefined);
    return;
  }
  done(null, value);
}

/**
 * The value of a JSON body: its checks in their order (UTF-8, nesting depth, syntax and prototype
 * keys), each failure an ApiError. No bytes: undefined.
 */
export function decodeJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  if (!isUtf8(bytes)) throw new ApiError('invalidEncoding');
  if (nestedDeeperThan(bytes, MAX_JSON_DEPTH)) throw new ApiError('invalidJson');
  try {
    return secureJson.parse(bytes.toString('utf8'), undefined, {
      protoAction: 'error',
      constructorAction: 'error',
    });
  } catch {
    throw new ApiError('invalidJson');
  }
}

/**
 * True when brackets outside strings nest deeper than `max`. Works on the UTF-8 bytes: `"`, `\`,
 * `[`, `]`, `{` and `}` never occur inside a multi-byte sequence. Malformed JSON may be miscounted,
 * but it is refused as invalid JSON either way.
 */
function nestedDeeperThan(bytes: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === 0x5c) i++;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > max) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}
