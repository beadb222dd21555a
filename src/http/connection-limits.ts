import type { ServerOptions } from 'node:http';
import type { ConnectionLimits } from '../defaults.js';

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
