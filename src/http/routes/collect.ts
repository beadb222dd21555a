import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AccountRegistry } from '../../accounts/account-registry.js';
import { MAX_HIT_BYTES } from '../../defaults.js';
import { activityOfHit, parseHit } from '../../ingest/browser-hit.js';
import { ApiError } from '../../model/api-errors.js';
import type { Store } from '../../store/store.js';
import { errorHandler } from '../error-envelope.js';
import { parseJsonBody } from '../json-body-parser.js';
import type { RateLimit } from '../rate-limit.js';
import { assertReady } from '../store-readiness.js';

export interface CollectRouteOptions {
  readonly store: Store;
  readonly accounts: AccountRegistry;
  readonly region: string;
  readonly rateLimit: RateLimit;
  readonly clock: () => number;
}

/**
 * `POST /1/collect`: one hit of the browser tracker, authenticated by account id and public token
 * (write-only: it can add activity, never read counts). Bodies are JSON sent as `text/plain`, so
 * that `navigator.sendBeacon` and cross-origin `fetch` need no preflight; every answer allows any
 * origin. Answers 202 with no body; a bot's hit is accepted and not counted.
 */
export function registerCollectRoute(app: FastifyInstance, options: CollectRouteOptions): void {
  app.register(async (scope) => {
    // Hits have their own content types, and their own refusal of the others.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      /^(application\/json|text\/plain)(\s*;.*)?$/i,
      { parseAs: 'buffer' },
      parseJsonBody,
    );
    scope.addContentTypeParser('*', (_request, _payload, done) =>
      done(new ApiError('invalidHitContentType')),
    );
    scope.setErrorHandler(errorHandler(MAX_HIT_BYTES));
    scope.addHook('onSend', async (_request, reply: FastifyReply) => {
      reply.header('access-control-allow-origin', '*');
    });
    scope.options('/1/collect', async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type')
        .header('access-control-max-age', '86400')
        .send(),
    );
    scope.post('/1/collect', { bodyLimit: MAX_HIT_BYTES }, async (request, reply) => {
      assertReady(options.store);
      const hit = parseHit(request.body);
      if ('problem' in hit) throw new ApiError('invalidParameter', { name: hit.problem, reason: hit.reason });
      const account = await options.accounts.get(hit.account);
      if (!(await options.accounts.verifyToken(hit.account, hit.token)) || account === undefined) {
        throw new ApiError('invalidToken');
      }
      if (account.region !== options.region) throw new ApiError('wrongRegion', { region: account.region });
      if (!options.rateLimit.take(account.id)) throw new ApiError('tooManyHits', {}, { 'retry-after': '1' });
      const at = options.clock();
      const activity = activityOfHit(hit, request.headers['user-agent'], at);
      if (activity !== undefined) await options.store.record(account.id, [activity], at);
      return reply.code(202).send();
    });
  });
}
