import type { FastifyInstance } from 'fastify';
import { matchesAny, strongEtag } from '../etag.js';
import { buildOpenApiDocument, type OpenApiOptions } from '../openapi/openapi-document.js';

/**
 * `GET /openapi.json`: the OpenAPI 3.1 description of this server's API, built once when the app is
 * built (it depends only on the server's options). Public, like the documentation it mirrors.
 */
export function registerOpenApiRoute(app: FastifyInstance, options: OpenApiOptions): void {
  const body = JSON.stringify(buildOpenApiDocument(options));
  // Strong: the same bytes are always served, whatever the request.
  const etag = strongEtag(body);
  app.get('/openapi.json', async (request, reply) => {
    reply.headers({ etag, 'cache-control': 'no-cache' });
    if (matchesAny(request.headers['if-none-match'], etag)) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
