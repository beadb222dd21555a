import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
  type onRequestAsyncHookHandler,
} from 'fastify';
import type { AccountRegistry } from '../accounts/account-registry.js';
import { ApiError } from '../model/api-errors.js';
import type { Store } from '../store/store.js';
import { authenticate } from './authenticate.js';
import { answerClientError } from './client-error.js';
import { errorHandler, sendError } from './error-envelope.js';
import { DEFAULT_MAX_HITS_PER_SECOND, HitRateLimit } from './hit-rate-limit.js';
import { InFlightLimit } from './in-flight-limit.js';
import { registerJsonBodyParser } from './json-body-parser.js';
import { NowStreamHub, type NowStreamOptions } from './now-stream-hub.js';
import { decorateRequestAccount } from './request-account.js';
import { registerCollectRoute } from './routes/collect.js';
import { DASHBOARD_URLS, registerDashboardRoutes } from './routes/dashboard.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerNowRoute } from './routes/now.js';
import { registerNowStreamRoutes } from './routes/now-stream.js';
import { registerTrackerRoute } from './routes/tracker.js';
import { registerUploadRoute } from './routes/upload.js';
import { assertReady } from './store-readiness.js';

export interface AppOptions {
  readonly store: Store;
  readonly accounts: AccountRegistry;
  /** The region this server answers for; accounts of other regions are refused. */
  readonly region: string;
  readonly maxBodyBytes: number;
  readonly maxInFlight: number;
  readonly horizonSeconds: number;
  /** Browser hits accepted per second and account on average (bursts up to twice). */
  readonly maxHitsPerSecond?: number;
  /** Limits and timing of `GET /1/now/stream` (open streams per account, interval, keep-alive). */
  readonly nowStream?: NowStreamOptions;
  /** Current time, epoch seconds; injectable for tests. */
  readonly clock?: () => number;
  readonly logger?: FastifyServerOptions['logger'];
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

export function systemClock(): number {
  return Math.floor(Date.now() / 1000);
}

/** The HTTP application: routes, authentication, limits and the error envelope, nothing listening. */
export function buildApp(options: AppOptions): FastifyInstance {
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    logger: options.logger ?? false,
    // Per-request log lines would cost more than the requests; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    exposeHeadRoutes: false,
    // Node answers an HTTP/1.1 request without Host with an empty 400; the hook below answers the envelope.
    http: { requireHostHeader: false },
    clientErrorHandler: answerClientError,
  });
  app.addHook('onRequest', (request, _reply, done) => {
    done(
      request.raw.httpVersion === '1.1' && request.headers.host === undefined
        ? new ApiError('invalidHeaders')
        : undefined,
    );
  });
  decorateRequestAccount(app);
  registerJsonBodyParser(app);
  app.setErrorHandler(errorHandler(options.maxBodyBytes));
  app.setNotFoundHandler((_request, reply) => sendError(reply, new ApiError('routeNotFound')));

  const inFlight = new InFlightLimit(options.maxInFlight);
  // Runs before the body is read, so requests without valid credentials cost no parsing.
  const guard: onRequestAsyncHookHandler = async (request, reply) => {
    assertReady(options.store);
    request.account = await authenticate(request.headers, options.accounts, options.region);
    const release = inFlight.acquire(request.account);
    reply.raw.once('close', release);
  };

  registerNowRoute(app, { guard, store: options.store, horizonSeconds: options.horizonSeconds, clock });
  registerUploadRoute(app, { guard, store: options.store, clock });
  const hub = new NowStreamHub(options.store, clock, options.nowStream, (error) =>
    app.log.warn({ err: error }, 'now stream: computing the result failed'),
  );
  // Open streams never finish on their own: end them first, or close would wait for them.
  app.addHook('preClose', (done) => {
    hub.close();
    done();
  });
  registerNowStreamRoutes(app, {
    guard,
    store: options.store,
    accounts: options.accounts,
    region: options.region,
    hub,
    clock,
  });
  registerHealthRoutes(app, options.store);
  registerTrackerRoute(app);
  registerDashboardRoutes(app);
  registerCollectRoute(app, {
    store: options.store,
    accounts: options.accounts,
    region: options.region,
    rateLimit: new HitRateLimit(options.maxHitsPerSecond ?? DEFAULT_MAX_HITS_PER_SECOND),
    clock,
  });
  for (const url of ['/1/now.json', '/1/upload']) refuseOtherMethods(app, url, ['POST']);
  refuseOtherMethods(app, '/1/now/token', ['POST']);
  refuseOtherMethods(app, '/1/now/stream', ['GET']);
  refuseOtherMethods(app, '/1/collect', ['POST', 'OPTIONS']);
  refuseOtherMethods(app, '/activenow.js', ['GET', 'HEAD']);
  for (const url of DASHBOARD_URLS) refuseOtherMethods(app, url, ['GET']);
  return app;
}

/** Known routes answer other methods with 405 and an Allow header, not 404. */
function refuseOtherMethods(app: FastifyInstance, url: string, allowed: readonly string[]): void {
  const allow = allowed.join(', ');
  app.route({
    method: ALL_METHODS.filter((method) => !allowed.includes(method)),
    url,
    handler: async (_request, reply) =>
      sendError(reply, new ApiError('methodNotAllowed', { allow }, { allow })),
  });
}
