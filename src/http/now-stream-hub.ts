import type { ServerResponse } from 'node:http';
import { DEFAULT_MAX_STREAMS } from '../defaults.js';
import { ApiError } from '../model/api-errors.js';
import { DEFAULT_WINDOW_SECONDS, type NowFilter, type NowQuery } from '../model/now-query.js';
import { topOfResult } from '../model/split-top.js';
import { SPLIT_NAMES } from '../protocol/dimensions.js';
import type { Store } from '../store/store.js';
import { renderNow, withAsOf } from './render-now.js';
import { botsActive } from './routes/now.js';

/**
 * What every stream carries: the default window with every split, user_type and the timeline (and
 * bots), each split cut to its STREAM_TOP largest values (a site's pages would otherwise make an
 * event of tens of kilobytes a second). A store that cannot split by event streams the others.
 */
export const STREAM_QUERY: NowQuery = Object.freeze({
  window: DEFAULT_WINDOW_SECONDS,
  userType: true,
  splits: SPLIT_NAMES,
  timeline: true,
});

/** The stream query of `store`, of the users `filter` keeps if given. */
export function streamQueryOf(store: Store, filter?: NowFilter): NowQuery {
  return { ...STREAM_QUERY, splits: store.splitNames, ...(filter === undefined ? {} : { filter }) };
}

/** Values kept per split of a stream event, the others counted under Other (`top`, docs/api.md). */
export const STREAM_TOP = 100;

export const DEFAULT_STREAM_INTERVAL_MS = 1000;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** Bytes a stream may have waiting for its reader when the next event is due; beyond, it is dropped. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024;

const KEEP_ALIVE = ': keep-alive\n\n';

export interface NowStreamOptions {
  /** Open streams per account (on this node) before 429. */
  readonly maxStreams?: number;
  /** How often each account's result is computed. */
  readonly intervalMs?: number;
  /** Longest silence before a keep-alive comment. */
  readonly keepAliveMs?: number;
  readonly maxBufferedBytes?: number;
}

interface Stream {
  readonly response: ServerResponse;
  /** The answer of the last event sent, without its `as_of`; undefined before the first. */
  last: string | undefined;
  /** Date.now() of the last write. */
  wroteAt: number;
}

/** The streams of one account and filter, and the timer that computes their result. */
interface Poller {
  readonly account: string;
  /** STREAM_QUERY, with the streams' filter if they have one. */
  readonly query: NowQuery;
  readonly streams: Set<Stream>;
  readonly timer: NodeJS.Timeout;
  running: boolean;
  /** A stream opened while a computation ran: compute again at once, for it. */
  again: boolean;
}

/**
 * The `/1/now/stream` fan-out: one poller per account and filter computes the stream result once
 * per interval and sends it to each of its streams whose last event differs; quiet streams get a
 * keep-alive comment. A reader that lets more than `maxBufferedBytes` pile up is dropped.
 */
export class NowStreamHub {
  /** By pollerKey. */
  private readonly pollers = new Map<string, Poller>();
  /** Open streams per account, whatever their filters. */
  private readonly streamsOf = new Map<string, number>();
  private readonly maxStreams: number;
  private readonly intervalMs: number;
  private readonly keepAliveMs: number;
  private readonly maxBufferedBytes: number;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    options: NowStreamOptions = {},
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.intervalMs = options.intervalMs ?? DEFAULT_STREAM_INTERVAL_MS;
    this.keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  /** Throws 429 when the account already has its maximum of streams (or 503 once closing). */
  assertRoom(account: string): void {
    if (this.closed) throw new ApiError('notReady');
    if (this.streamCount(account) >= this.maxStreams) {
      throw new ApiError('tooManyStreams', { max: this.maxStreams }, { 'retry-after': '1' });
    }
  }

  /**
   * Starts streaming to `response` (headers are written here), the stream result of the users
   * `filter` keeps if given. Its first event follows as soon as the result is computed; the stream
   * leaves the hub when the response closes.
   */
  open(account: string, response: ServerResponse, filter?: NowFilter): void {
    this.assertRoom(account);
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'close',
    });
    response.flushHeaders();
    const stream: Stream = { response, last: undefined, wroteAt: Date.now() };
    const key = pollerKey(account, filter);
    let poller = this.pollers.get(key);
    if (poller === undefined) {
      const timer = setInterval(() => void this.tick(key, false), this.intervalMs);
      timer.unref();
      poller = {
        account,
        query: streamQueryOf(this.store, filter),
        streams: new Set(),
        timer,
        running: false,
        again: false,
      };
      this.pollers.set(key, poller);
    }
    poller.streams.add(stream);
    this.streamsOf.set(account, this.streamCount(account) + 1);
    response.once('close', () => this.remove(key, stream));
    void this.tick(key, true);
  }

  /** Open streams of an account on this node. */
  streamCount(account: string): number {
    return this.streamsOf.get(account) ?? 0;
  }

  /** Open streams of every account on this node. */
  get openStreams(): number {
    let total = 0;
    for (const poller of this.pollers.values()) total += poller.streams.size;
    return total;
  }

  /** Ends every stream and stops every poller; later opens are refused. */
  close(): void {
    this.closed = true;
    const pollers = [...this.pollers.values()];
    this.pollers.clear();
    this.streamsOf.clear();
    for (const poller of pollers) {
      clearInterval(poller.timer);
      const streams = [...poller.streams];
      poller.streams.clear();
      for (const stream of streams) stream.response.end();
    }
  }

  private remove(key: string, stream: Stream): void {
    const poller = this.pollers.get(key);
    if (poller === undefined || !poller.streams.delete(stream)) return;
    const left = this.streamCount(poller.account) - 1;
    if (left === 0) this.streamsOf.delete(poller.account);
    else this.streamsOf.set(poller.account, left);
    if (poller.streams.size === 0) {
      clearInterval(poller.timer);
      this.pollers.delete(key);
    }
  }

  /**
   * Computes the account's result and sends it to the streams open when the computation started
   * (so a new stream's first event is never older than the stream). `forNewStream` runs at once,
   * or right after a running computation; a timer tick is skipped while one runs.
   */
  private async tick(key: string, forNewStream: boolean): Promise<void> {
    const poller = this.pollers.get(key);
    if (poller === undefined) return;
    if (poller.running) {
      if (forNewStream) poller.again = true;
      return;
    }
    poller.running = true;
    const targets = [...poller.streams];
    // An event goes out when the answer changes; its `as_of` says when, and is not itself a change.
    let answer: string | undefined;
    const at = this.clock();
    try {
      const [result, bots] = await Promise.all([
        this.store.now(poller.account, poller.query, at),
        botsActive(this.store, poller.account, poller.query.window, at),
      ]);
      answer = renderNow(topOfResult(result, STREAM_TOP), { bots });
    } catch (error) {
      // Storage trouble: the streams stay open (keep-alive only) and the next tick tries again.
      this.onError(error);
    }
    poller.running = false;
    const now = Date.now();
    for (const stream of targets) {
      if (!poller.streams.has(stream)) continue;
      if (stream.response.destroyed || stream.response.writableEnded) {
        this.remove(key, stream);
        continue;
      }
      const fresh = answer !== undefined && answer !== stream.last ? answer : undefined;
      if (fresh === undefined && now - stream.wroteAt < this.keepAliveMs) continue;
      if (stream.response.writableLength > this.maxBufferedBytes) {
        // A reader this far behind is not reading: drop it rather than buffer without limit.
        stream.response.destroy();
        this.remove(key, stream);
        continue;
      }
      if (fresh === undefined) stream.response.write(KEEP_ALIVE);
      else {
        stream.response.write(`data: ${withAsOf(fresh, at)}\n\n`);
        stream.last = fresh;
      }
      stream.wroteAt = now;
    }
    if (poller.again && this.pollers.get(key) === poller) {
      poller.again = false;
      await this.tick(key, true);
    }
  }
}

/** Streams of one account with equal filters share a poller (a filter's keys are in DIMENSIONS order). */
function pollerKey(account: string, filter: NowFilter | undefined): string {
  return filter === undefined ? account : `${account}\n${JSON.stringify(filter)}`;
}
