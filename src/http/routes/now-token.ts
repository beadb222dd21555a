import { z } from 'zod';
import { JSON_UTF8 } from '../error-envelope.js';
import { CREDENTIALS_SECURITY, GUARD, JSON_BODY, jsonBody, jsonResponse, ref } from '../operation-docs.js';
import { issueReadToken, READ_TOKEN_TTL_SECONDS } from '../read-token.js';
import { accountOf } from '../request-account.js';
import { parseBody } from '../request-body.js';
import type { Route } from '../route.js';

/** The route takes no parameters: `{}` or no body. */
export const emptyBodySchema = z.strictObject({}).meta({ description: '`{}` or no body.' });

export const readTokenResponseSchema = z.strictObject({
  status: z.literal('success'),
  token: z.string(),
  expires_in: z.int().positive().meta({ description: 'Seconds the token stays valid.' }),
});

const PATH = '/1/now/token';

/**
 * `POST /1/now/token`: a read token that opens this account's `GET /1/now/stream?token=…` (EventSource
 * cannot send the credential headers), so a browser page reads the stream without the passcode.
 */
export const nowTokenRoute: Route = {
  paths: {
    [PATH]: {
      post: {
        operationId: 'nowToken',
        summary: 'A short-lived read token for the now stream (activenow extension)',
        description: `The token opens this account's \`GET /1/now/stream?token=…\`, and nothing else, for ${READ_TOKEN_TTL_SECONDS} s, so a browser page can read the stream without holding the passcode.`,
        tags: ['activenow extensions'],
        security: CREDENTIALS_SECURITY,
        requestBody: jsonBody('EmptyBody', { empty: {} }, false),
        responses: {
          200: jsonResponse(
            'The token.',
            'ReadTokenResponse',
            {
              status: 'success',
              token: 'VzlSLTQ4Ni00VzVaCjE3NjQxNDU1MDA.3kq…',
              expires_in: READ_TOKEN_TTL_SECONDS,
            },
            { 'Cache-Control': ref('headers', 'Cache-Control') },
          ),
        },
        errors: [...GUARD, ...JSON_BODY, 'bodyTooLarge', 'bodyNotObject', 'unknownParameter'],
      },
    },
  },
  schemas: () => ({ EmptyBody: emptyBodySchema, ReadTokenResponse: readTokenResponseSchema }),
  register(app, { guard, accounts, clock }) {
    app.post(PATH, { onRequest: guard }, async (request, reply) => {
      parseBody(emptyBodySchema, request.body);
      const account = accountOf(request);
      const token = issueReadToken(await accounts.readTokenKey(), account, clock() + READ_TOKEN_TTL_SECONDS);
      return reply
        .header('cache-control', 'no-store')
        .type(JSON_UTF8)
        .send(JSON.stringify({ status: 'success', token, expires_in: READ_TOKEN_TTL_SECONDS }));
    });
  },
};
