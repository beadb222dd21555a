import type { Credentials } from './cli-process.js';

/** JSON requests to an activenow server over fetch, each answer read whole. */

export interface Answer {
  readonly status: number;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: unknown;
}

/**
 * How long a request may go unanswered before it fails. Node's fetch has been seen to wait forever
 * for a request whose server was SIGKILLed while the connection was being set up.
 */
const REQUEST_PATIENCE_MS = 10_000;

/** The `fetch` options of a JSON POST with an account's credentials. */
export function jsonPost(account: Credentials, body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: {
      'X-CleverTap-Account-Id': account.id,
      'X-CleverTap-Passcode': account.passcode,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  };
}

/** POSTs JSON with an account's credentials. */
export async function postJson(url: string, account: Credentials, body: unknown): Promise<Answer> {
  return answer(
    await fetch(url, { ...jsonPost(account, body), signal: AbortSignal.timeout(REQUEST_PATIENCE_MS) }),
  );
}

export async function getJson(url: string): Promise<Answer> {
  return answer(await fetch(url));
}

/** Status, text and parsed JSON (undefined when not JSON) of a response. */
export async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, text, body };
}
