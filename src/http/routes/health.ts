import { z } from 'zod';
import { jsonResponse, PUBLIC, STORE } from '../operation-docs.js';
import type { Route } from '../route.js';
import { assertReady } from '../store-readiness.js';

export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });

export const readyResponseSchema = z.strictObject({ status: z.literal('ready') });

/** `GET /healthz`: the process answers. `GET /readyz`: the store is recovered and reachable. */
export const healthRoute: Route = {
  paths: {
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'The process answers',
        tags: ['Operations'],
        security: PUBLIC,
        responses: { 200: jsonResponse('Alive.', 'HealthResponse', { status: 'ok' }) },
        errors: [],
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'The store is recovered and reachable',
        tags: ['Operations'],
        security: PUBLIC,
        responses: { 200: jsonResponse('Ready to serve.', 'ReadyResponse', { status: 'ready' }) },
        errors: STORE,
      },
    },
  },
  schemas: () => ({ HealthResponse: healthResponseSchema, ReadyResponse: readyResponseSchema }),
  register(app, { store }) {
    app.get('/healthz', async (_request, reply) => reply.type('application/json').send('{"status":"ok"}'));
    app.get('/readyz', async (_request, reply) => {
      assertReady(store);
      return reply.type('application/json').send('{"status":"ready"}');
    });
  },
};
