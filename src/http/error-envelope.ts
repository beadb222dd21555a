import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../model/api-errors.js';
import { API_ERRORS } from '../protocol/error-catalogue.js';
import { StoreUnavailableError } from '../store/store.js';

/** The envelope `envelope` writes, for the OpenAPI document and for tests. */
export const errorEnvelopeSchema = z.strictObject({
  status: z.literal('fail'),
  error: z
    .string()
    .meta({ description: 'The catalogue message (docs/api.md, Errors), placeholders filled in.' }),
  code: z.literal([...new Set(Object.values(API_ERRORS).map((entry) => entry.status))]).meta({
    description: 'Equal to the HTTP status.',
  }),
});

/** The Content-Type of every JSON answer. */
export const JSON_UTF8 = 'application/json; charset=utf-8';

/** The body of every error response: HTTP status = code. */
export function envelope(error: ApiError): string {
  return JSON.stringify({ status: 'fail', error: error.message, code: error.status });
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type(JSON_UTF8).send(envelope(error));
}

/** Maps anything thrown while handling a request to the catalogue, once, for every route. */
export function toApiError(error: unknown, maxBodyBytes: number): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof StoreUnavailableError) return new ApiError('storeUnavailable');
  const code = (error as Partial<FastifyError>)?.code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('bodyTooLarge', { max: maxBodyBytes });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('invalidContentType');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('invalidJson');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new ApiError('routeNotFound');
  }
  const status = (error as Partial<FastifyError>)?.statusCode;
  if (status === 413) return new ApiError('bodyTooLarge', { max: maxBodyBytes });
  if (status !== undefined && status >= 400 && status < 500) return new ApiError('invalidHeaders');
  return new ApiError('internal');
}

export function errorHandler(maxBodyBytes: number) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const apiError = toApiError(error, maxBodyBytes);
    // Unexpected failures only: a deliberate 503 (starting, shutting down) is no error of ours.
    if (apiError.status >= 500 && !(error instanceof ApiError))
      request.log.error({ err: error }, apiError.message);
    return sendError(reply, apiError);
  };
}
