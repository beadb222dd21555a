import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../model/api-errors.js';
import type { Store } from '../../store/store.js';
import { sendError } from '../error-envelope.js';

/** `GET /healthz`: the process answers. `GET /readyz`: the store is recovered and reachable. */
export function registerHealthRoutes(app: FastifyInstance, store: Store): void {
  app.get('/healthz', async (_request, reply) => reply.type('application/json').send('{"status":"ok"}'));
  app.get('/readyz', async (_request, reply) => {
    if (!store.isReady()) return sendError(reply, new ApiError('notReady'));
    return reply.type('application/json').send('{"status":"ready"}');
  });
}
