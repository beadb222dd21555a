import { DEFAULT_MAX_BODY_BYTES, MAX_RECORDS_PER_UPLOAD } from '../protocol/upload-limits.js';
import { batchesOf, readBatchAnswer } from './batching.js';
import { ActiveNowError } from './errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from './retry.js';
import { type NowStream, openStream, type StreamOptions } from './stream.js';
import { type Credentials, type FetchLike, joinUrl, postJson } from './transport.js';
import type {
  NowRequest,
  NowResult,
  StreamUpdate,
  UnprocessedRecord,
  UploadRecord,
  UploadResult,
} from './types.js';

export interface ActiveNowClientOptions {
  /** Where activenow runs, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  readonly baseUrl: string;
  readonly accountId: string;
  readonly passcode: string;
  /** Defaults to the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Retries of a request answered 429 or 503, or not answered at all (default 4). */
  readonly retries?: number;
  /** Backoff before retry n: random in [0, min(retryMaxDelayMs, retryBaseDelayMs · 2ⁿ)) ms. */
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** A longer `Retry-After` is not waited for: the error is thrown at once (default 60 s). */
  readonly maxRetryAfterMs?: number;
  /** Random numbers in [0, 1) for the jitter (default Math.random). */
  readonly random?: () => number;
  /** Records per upload request, 1 to 1000 (default 1000, the server's limit). */
  readonly batchSize?: number;
  /** Body bytes per upload request (default 1 MiB, the server's default `--max-body-bytes`). */
  readonly maxBatchBytes?: number;
  /** Upload requests in flight at once, 1 to 8 (default 1: batches go one after another). */
  readonly concurrency?: number;
}

export interface RequestOptions {
  /** Aborting rejects the call with the signal's reason, also while waiting to retry. */
  readonly signal?: AbortSignal;
}

export interface UploadOptions extends RequestOptions {
  /** Validate only: `?dryRun=1`, nothing is stored. */
  readonly dryRun?: boolean;
  /** Called as each batch is answered (records start … start + count − 1 of the caller's array). */
  readonly onBatch?: (batch: {
    readonly start: number;
    readonly count: number;
    readonly processed: number;
    readonly unprocessed: readonly UnprocessedRecord[];
  }) => void;
}

export interface ReadToken {
  readonly status: 'success';
  /** Opens this account's `GET /1/now/stream?token=…` (for EventSource), and nothing else. */
  readonly token: string;
  /** Seconds. */
  readonly expires_in: number;
}

const MAX_CONCURRENCY = 8;

/** A client of one account on one activenow server. */
export class ActiveNowClient {
  private readonly baseUrl: string;
  private readonly credentials: Credentials;
  private readonly fetchFn: FetchLike;
  private readonly policy: RetryPolicy;
  private readonly batchSize: number;
  private readonly maxBatchBytes: number;
  private readonly concurrency: number;

  constructor(options: ActiveNowClientOptions) {
    this.baseUrl = options.baseUrl;
    this.credentials = { accountId: options.accountId, passcode: options.passcode };
    // Looked up at call time, so a fetch installed later (a polyfill, a test's mock) is used.
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.policy = {
      retries: nonNegative('retries', options.retries ?? DEFAULT_RETRY_POLICY.retries),
      baseDelayMs: nonNegative(
        'retryBaseDelayMs',
        options.retryBaseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      ),
      maxDelayMs: nonNegative('retryMaxDelayMs', options.retryMaxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs),
      maxRetryAfterMs: nonNegative(
        'maxRetryAfterMs',
        options.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs,
      ),
      random: options.random ?? DEFAULT_RETRY_POLICY.random,
    };
    this.batchSize = within(
      'batchSize',
      options.batchSize ?? MAX_RECORDS_PER_UPLOAD,
      1,
      MAX_RECORDS_PER_UPLOAD,
    );
    this.maxBatchBytes = within(
      'maxBatchBytes',
      options.maxBatchBytes ?? DEFAULT_MAX_BODY_BYTES,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    this.concurrency = within('concurrency', options.concurrency ?? 1, 1, MAX_CONCURRENCY);
  }

  /**
   * `POST /1/now.json`: distinct active users now. The result has exactly the keys the request
   * asks for: `now({ browser: true })` has `browser`, not `os`.
   */
  async now<const R extends NowRequest = Record<never, never>>(
    request?: R,
    options: RequestOptions = {},
  ): Promise<NowResult<R>> {
    const body = JSON.stringify(request ?? {});
    const url = joinUrl(this.baseUrl, '/1/now.json');
    const answer = await withRetry(
      () => postJson(this.fetchFn, url, this.credentials, body, options.signal),
      this.policy,
      options.signal,
    );
    const result = answer as { status?: unknown; count?: unknown } | null;
    if (
      typeof result !== 'object' ||
      result === null ||
      result.status !== 'success' ||
      typeof result.count !== 'number'
    ) {
      throw new ActiveNowError({
        status: 200,
        code: undefined,
        error: undefined,
        message: `${url} answered something that is not a now result`,
      });
    }
    return answer as NowResult<R>;
  }

  /**
   * `POST /1/upload`, in batches of at most 1000 records (and `maxBatchBytes`), each retried on
   * 429, 503 and network errors. Refused records are reported with their index in `records`.
   * On a failure, no further batch is sent and the call rejects with the first error; batches
   * already answered are stored (see `onBatch`). Re-sending them is harmless: events are idempotent.
   */
  async upload(records: readonly UploadRecord[], options: UploadOptions = {}): Promise<UploadResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const url = joinUrl(this.baseUrl, options.dryRun ? '/1/upload?dryRun=1' : '/1/upload');
    const batches = batchesOf(records, this.batchSize, this.maxBatchBytes);
    let processed = 0;
    const unprocessed: UnprocessedRecord[] = [];
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (failure === undefined && !signal?.aborted) {
        const next = batches.next();
        if (next.done) return;
        const batch = next.value;
        try {
          const answer = await withRetry(
            () => postJson(this.fetchFn, url, this.credentials, batch.body, signal),
            this.policy,
            signal,
          );
          const result = readBatchAnswer(batch, answer);
          processed += result.processed;
          unprocessed.push(...result.unprocessed);
          options.onBatch?.({ start: batch.start, count: batch.count, ...result });
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    signal?.throwIfAborted();
    if (failure !== undefined) throw failure.error;
    // Concurrent batches finish in any order.
    unprocessed.sort((a, b) => a.index - b.index);
    return { processed, unprocessed };
  }

  /**
   * `GET /1/now/stream`: calls `onUpdate` with every split, user_type and the timeline, at once and
   * whenever the counts change; reconnects with backoff after a drop until closed or aborted.
   */
  stream(onUpdate: (update: StreamUpdate) => void, options: StreamOptions = {}): NowStream {
    return openStream(
      {
        fetch: this.fetchFn,
        url: joinUrl(this.baseUrl, '/1/now/stream'),
        credentials: this.credentials,
        policy: this.policy,
      },
      onUpdate,
      options,
    );
  }

  /** `POST /1/now/token`: a short-lived read token for a browser's EventSource. */
  async readToken(options: RequestOptions = {}): Promise<ReadToken> {
    const url = joinUrl(this.baseUrl, '/1/now/token');
    const answer = await withRetry(
      () => postJson(this.fetchFn, url, this.credentials, '{}', options.signal),
      this.policy,
      options.signal,
    );
    const token = answer as Partial<ReadToken> | null;
    if (typeof token?.token !== 'string' || typeof token.expires_in !== 'number') {
      throw new ActiveNowError({
        status: 200,
        code: undefined,
        error: undefined,
        message: `${url} answered something that is not a read token`,
      });
    }
    return token as ReadToken;
  }
}

function nonNegative(name: string, value: number): number {
  return within(name, value, 0, Number.MAX_SAFE_INTEGER);
}

function within(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
