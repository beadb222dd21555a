import { API_ERRORS } from '../protocol/error-catalogue.js';

/** The server's error catalogue, shared with it (src/protocol imports nothing, so the client can ship it). */
export const ERROR_CATALOGUE = API_ERRORS;

/** A catalogue name, or `unknown` for an answer that is not one of them (e.g. a proxy's page). */
export type ErrorKind = keyof typeof ERROR_CATALOGUE | 'unknown';

interface Matcher {
  readonly kind: keyof typeof ERROR_CATALOGUE;
  readonly status: number;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** Each template as a regular expression; `{name}` placeholders capture. */
const MATCHERS: readonly Matcher[] = Object.entries(ERROR_CATALOGUE).map(([kind, { status, message }]) => {
  const names: string[] = [];
  const source = message
    .split(/(\{\w+\})/)
    .map((part) => {
      const placeholder = /^\{(\w+)\}$/.exec(part);
      if (placeholder === null) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(placeholder[1]);
      return '(.+?)';
    })
    .join('');
  return { kind: kind as Matcher['kind'], status, pattern: new RegExp(`^${source}$`, 's'), names };
});

/** The catalogue entry an error envelope is, with the values of its placeholders. */
export function classify(
  status: number,
  message: string | undefined,
): { kind: ErrorKind; params: Readonly<Record<string, string>> } {
  if (message !== undefined) {
    for (const matcher of MATCHERS) {
      if (matcher.status !== status) continue;
      const match = matcher.pattern.exec(message);
      if (match === null) continue;
      const params: Record<string, string> = {};
      matcher.names.forEach((name, i) => {
        params[name] = match[i + 1];
      });
      return { kind: matcher.kind, params };
    }
  }
  return { kind: 'unknown', params: {} };
}

export interface ActiveNowErrorDetails {
  readonly status: number;
  /** The envelope's `code`; undefined when the answer was not an error envelope. */
  readonly code: number | undefined;
  /** The envelope's `error` message; undefined when the answer was not an error envelope. */
  readonly error: string | undefined;
  /** Milliseconds the server asked the client to wait (`Retry-After`), if it did. */
  readonly retryAfterMs?: number;
  /** Message when there is no envelope to take it from. */
  readonly message?: string;
}

/** The server answered with an error (or with something that is not the API's answer at all). */
export class ActiveNowError extends Error {
  readonly status: number;
  readonly code: number | undefined;
  readonly error: string | undefined;
  readonly kind: ErrorKind;
  /** Values of the message's placeholders, e.g. `{ name: 'bogus' }` for `unknownParameter`. */
  readonly params: Readonly<Record<string, string>>;
  readonly retryAfterMs: number | undefined;

  constructor(details: ActiveNowErrorDetails) {
    super(
      details.error ?? details.message ?? `the server answered ${details.status} without an error envelope`,
    );
    this.name = 'ActiveNowError';
    this.status = details.status;
    this.code = details.code;
    this.error = details.error;
    this.retryAfterMs = details.retryAfterMs;
    const { kind, params } = classify(details.status, details.error);
    this.kind = kind;
    this.params = params;
  }
}

/** No answer: the connection failed, was reset, or the body could not be read. */
export class ActiveNowNetworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ActiveNowNetworkError';
  }
}

/**
 * The error of a non-2xx answer: its envelope if it has one. `{"status":"fail","error":…,"code":…}`
 * is what activenow (and CleverTap) send; anything else (a proxy's HTML page) gives kind `unknown`.
 */
export function errorOfAnswer(status: number, text: string, retryAfterMs?: number): ActiveNowError {
  let code: number | undefined;
  let error: string | undefined;
  try {
    const body = JSON.parse(text) as { status?: unknown; error?: unknown; code?: unknown };
    if (body !== null && typeof body === 'object' && typeof body.error === 'string') {
      error = body.error;
      code = typeof body.code === 'number' ? body.code : undefined;
    }
  } catch {
    // Not JSON: no envelope.
  }
  return new ActiveNowError({ status, code, error, retryAfterMs });
}
