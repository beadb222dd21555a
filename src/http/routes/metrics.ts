import { digest, matchesDigest } from '../../accounts/secrets.js';
import { ApiError } from '../../model/api-errors.js';
import { ref, withRequestId } from '../operation-docs.js';
import type { Route } from '../route.js';

const PATH = '/metrics';

/** `GET /metrics`: Prometheus text format, behind a bearer token when the server has one. */
export const metricsRoute: Route = {
  paths: {
    [PATH]: {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        description:
          'Prometheus text exposition format. Open unless the server is started with a metrics token; then `Authorization: Bearer <token>` is required.',
        tags: ['Operations'],
        security: [{}, { metricsToken: [] }],
        responses: {
          200: {
            description: 'The metrics.',
            headers: { ...withRequestId, 'Cache-Control': ref('headers', 'Cache-Control') },
            content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
          },
        },
        errors: ['invalidMetricsToken'],
      },
    },
  },
  register(app, { metrics, metricsToken }) {
    // Only the digest is kept, and compared in constant time: timing tells nothing of the token.
    const expected = metricsToken === undefined ? undefined : digest(metricsToken);
    app.get(PATH, async (request, reply) => {
      if (expected !== undefined && !matchesDigest(bearerToken(request.headers.authorization), expected)) {
        throw new ApiError('invalidMetricsToken', {}, { 'www-authenticate': 'Bearer' });
      }
      const text = await metrics.text();
      return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
    });
  },
};

function bearerToken(header: string | undefined): string {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1] ?? '';
}
