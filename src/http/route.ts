import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { z } from 'zod';
import type { AccountRegistry } from '../accounts/account-registry.js';
import type { Store } from '../store/store.js';
import type { AppMetrics } from './metrics.js';
import type { NowStreamHub } from './now-stream-hub.js';
import type { Operation } from './operation-docs.js';
import type { RateLimit } from './rate-limit.js';

/** The methods a path can serve, as OpenAPI names them. */
export const METHODS = ['get', 'head', 'post', 'put', 'delete', 'patch', 'options'] as const;
export type Method = (typeof METHODS)[number];

/** A path's operations by method: the methods it serves, and the only ones (the others get a 405). */
export type PathOperations = Readonly<Partial<Record<Method, Operation>>>;

/** The settings of the server the OpenAPI document depends on. */
export interface OpenApiOptions {
  /** Bounds the `window` parameter of `/1/now.json`. */
  readonly horizonSeconds: number;
  readonly maxBodyBytes: number;
}

/** What the handlers of the routes need, built once per app. */
export interface RouteContext extends OpenApiOptions {
  /** Instrumented: its latency is measured. */
  readonly store: Store;
  readonly accounts: AccountRegistry;
  /** The region this server answers for; accounts of other regions are refused. */
  readonly region: string;
  /** Current time, epoch seconds. */
  readonly clock: () => number;
  /** Readiness, credentials and the per-account limits, checked before a body is read. */
  readonly guard: onRequestAsyncHookHandler;
  readonly hub: NowStreamHub;
  readonly metrics: AppMetrics;
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  readonly metricsToken?: string;
  /** Browser hits per account. */
  readonly hitRateLimit: RateLimit;
  /** The country of a client IP address (tracker hits, `session.ip` of uploads); the address is not kept. */
  readonly countryOfIp?: (ip: string) => string | undefined;
  /** Every route of the app, for the document that describes them. */
  readonly routes: readonly Route[];
}

/**
 * A route module: what it serves and how it is documented, together. The app registers it and
 * answers 405 with `Allow` to the methods its paths have no operation for; the OpenAPI document is
 * assembled from its paths and schemas.
 */
export interface Route {
  /** Path → method → operation; `register` serves exactly these. */
  readonly paths: Readonly<Record<string, PathOperations>>;
  /** The zod schemas its operations refer to as `ref('schemas', name)`, by name. */
  readonly schemas?: (options: OpenApiOptions) => Readonly<Record<string, z.ZodType>>;
  readonly register: (app: FastifyInstance, context: RouteContext) => void;
}

/** The methods of a path, upper case, in the order of its operations: its `Allow` header. */
export function allowedMethods(operations: PathOperations): string[] {
  return Object.keys(operations).map((method) => method.toUpperCase());
}
