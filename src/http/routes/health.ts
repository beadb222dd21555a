import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Store } from '../../store/store.js';
import { assertReady } from '../store-readiness.js';

export const healthResponseSchema = z.strictObject({ status: z.literal('ok') });

export const readyResponseSchema = z.strictObject({ status: z.literal('ready') });

/** `GET /healthz`: the process answers. `GET /readyz`: the store is recovered and reachable. */
export function registerHealthRoutes(app: FastifyInstance, store: Store): void {
  app.get('/healthz', async (_request, reply) => reply.type('application/json').send('{"status":"ok"}'));
  app.get('/readyz', async (_request, reply) => {
    assertReady(store);
    return reply.type('application/json').send('{"status":"ready"}');
  });
}
