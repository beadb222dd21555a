import type { SimulatedEvent } from './traffic-model.js';

/** Where simulated events go: a server's base URL and an account's credentials. */
export interface UploadTarget {
  readonly url: string;
  readonly account: string;
  readonly passcode: string;
}

export type BatchOutcome =
  /** 200: `processed` records stored, `unprocessed` refused one by one. */
  | { readonly kind: 'answered'; readonly processed: number; readonly unprocessed: number }
  /** 401: the credentials are wrong; sending more is pointless. */
  | { readonly kind: 'refused'; readonly message: string }
  /** Any other status, or no answer at all. */
  | { readonly kind: 'failed'; readonly message: string };

/** Sends events as one `POST /1/upload` (at most 1000 of them: the API's limit). */
export async function uploadBatch(
  target: UploadTarget,
  events: readonly SimulatedEvent[],
  signal?: AbortSignal,
): Promise<BatchOutcome> {
  const body = JSON.stringify({
    d: events.map((event) => ({
      identity: event.user,
      type: 'event',
      evtName: event.eventName,
      session: { ...event.profile, page: event.page },
    })),
  });
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL('/1/upload', target.url), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-CleverTap-Account-Id': target.account,
        'X-CleverTap-Passcode': target.passcode,
      },
      body,
      signal,
    });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw error;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { kind: 'failed', message: `cannot reach ${target.url}${cause}` };
  }
  if (response.status === 401) {
    return { kind: 'refused', message: `the server refused the credentials (401): ${errorOf(text)}` };
  }
  if (response.status !== 200) {
    return { kind: 'failed', message: `the server answered ${response.status}: ${errorOf(text)}` };
  }
  const answer = parse(text) as { processed?: unknown; unprocessed?: unknown } | undefined;
  const processed = typeof answer?.processed === 'number' ? answer.processed : 0;
  const unprocessed = Array.isArray(answer?.unprocessed)
    ? answer.unprocessed.length
    : events.length - processed;
  return { kind: 'answered', processed, unprocessed };
}

function errorOf(text: string): string {
  const body = parse(text) as { error?: unknown } | undefined;
  return typeof body?.error === 'string' ? body.error : text.slice(0, 200);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
