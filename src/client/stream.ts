import { ActiveNowError, ActiveNowNetworkError, errorOfAnswer } from './errors.js';
import { backoffDelay, isRetriable, parseRetryAfter, type RetryPolicy, sleep } from './retry.js';
import { SseParser } from './sse.js';
import { type Credentials, credentialHeaders, type FetchLike, send } from './transport.js';
import type { StreamUpdate } from './types.js';

export interface StreamErrorInfo {
  /** False when the stream gives up: the error is not one that waiting cures (e.g. 401). */
  readonly willRetry: boolean;
  /** When it will reconnect, if it will. */
  readonly delayMs: number | undefined;
}

export interface StreamOptions {
  /** Ends the stream; `done` then resolves. */
  readonly signal?: AbortSignal;
  /** Every failure: drops and refusals before a reconnect, and the error that ends the stream. */
  readonly onError?: (error: unknown, info: StreamErrorInfo) => void;
  /** Each time a connection is accepted (the first update follows). */
  readonly onOpen?: () => void;
  /**
   * A connection silent this long is taken as dead and replaced. The server sends a keep-alive
   * every 15 s, so the default of 45 s allows two to be lost.
   */
  readonly idleTimeoutMs?: number;
}

/** An open `/1/now/stream`: reconnects by itself until closed. */
export interface NowStream {
  close(): void;
  /** Resolves once closed (or aborted); rejects with the error that ended it otherwise. */
  readonly done: Promise<void>;
}

export interface StreamContext {
  readonly fetch: FetchLike;
  readonly url: string;
  readonly credentials: Credentials;
  readonly policy: RetryPolicy;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/**
 * Reads the stream with fetch (so the passcode travels in headers, as on every other route) and
 * parses the events itself; after a drop, a 429 or a 503 it reconnects with backoff, without end.
 */
export function openStream(
  context: StreamContext,
  onUpdate: (update: StreamUpdate) => void,
  options: StreamOptions = {},
): NowStream {
  const controller = new AbortController();
  const outer = options.signal;
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  const done = run(context, onUpdate, options, controller.signal).finally(() =>
    outer?.removeEventListener('abort', forward),
  );
  // `done` is there to be awaited, not required to be: its failure also goes to onError.
  done.catch(() => {});
  return { close: () => controller.abort(), done };
}

async function run(
  context: StreamContext,
  onUpdate: (update: StreamUpdate) => void,
  options: StreamOptions,
  signal: AbortSignal,
): Promise<void> {
  for (let retry = 0; !signal.aborted; ) {
    let delivered = false;
    let error: unknown;
    try {
      await connect(context, options, signal, (update) => {
        delivered = true;
        onUpdate(update);
      });
      error = new ActiveNowNetworkError('the stream ended');
    } catch (thrown) {
      if (signal.aborted) return;
      if (thrown instanceof HandlerFailure) {
        options.onError?.(thrown.error, { willRetry: false, delayMs: undefined });
        throw thrown.error;
      }
      error = thrown;
    }
    // A connection that carried updates was healthy: start the backoff over.
    if (delivered) retry = 0;
    if (!isRetriable(error)) {
      options.onError?.(error, { willRetry: false, delayMs: undefined });
      throw error;
    }
    const delayMs =
      (error instanceof ActiveNowError ? error.retryAfterMs : undefined) ??
      backoffDelay(retry, context.policy);
    retry++;
    options.onError?.(error, { willRetry: true, delayMs });
    try {
      await sleep(delayMs, signal);
    } catch {
      return;
    }
  }
}

/** One connection, until it ends or fails. */
async function connect(
  context: StreamContext,
  options: StreamOptions,
  signal: AbortSignal,
  onUpdate: (update: StreamUpdate) => void,
): Promise<void> {
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const attempt = new AbortController();
  const forward = () => attempt.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  let idle = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      attempt.abort();
    }, idleMs);
  };
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    arm();
    const response = await send(context.fetch, context.url, {
      method: 'GET',
      headers: { ...credentialHeaders(context.credentials), Accept: 'text/event-stream' },
      signal: attempt.signal,
    });
    if (!response.ok) {
      const text = await response.text();
      throw errorOfAnswer(
        response.status,
        text,
        parseRetryAfter(response.headers.get('retry-after'), Date.now()),
      );
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || response.body === null) {
      throw new ActiveNowError({
        status: response.status,
        code: undefined,
        error: undefined,
        message: `${context.url} did not answer with an event stream (${type})`,
      });
    }
    options.onOpen?.();
    reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      arm();
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        if (event.type !== 'message') continue;
        const update = parseUpdate(event.data, context.url);
        try {
          onUpdate(update);
        } catch (error) {
          throw new HandlerFailure(error);
        }
      }
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (idle) throw new ActiveNowNetworkError(`no data from ${context.url} for ${idleMs} ms`);
    if (error instanceof ActiveNowError || error instanceof ActiveNowNetworkError) throw error;
    if (error instanceof HandlerFailure) throw error;
    // What is left is the body failing mid-read (undici: TypeError "terminated").
    throw new ActiveNowNetworkError(`the stream from ${context.url} broke`, { cause: error });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal.removeEventListener('abort', forward);
    // Frees the connection when this side gives up (idle, or an update handler threw).
    reader?.cancel().catch(() => {});
  }
}

/** An error thrown by the caller's update handler: it ends the stream, as it is, without retry. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

function parseUpdate(data: string, url: string): StreamUpdate {
  let update: unknown;
  try {
    update = JSON.parse(data);
  } catch {
    update = undefined;
  }
  const body = update as { status?: unknown; count?: unknown } | undefined;
  if (
    typeof body !== 'object' ||
    body === null ||
    body.status !== 'success' ||
    typeof body.count !== 'number'
  ) {
    throw new ActiveNowError({
      status: 200,
      code: undefined,
      error: undefined,
      message: `${url} sent an event that is not a now result: ${data.slice(0, 200)}`,
    });
  }
  return update as StreamUpdate;
}
