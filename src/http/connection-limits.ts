import type { ServerOptions } from 'node:http';

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

const CHECK_INTERVAL_MS = 1000;

/** The Fastify (and Node http) server options that apply `limits`. */
export function connectionOptions(limits: ConnectionLimits): {
  requestTimeout: number;
  connectionTimeout: number;
  keepAliveTimeout: number;
  http: ServerOptions;
} {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      // Node answers an HTTP/1.1 request without Host with an empty 400; the app answers the envelope.
      requireHostHeader: false,
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      // Also given here: Node checks headersTimeout against it when the server is made.
      requestTimeout: limits.requestTimeoutMs,
      // How often Node looks for requests past those timeouts (its default, 30 s, would let a
      // request outlive its timeout by up to that much).
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
    },
  };
}
