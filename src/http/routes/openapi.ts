import { JSON_UTF8 } from '../error-envelope.js';
import { matchesAny, strongEtag } from '../etag.js';
import { buildOpenApiDocument } from '../openapi-document.js';
import { fileResponses, PUBLIC, ref } from '../operation-docs.js';
import type { Route } from '../route.js';

const PATH = '/openapi.json';

/**
 * `GET /openapi.json`: the OpenAPI 3.1 description of this server's API, built once when the app is
 * built (it depends only on the server's options). Public, like the documentation it mirrors.
 */
export const openApiRoute: Route = {
  paths: {
    [PATH]: {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        tags: ['Operations'],
        security: PUBLIC,
        parameters: [ref('parameters', 'If-None-Match')],
        responses: fileResponses('application/json', 'The OpenAPI 3.1 document.', {}, { type: 'object' }),
        errors: [],
      },
    },
  },
  register(app, context) {
    const body = JSON.stringify(buildOpenApiDocument(context.routes, context));
    // Strong: the same bytes are always served, whatever the request.
    const etag = strongEtag(body);
    app.get(PATH, async (request, reply) => {
      reply.headers({ etag, 'cache-control': 'no-cache' });
      if (matchesAny(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return reply.type(JSON_UTF8).send(body);
    });
  },
};
