import type { FastifyInstance } from 'fastify';
import { digest, matchesDigest } from '../accounts/secrets.js';
import { ApiError } from '../model/api-errors.js';
import type { AppMetrics } from './metrics.js';

export interface MetricsRouteOptions {
  readonly metrics: AppMetrics;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
}

/** `GET /metrics`: Prometheus text format, optionally behind a bearer token. */
export function registerMetricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  // Only the digest is kept, and compared in constant time: timing tells nothing of the token.
  const expected = options.token === undefined ? undefined : digest(options.token);
  app.get('/metrics', async (request, reply) => {
    if (expected !== undefined && !matchesDigest(bearerToken(request.headers.authorization), expected)) {
      throw new ApiError('invalidMetricsToken', {}, { 'www-authenticate': 'Bearer' });
    }
    const text = await options.metrics.text();
    return reply.header('cache-control', 'no-store').type(options.metrics.contentType).send(text);
  });
}

function bearerToken(header: string | undefined): string {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1] ?? '';
}
