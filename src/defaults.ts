/**
 * Every option's default and bounds, and the fixed limits, in one place: config.ts validates and
 * defaults with these, `serve --help` shows them, the implementations default to them when built
 * without configuration (tests, benchmarks), and docs/operations.md lists them
 * (test/unit/serve-config.test.ts holds the documented options and defaults to config.ts).
 */

// Where and how `serve` listens and keeps data.
export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './activenow-data';
/** `--store`: the backend; the embedded one needs nothing installed. */
export const DEFAULT_STORE = 'embedded';
export const DEFAULT_REGION = 'eu1';
/** `process` survives the process being killed; `full` also a power loss (docs/operations.md). */
export const DEFAULT_DURABILITY = 'process';

// Counting (docs/semantics.md).
/** Activity kept, seconds: at least the timeline's 30 minutes, at most the largest window. */
export const MIN_HORIZON_SECONDS = 1800;
export const MAX_HORIZON_SECONDS = 3600;
export const DEFAULT_HORIZON_SECONDS = 1800;
/** Distinct values per dimension and account; further values count as `Other`. */
export const DEFAULT_VALUE_CAP = 256;
export const MAX_VALUE_CAP = 4096;

// Requests.
export { DEFAULT_MAX_BODY_BYTES } from './protocol/upload-limits.js';
export const MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024;
/** Largest `/1/collect` body (fixed): a hit is a few short fields and two URLs. */
export const MAX_HIT_BYTES = 16 * 1024;
/**
 * Deepest nesting of arrays and objects accepted in a JSON body (fixed; RFC 8259 §9 lets a parser
 * set one; deeper → 400 invalid JSON). Far beyond any CleverTap payload; it keeps code that walks a
 * body recursively (JSON.stringify of a refused record, the upload fast path) within the stack,
 * where 100k nested arrays would throw and answer 500.
 */
export const MAX_JSON_DEPTH = 128;
/** Requests in progress per account. */
export const DEFAULT_MAX_IN_FLIGHT = 15;
/** Browser hits accepted per second and account on average (bursts up to twice). */
export const DEFAULT_MAX_HITS_PER_SECOND = 1000;
/** Open `/1/now/stream` streams per account on one server. */
export const DEFAULT_MAX_STREAMS = 10;

/** Timeouts and header size of the HTTP server, in milliseconds and bytes; 0 turns a timeout off. */
export interface ConnectionLimits {
  /** The whole request (headers and body) must arrive within this; else 408. */
  readonly requestTimeoutMs: number;
  /** The request headers must arrive within this (at most `requestTimeoutMs`); else 408. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no traffic in either direction for this long is closed (0: never). */
  readonly connectionTimeoutMs: number;
  /** Largest request line and headers together; larger → 400. */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  // A 1 MiB body within 30 s needs 35 KB/s: any client but a stalled (or slowloris) one.
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  // Fastify's default: longer than the 60 s idle timeout of common load balancers, so they close first.
  keepAliveTimeoutMs: 72_000,
  // Off: streams stay quiet up to 15 s between keep-alives, and the timeouts above bound the rest.
  connectionTimeoutMs: 0,
  // Node's default.
  maxHeaderBytes: 16 * 1024,
});
export const MIN_MAX_HEADER_BYTES = 1024;
export const MAX_MAX_HEADER_BYTES = 1024 * 1024;

/** How long `serve` waits for requests in flight on SIGTERM / SIGINT before closing them. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

// Storage.
/**
 * SQLite page cache of the embedded store's activity log, MiB, per connection (the main thread's and
 * the writer thread's): first-seen lookups of active users should mostly hit memory. The caches fill
 * as the log is written and stay full: resident memory grows by up to twice this after a start,
 * then stops.
 */
export const DEFAULT_PAGE_CACHE_MIB = 64;
/**
 * Seconds of engine time between two checkpoints of the embedded store (fixed): a start replays at
 * most about this much traffic after the last one. Each costs a copy of the engines' tables on the
 * event loop and a write of them in the background (docs/operations.md, "Restart time").
 */
export const CHECKPOINT_INTERVAL_SECONDS = 30;

// Operations.
/** Accounts shown in `activenow_active_users`. */
export const DEFAULT_METRICS_TOP_ACCOUNTS = 10;
export const MAX_METRICS_TOP_ACCOUNTS = 1000;
/** Shortest metrics token accepted: it guards every account's active-user count. */
export const MIN_METRICS_TOKEN_LENGTH = 16;
export const DEFAULT_LOG_LEVEL = 'info';
