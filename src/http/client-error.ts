import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError } from '../model/api-errors.js';
import { API_ERRORS } from '../protocol/error-catalogue.js';
import { envelope } from './error-envelope.js';

const answeredClientErrors = new WeakSet<Socket>();

/**
 * Bytes Node could not parse as a request (bad request line, headers too large): answer the
 * envelope and close. Bytes pipelined behind a complete request must not cost that request its
 * answer (it may have been stored), so the response to a request fully received, and any queued
 * behind it, is let finish first. A request whose own body is broken gets the envelope at once:
 * its answer would never come. Reads `_httpMessage` as Node's own default handler does.
 */
export function answerClientError(error: Error, socket: Socket): void {
  if (answeredClientErrors.has(socket)) return;
  const inProgress = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inProgress && !inProgress.writableFinished && inProgress.req.complete) {
    inProgress.once('close', () => answerClientError(error, socket));
    return;
  }
  answeredClientErrors.add(socket);
  if (socket.writable) socket.end(rawResponse(error));
  else socket.destroy(error);
}

/** How long a `CONNECT` connection may stay open after its answer, for the client to close it. */
export const CONNECT_LINGER_MS = 2_000;

/**
 * `CONNECT` requests: Node hands them to a 'connect' listener instead of the app, and closes the
 * connection without a word when there is none. No route tunnels, so: the 404 envelope, and close.
 * Node no longer reads or tracks such a socket (closing the server does not close it), so what the
 * client sends is read and dropped, and the socket is destroyed if the client has not closed it
 * CONNECT_LINGER_MS after the answer: a client keeping it open would otherwise hold it, and the
 * server's shutdown, forever.
 */
export function answerConnect(_request: unknown, socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.resume();
  socket.end(rawEnvelope(new ApiError('routeNotFound'), 'Not Found'));
  const linger = setTimeout(() => socket.destroy(), CONNECT_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}

function rawResponse(error: Error): string {
  // Node's headers and request timeouts (--headers-timeout-ms, --request-timeout-ms) come here too.
  const timedOut = (error as Error & { code?: string }).code === 'ERR_HTTP_REQUEST_TIMEOUT';
  return timedOut
    ? rawEnvelope(new ApiError('requestTimeout'), 'Request Timeout')
    : rawEnvelope(new ApiError('invalidHeaders'), 'Bad Request');
}

/** A whole HTTP/1.1 response carrying the envelope of `error`, closing the connection. */
function rawEnvelope(error: ApiError, reason: string): string {
  const body = envelope(error);
  return `HTTP/1.1 ${API_ERRORS[error.kind].status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
