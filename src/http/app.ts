import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import Fastify, { type FastifyInstance, LogController, type onRequestAsyncHookHandler } from 'fastify';
import type { AccountRegistry } from '../accounts/account-registry.js';
import {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_MAX_HITS_PER_SECOND,
  DEFAULT_METRICS_TOP_ACCOUNTS,
} from '../defaults.js';
import { ApiError } from '../model/api-errors.js';
import type { Store } from '../store/store.js';
import { type AdmissionOptions, admit } from './admission.js';
import { answerClientError, answerConnect } from './client-error.js';
import { connectionOptions } from './connection-limits.js';
import { errorHandler, sendError, toApiError } from './error-envelope.js';
import { InFlightLimit } from './in-flight-limit.js';
import { registerJsonBodyParser } from './json-body-parser.js';
import { type LogLevel, loggerOptions, logRequests } from './logging.js';
import { AppMetrics } from './metrics.js';
import { instrumentStore } from './metrics-store.js';
import { NowFastLane } from './now-fast-lane.js';
import { NowStreamHub, type NowStreamOptions } from './now-stream-hub.js';
import { RateLimit } from './rate-limit.js';
import { decorateRequestAccount } from './request-account.js';
import { echoRequestId, requestIdGenerator } from './request-id.js';
import { allowedMethods, METHODS, type PathOperations, type RouteContext } from './route.js';
import { ROUTES } from './routes/index.js';

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
  /** Authenticated requests per second and account on average (bursts up to twice); unset: no limit. */
  readonly maxRequestsPerSecond?: number;
  /** Timeouts and header size of the HTTP server; defaults: DEFAULT_CONNECTION_LIMITS. */
  readonly connectionLimits?: Partial<ConnectionLimits>;
  /** `GET /metrics`: an optional bearer token, and how many accounts the active-users gauge shows. */
  readonly metrics?: { readonly token?: string; readonly topAccounts?: number };
  /** Limits and timing of `GET /1/now/stream` (open streams per account, interval, keep-alive). */
  readonly nowStream?: NowStreamOptions;
  /** Current time, epoch seconds; injectable for tests. */
  readonly clock?: () => number;
  /** The country of a client IP address; without it, only explicit `session.country` values count. */
  readonly countryOfIp?: (ip: string) => string | undefined;
  /**
   * The proxies (addresses and CIDR ranges) whose `X-Forwarded-For` names the client; unset or
   * empty: the client is the socket's peer.
   */
  readonly trustProxy?: readonly string[];
  /** Without one, nothing is logged. */
  readonly logLevel?: LogLevel;
}

/** An HTTP/1.1 request without the Host header it must have. */
function lacksHost(request: IncomingMessage): boolean {
  return request.httpVersion === '1.1' && request.headers.host === undefined;
}

export function systemClock(): number {
  return Math.floor(Date.now() / 1000);
}

/** The HTTP application: routes, authentication, limits and the error envelope, nothing listening. */
export function buildApp(options: AppOptions): FastifyInstance {
  const clock = options.clock ?? systemClock;
  const limits = connectionOptions({ ...DEFAULT_CONNECTION_LIMITS, ...options.connectionLimits });
  const requestId = requestIdGenerator();
  // Made once the routes exist; until then (and where it declines a request) Fastify serves.
  let nowFastLane: NowFastLane | undefined;
  const app = Fastify({
    logger: options.logLevel === undefined ? false : loggerOptions(options.logLevel),
    // Fastify's lines would log every request at info level; logRequests logs them at debug level.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    bodyLimit: options.maxBodyBytes,
    trustProxy:
      options.trustProxy !== undefined && options.trustProxy.length > 0 ? [...options.trustProxy] : false,
    exposeHeadRoutes: false,
    // Fastify's own 503 while closing is not the envelope: the first hook below answers it.
    return503OnClosing: false,
    // Timeouts and header size; Host is not required there: the hook below answers the envelope.
    ...limits,
    serverFactory: (fastify) =>
      httpServer(limits, (request, response) => {
        if (nowFastLane?.take(request, response) !== true) fastify(request, response);
      }),
    clientErrorHandler: answerClientError,
    // Requests Fastify refuses before routing (a path with broken percent-encoding) get the envelope too.
    // A request without Host is refused first, as the hook below does for routed requests.
    frameworkErrors: (error, request, reply) =>
      sendError(
        reply,
        lacksHost(request.raw) ? new ApiError('invalidHeaders') : toApiError(error, options.maxBodyBytes),
      ),
  });
  app.server.on('connect', answerConnect);
  echoRequestId(app);
  const logsEveryRequest = logRequests(app);
  // Set when close begins: requests still arriving on open connections are shed with the envelope.
  let closing = false;
  app.addHook('onRequest', (request, _reply, done) => {
    if (closing) return done(new ApiError('shuttingDown'));
    done(lacksHost(request.raw) ? new ApiError('invalidHeaders') : undefined);
  });
  // A request taken before close began is answered with Connection: close (as the fast lane does):
  // kept alive, its connection would hold close open until the keep-alive timeout, since Node looks
  // for idle connections to close only when close begins.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  decorateRequestAccount(app);
  registerJsonBodyParser(app);
  app.setErrorHandler(errorHandler(options.maxBodyBytes));
  app.setNotFoundHandler((_request, reply) => sendError(reply, new ApiError('routeNotFound')));

  const metrics = new AppMetrics({
    store: options.store,
    clock,
    topAccounts: options.metrics?.topAccounts ?? DEFAULT_METRICS_TOP_ACCOUNTS,
    // Called when scraped, by when the hub below exists.
    openStreams: () => hub.openStreams,
  });
  metrics.observeRequests(app);
  const store = instrumentStore(options.store, metrics);

  const admission: AdmissionOptions = {
    store,
    accounts: options.accounts,
    region: options.region,
    inFlight: new InFlightLimit(options.maxInFlight),
    requestRate:
      options.maxRequestsPerSecond === undefined ? undefined : new RateLimit(options.maxRequestsPerSecond),
  };
  const guard: onRequestAsyncHookHandler = async (request, reply) => {
    request.account = await admit(admission, request.headers, reply.raw);
  };

  const hub = new NowStreamHub(store, clock, options.nowStream, (error) =>
    app.log.warn({ err: error }, 'now stream: computing the result failed'),
  );
  // Open streams never finish on their own: end them first, or close would wait for them.
  app.addHook('preClose', (done) => {
    closing = true;
    hub.close();
    done();
  });

  const context: RouteContext = {
    store,
    accounts: options.accounts,
    region: options.region,
    clock,
    guard,
    horizonSeconds: options.horizonSeconds,
    maxBodyBytes: options.maxBodyBytes,
    hub,
    metrics,
    metricsToken: options.metrics?.token,
    hitRateLimit: new RateLimit(options.maxHitsPerSecond ?? DEFAULT_MAX_HITS_PER_SECOND),
    countryOfIp: options.countryOfIp,
    routes: ROUTES,
  };
  for (const route of ROUTES) {
    route.register(app, context);
    for (const [url, operations] of Object.entries(route.paths)) {
      refuseOtherMethods(app, url, operations);
    }
  }
  // Its requests would miss the per-request log lines: with those on, Fastify serves them all.
  if (!logsEveryRequest) {
    nowFastLane = new NowFastLane({
      admission,
      context,
      metrics,
      requestId,
      closing: () => closing,
      log: app.log,
    });
  }
  return app;
}

/** The HTTP server Fastify would make with these limits, with `listener` in front of it. */
function httpServer(limits: ReturnType<typeof connectionOptions>, listener: RequestListener): Server {
  const server = createServer(limits.http, listener);
  server.keepAliveTimeout = limits.keepAliveTimeout;
  server.requestTimeout = limits.requestTimeout;
  server.setTimeout(limits.connectionTimeout);
  return server;
}

/** Known paths answer the methods they have no operation for with 405 and an Allow header, not 404. */
function refuseOtherMethods(app: FastifyInstance, url: string, operations: PathOperations): void {
  const allow = allowedMethods(operations).join(', ');
  app.route({
    method: METHODS.filter((method) => operations[method] === undefined).map((method) =>
      method.toUpperCase(),
    ),
    url,
    handler: async (_request, reply) =>
      sendError(reply, new ApiError('methodNotAllowed', { allow }, { allow })),
  });
}
