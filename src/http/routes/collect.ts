import type { FastifyReply } from 'fastify';
import { MAX_HIT_BYTES } from '../../defaults.js';
import { activityOfHit, hitSchema, parseHit } from '../../ingest/browser-hit.js';
import { ApiError } from '../../model/api-errors.js';
import { botLaneOf } from '../../model/bot-lane.js';
import { errorHandler } from '../error-envelope.js';
import { parseJsonBody } from '../json-body-parser.js';
import { allowAnyOrigin, PUBLIC, ref, STORE, withRequestId } from '../operation-docs.js';
import type { Route } from '../route.js';
import { assertReady } from '../store-readiness.js';

const PATH = '/1/collect';

/**
 * `POST /1/collect`: one hit of the browser tracker, authenticated by account id and public token
 * (write-only: it can add activity, never read counts). Bodies are JSON sent as `text/plain`, so
 * that `navigator.sendBeacon` and cross-origin `fetch` need no preflight; every answer allows any
 * origin. Answers 202 with no body; a bot's hit is counted in the account's bot lane, apart.
 */
export const collectRoute: Route = {
  paths: {
    [PATH]: {
      post: {
        operationId: 'collect',
        summary: 'One hit of the browser tracker',
        description: `Public: authenticated by the account id and public token in the body (write-only). The body is JSON sent as text/plain (no CORS preflight) or application/json, at most ${MAX_HIT_BYTES} bytes. Browser, OS and device come from the User-Agent; a bot's hit is counted apart (now.json: bots). Every answer, errors included, carries Access-Control-Allow-Origin: *.`,
        tags: ['Browser'],
        security: PUBLIC,
        requestBody: {
          required: true,
          content: Object.fromEntries(
            ['text/plain', 'application/json'].map((type) => [
              type,
              {
                schema: ref('schemas', 'CollectHit'),
                examples: {
                  pageview: {
                    value: {
                      account: 'W9R-486-4W5Z',
                      token: 'pt_…',
                      user: 'visitor-1',
                      kind: 'pageview',
                      url: 'https://shop.example/?utm_medium=email',
                      referrer: 'https://www.google.com/',
                    },
                  },
                },
              },
            ]),
          ),
        },
        responses: {
          202: { description: 'Accepted. No body.', headers: { ...withRequestId, ...allowAnyOrigin } },
        },
        errors: [
          ...STORE,
          'invalidHitContentType',
          'invalidJson',
          'invalidEncoding',
          'bodyTooLarge',
          'invalidParameter',
          'invalidToken',
          'wrongRegion',
          'tooManyHits',
        ],
        errorParams: { bodyTooLarge: { max: MAX_HIT_BYTES } },
      },
      options: {
        operationId: 'collectPreflight',
        summary: 'CORS preflight of /1/collect',
        tags: ['Browser'],
        security: PUBLIC,
        responses: {
          204: {
            description: 'Allowed: POST from any origin, with a Content-Type header. No body.',
            headers: { ...withRequestId, ...allowAnyOrigin },
          },
        },
        errors: [],
      },
    },
  },
  schemas: () => ({ CollectHit: hitSchema }),
  register(app, { store, accounts, region, hitRateLimit, clock, countryOfIp }) {
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
      scope.options(PATH, async (_request, reply) =>
        reply
          .code(204)
          .header('access-control-allow-methods', 'POST, OPTIONS')
          .header('access-control-allow-headers', 'content-type')
          .header('access-control-max-age', '86400')
          .send(),
      );
      scope.post(PATH, { bodyLimit: MAX_HIT_BYTES }, async (request, reply) => {
        assertReady(store);
        const hit = parseHit(request.body);
        if ('problem' in hit)
          throw new ApiError('invalidParameter', { name: hit.problem, reason: hit.reason });
        const account = await accounts.get(hit.account);
        if (!(await accounts.verifyToken(hit.account, hit.token)) || account === undefined) {
          throw new ApiError('invalidToken');
        }
        if (account.region !== region) throw new ApiError('wrongRegion', { region: account.region });
        if (!hitRateLimit.take(account.id)) throw new ApiError('tooManyHits', {}, { 'retry-after': '1' });
        const at = clock();
        const { activity, bot } = activityOfHit(
          hit,
          request.headers['user-agent'],
          at,
          countryOfIp?.(request.ip),
        );
        await store.record(bot ? botLaneOf(account.id) : account.id, [activity], at);
        return reply.code(202).send();
      });
    });
  },
};
