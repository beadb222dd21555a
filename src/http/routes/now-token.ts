import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { AccountRegistry } from '../../accounts/account-registry.js';
import { issueReadToken, READ_TOKEN_TTL_SECONDS } from '../read-token.js';
import { accountOf } from '../request-account.js';
import { parseBody } from '../request-body.js';

/** The route takes no parameters: `{}` or no body. */
export const emptyBodySchema = z.strictObject({}).meta({ description: '`{}` or no body.' });

export const readTokenResponseSchema = z.strictObject({
  status: z.literal('success'),
  token: z.string(),
  expires_in: z.int().positive().meta({ description: 'Seconds the token stays valid.' }),
});

export interface NowTokenRouteOptions {
  /** Authenticates and admits the request before its body is read. */
  readonly guard: onRequestAsyncHookHandler;
  readonly accounts: AccountRegistry;
  readonly clock: () => number;
}

/**
 * `POST /1/now/token`: a read token that opens this account's `GET /1/now/stream?token=…` (EventSource
 * cannot send the credential headers), so a browser page reads the stream without the passcode.
 */
export function registerNowTokenRoute(app: FastifyInstance, options: NowTokenRouteOptions): void {
  const { accounts, clock } = options;
  app.post('/1/now/token', { onRequest: options.guard }, async (request, reply) => {
    parseBody(emptyBodySchema, request.body);
    const account = accountOf(request);
    const token = issueReadToken(await accounts.readTokenKey(), account, clock() + READ_TOKEN_TTL_SECONDS);
    return reply
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify({ status: 'success', token, expires_in: READ_TOKEN_TTL_SECONDS }));
  });
}
