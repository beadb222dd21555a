import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { Store } from '../../store/store.js';
import { parseNowRequest } from '../now-request.js';
import { renderNow } from '../render-now.js';
import { accountOf } from '../request-account.js';

export interface NowRouteOptions {
  /** Authenticates and admits the request before its body is read. */
  readonly guard: onRequestAsyncHookHandler;
  readonly store: Store;
  readonly horizonSeconds: number;
  readonly clock: () => number;
}

/** `POST /1/now.json`: distinct active users now, with the splits asked for. */
export function registerNowRoute(app: FastifyInstance, options: NowRouteOptions): void {
  app.post('/1/now.json', { onRequest: options.guard }, async (request, reply) => {
    const query = parseNowRequest(request.body, options.horizonSeconds);
    const result = await options.store.now(accountOf(request), query, options.clock());
    return reply.type('application/json; charset=utf-8').send(renderNow(result));
  });
}
