import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** Longest incoming X-Request-Id kept; a longer or odd one is replaced by our own. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Request ids: a sane incoming `X-Request-Id` (a short token) is kept, so a request can be followed
 * across a proxy; otherwise `<random process prefix>-<counter>`, unique across nodes and restarts.
 */
export function requestIdGenerator(): (request: IncomingMessage) => string {
  const prefix = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  let next = 0;
  return (request) => {
    const incoming = request.headers[REQUEST_ID_HEADER];
    if (typeof incoming === 'string' && REQUEST_ID.test(incoming)) return incoming;
    next = (next + 1) % Number.MAX_SAFE_INTEGER;
    return `${prefix}-${next.toString(36)}`;
  };
}

/** Every answer carries its request id (streams and errors too: set on the raw response). */
export function echoRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
    done();
  });
}
