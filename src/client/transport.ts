import { ActiveNowError, ActiveNowNetworkError, errorOfAnswer } from './errors.js';
import { parseRetryAfter } from './retry.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface Credentials {
  readonly accountId: string;
  readonly passcode: string;
}

/** `base` + `path`, keeping a path prefix of the base URL (a server behind a proxy at /activenow). */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

export function credentialHeaders(credentials: Credentials): Record<string, string> {
  return {
    'X-CleverTap-Account-Id': credentials.accountId,
    'X-CleverTap-Passcode': credentials.passcode,
  };
}

/**
 * A fetch whose failures are typed: an abort rejects with the signal's reason, a failed connection
 * with ActiveNowNetworkError.
 */
export async function send(fetchFn: FetchLike, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (error) {
    throw failure(error, init.signal ?? undefined, `cannot reach ${url}`);
  }
}

/**
 * POSTs a JSON body and returns the parsed JSON answer of a 2xx, or throws ActiveNowError with the
 * envelope of any other status.
 */
export async function postJson(
  fetchFn: FetchLike,
  url: string,
  credentials: Credentials,
  body: string,
  signal?: AbortSignal,
): Promise<unknown> {
  const init: RequestInit = {
    method: 'POST',
    headers: {
      ...credentialHeaders(credentials),
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
    body,
    signal,
  };
  const response = await send(fetchFn, url, init);
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw failure(error, signal, `the answer of ${url} was cut off`);
  }
  if (!response.ok) {
    throw errorOfAnswer(
      response.status,
      text,
      parseRetryAfter(response.headers.get('retry-after'), Date.now()),
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ActiveNowError({
      status: response.status,
      code: undefined,
      error: undefined,
      message: `the answer of ${url} is not JSON`,
    });
  }
}

/** The signal's reason when aborted (whatever fetch threw), a network error otherwise. */
export function failure(error: unknown, signal: AbortSignal | undefined, message: string): unknown {
  if (signal?.aborted) return signal.reason;
  return new ActiveNowNetworkError(message, { cause: error });
}
