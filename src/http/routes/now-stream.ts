import type { FastifyInstance } from 'fastify';
import type { AccountRegistry } from '../../accounts/account-registry.js';
import { ApiError } from '../../model/api-errors.js';
import type { Store } from '../../store/store.js';
import { ACCOUNT_ID_HEADER, authenticate } from '../authenticate.js';
import type { NowStreamHub } from '../now-stream-hub.js';
import { verifyReadToken } from '../read-token.js';
import { assertReady } from '../store-readiness.js';

export interface NowStreamRouteOptions {
  readonly store: Store;
  readonly accounts: AccountRegistry;
  readonly region: string;
  readonly hub: NowStreamHub;
  readonly clock: () => number;
}

/**
 * `GET /1/now/stream`: the now result with every split, as Server-Sent Events, authenticated by the
 * credential headers or by `?token=` (a read token from `POST /1/now/token`, for EventSource).
 * Streams do not count against the in-flight limit; they have their own.
 */
export function registerNowStreamRoute(app: FastifyInstance, options: NowStreamRouteOptions): void {
  const { store, accounts, region, hub, clock } = options;

  app.get('/1/now/stream', async (request, reply) => {
    assertReady(store);
    const token = (request.query as Record<string, unknown> | undefined)?.token;
    const account =
      token === undefined
        ? await authenticate(request.headers, accounts, region)
        : await accountOfReadToken(token, request.headers[ACCOUNT_ID_HEADER]);
    hub.assertRoom(account);
    reply.hijack();
    hub.open(account, reply.raw);
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
}
