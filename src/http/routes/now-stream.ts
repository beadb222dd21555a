import { ApiError } from '../../model/api-errors.js';
import { ACCOUNT_ID_HEADER, authenticate } from '../authenticate.js';
import { parseFilterParameter } from '../now-filter.js';
import { streamQueryOf } from '../now-stream-hub.js';
import { CREDENTIALS, CREDENTIALS_SECURITY, ref, STORE, withRequestId } from '../operation-docs.js';
import { verifyReadToken } from '../read-token.js';
import type { Route } from '../route.js';
import { assertReady } from '../store-readiness.js';

const PATH = '/1/now/stream';

/**
 * `GET /1/now/stream`: the now result with every split, as Server-Sent Events, authenticated by the
 * credential headers or by `?token=` (a read token from `POST /1/now/token`, for EventSource).
 * Streams do not count against the in-flight limit; they have their own.
 */
export const nowStreamRoute: Route = {
  paths: {
    [PATH]: {
      get: {
        operationId: 'nowStream',
        summary: 'The now result, live, as Server-Sent Events (activenow extension)',
        description:
          'Each event is one `data:` line holding the body `POST /1/now.json` answers with every split, the timeline and bots (schema NowResponse), sent when it changes; `: keep-alive` comments every 15 s while nothing does. Authenticated by the credential headers or by `?token=` from `POST /1/now/token`. Streams count against their own limit per account, not the in-flight one.',
        tags: ['activenow extensions'],
        security: [...CREDENTIALS_SECURITY, { readToken: [] }],
        parameters: [ref('parameters', 'StreamAccountId'), ref('parameters', 'StreamFilter')],
        responses: {
          200: {
            description: 'The stream (`text/event-stream`). Each `data:` line is a NowResponse as JSON.',
            headers: withRequestId,
            content: {
              'text/event-stream': {
                schema: { type: 'string' },
                examples: {
                  stream: {
                    value:
                      'data: {"status":"success","count":2,"user_type":{"new":2,"returning":0},…}\n\n: keep-alive\n\n',
                  },
                },
              },
            },
          },
        },
        errors: [
          ...STORE,
          ...CREDENTIALS,
          'invalidReadToken',
          'tooManyStreams',
          'unknownParameter',
          'invalidParameter',
          'unsupportedParameter',
        ],
      },
    },
  },
  register(app, { store, accounts, region, hub, clock }) {
    app.get(PATH, async (request, reply) => {
      assertReady(store);
      const parameters = request.query as Record<string, unknown> | undefined;
      const token = parameters?.token;
      const account =
        token === undefined
          ? await authenticate(request.headers, accounts, region)
          : await accountOfReadToken(token, request.headers[ACCOUNT_ID_HEADER]);
      const filter = parseFilterParameter(parameters?.filter);
      hub.assertRoom(account);
      // Asked once before streaming, so that a store that cannot filter refuses with its own error;
      // the room is checked again after it, as other streams may have opened meanwhile, and no error
      // can be answered once the reply is hijacked.
      if (filter !== undefined) {
        await store.now(account, streamQueryOf(store, filter), clock());
        hub.assertRoom(account);
      }
      reply.hijack();
      hub.open(account, reply.raw, filter);
    });

    /** The account a read token opens; an account id header, if any, must name the same account. */
    async function accountOfReadToken(token: unknown, idHeader: unknown): Promise<string> {
      if (typeof token !== 'string') throw new ApiError('invalidReadToken');
      const account = verifyReadToken(await accounts.readTokenKey(), token, clock());
      if (idHeader !== undefined && (typeof idHeader !== 'string' || idHeader.trim() !== account)) {
        throw new ApiError('invalidReadToken');
      }
      // A token outlives nothing: a deleted account, or one moved to another region, is refused.
      const found = account === undefined ? undefined : await accounts.get(account);
      if (account === undefined || found === undefined || found.region !== region) {
        throw new ApiError('invalidReadToken');
      }
      return account;
    }
  },
};
