import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_MAX_STREAMS } from '../defaults.js';
import { ApiError, type ErrorParams } from '../model/api-errors.js';
import { API_ERRORS, type ApiErrorName } from '../protocol/error-catalogue.js';
import { MAX_RECORDS_PER_UPLOAD } from '../protocol/upload-limits.js';
import { errorEnvelopeSchema } from './error-envelope.js';
import { ref, TAGS, withRequestId } from './operation-docs.js';
import { READ_TOKEN_TTL_SECONDS } from './read-token.js';
import { allowedMethods, type OpenApiOptions, type Route } from './route.js';

/**
 * The OpenAPI 3.1 description of the HTTP API (`GET /openapi.json`), assembled from the routes
 * (routes/index.ts): their operations, and the zod schemas they validate with as JSON Schema. This
 * file adds what is shared: info, tags, the responses of errors (from each operation's catalogue
 * errors), and the shared components (the error envelope, parameters, headers, security schemes).
 *
 * Methods a path does not serve are answered 405 with `Allow` by generated handlers (app.ts). They
 * are not listed as operations, which would give every client generator dozens of calls that can
 * only fail; each path's description names its methods, and components.responses.MethodNotAllowed
 * describes the answer.
 */

type Json = Record<string, unknown>;

export interface OpenApiDocument extends Json {
  readonly openapi: string;
  /** Path → path item: a description, then method → operation. */
  readonly paths: Record<string, Json>;
  readonly components: Record<string, Record<string, unknown>>;
}

const SCHEMAS_PATH = '#/components/schemas/';

/** The zod schema of each component, by component name: the document's schemas are generated from these. */
export function schemaComponents(
  routes: readonly Route[],
  options: OpenApiOptions,
): Record<string, z.ZodType> {
  const components: Record<string, z.ZodType> = {};
  for (const [name, schema] of routes.flatMap((route) => Object.entries(route.schemas?.(options) ?? {}))) {
    if (name in components) throw new Error(`two routes name a schema ${name}`);
    components[name] = schema;
  }
  return { ...components, ErrorEnvelope: errorEnvelopeSchema };
}

/** Components as JSON Schema 2020-12 (OpenAPI 3.1's dialect), referring to each other by `$ref`. */
function jsonSchemas(components: Record<string, z.ZodType>): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    uri: (id) => `${SCHEMAS_PATH}${id}`,
  });
  // `$id` and `$schema` belong to standalone schemas; inside a document they would rebase `$ref`s.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $id: _id, $schema: _schema, ...schema }]) => [id, schema]),
  );
}

/** Every route can answer these: a malformed request, a slow client, a shutdown, a bug. */
const ANY_ROUTE: readonly ApiErrorName[] = ['invalidHeaders', 'requestTimeout', 'internal', 'shuttingDown'];

/** Values for the placeholders of the examples of error responses. */
function exampleParams(options: OpenApiOptions): Partial<Record<ApiErrorName, ErrorParams>> {
  return {
    unknownParameter: { name: 'users' },
    invalidParameter: { name: 'user_type', reason: 'expected true or false' },
    tooManyRecords: { max: MAX_RECORDS_PER_UPLOAD },
    wrongRegion: { region: 'us1' },
    methodNotAllowed: { allow: 'POST' },
    bodyTooLarge: { max: options.maxBodyBytes },
    tooManyStreams: { max: DEFAULT_MAX_STREAMS },
  };
}

/** Headers an error answer carries besides its request id. */
function errorHeaders(status: number, kinds: readonly ApiErrorName[]): Record<string, unknown> {
  return {
    ...withRequestId,
    ...(status === 405 ? { Allow: ref('headers', 'Allow') } : {}),
    ...(status === 429 ? { 'Retry-After': ref('headers', 'Retry-After') } : {}),
    ...(kinds.includes('invalidMetricsToken')
      ? { 'WWW-Authenticate': ref('headers', 'WWW-Authenticate') }
      : {}),
  };
}

/** One response per status, its catalogue messages as named examples of the envelope. */
function errorResponses(
  errors: readonly ApiErrorName[],
  params: Partial<Record<ApiErrorName, ErrorParams>>,
): Record<string, Record<string, unknown>> {
  const byStatus = new Map<number, ApiErrorName[]>();
  for (const kind of new Set(errors)) {
    const status = API_ERRORS[kind].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), kind]);
  }
  const responses: Record<string, Record<string, unknown>> = {};
  for (const [status, kinds] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const examples = Object.fromEntries(
      kinds.map((kind) => {
        const error = new ApiError(kind, params[kind]);
        return [
          kind,
          {
            summary: API_ERRORS[kind].message,
            value: { status: 'fail', error: error.message, code: status },
          },
        ];
      }),
    );
    responses[status] = {
      description: kinds.map((kind) => API_ERRORS[kind].message).join(' · '),
      headers: errorHeaders(status, kinds),
      content: { 'application/json': { schema: ref('schemas', 'ErrorEnvelope'), examples } },
    };
  }
  return responses;
}

function version(): string {
  // src/http/ and dist/http/ are both two levels below the package root.
  const manifest = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

export function buildOpenApiDocument(routes: readonly Route[], options: OpenApiOptions): OpenApiDocument {
  const params = exampleParams(options);
  const paths: Record<string, Json> = {};
  for (const [path, methods] of routes.flatMap((route) => Object.entries(route.paths))) {
    paths[path] = {
      description: `Other methods: 405 with \`Allow: ${allowedMethods(methods).join(', ')}\`.`,
      ...Object.fromEntries(
        Object.entries(methods).map(([method, { errors, errorParams, responses, ...operation }]) => [
          method,
          {
            ...operation,
            responses: {
              ...responses,
              ...errorResponses([...errors, ...ANY_ROUTE], { ...params, ...errorParams }),
            },
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'activenow',
      version: version(),
      summary: 'Self-hosted, drop-in compatible CleverTap Real-Time Counts API',
      description:
        'CleverTap clients change only their base URL. Every error of every route, unknown routes (404) and methods a path does not serve (405, with Allow) included, is the envelope `{"status":"fail","error":…,"code":…}` with HTTP status = code (components.responses). Human-readable reference: docs/api.md.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: TAGS,
    paths,
    components: {
      schemas: jsonSchemas(schemaComponents(routes, options)),
      responses: {
        RouteNotFound: errorResponses(['routeNotFound'], params)[404],
        MethodNotAllowed: errorResponses(['methodNotAllowed'], params)[405],
      },
      parameters: {
        dryRun: {
          name: 'dryRun',
          in: 'query',
          description:
            '`1` or `true` (or empty): validate without storing. `0` or `false`: store (the default).',
          schema: { type: 'string', enum: ['', '1', 'true', '0', 'false'] },
        },
        'If-None-Match': {
          name: 'If-None-Match',
          in: 'header',
          description: 'ETags of a copy already held: 304 when one matches (weak comparison; `*` matches).',
          schema: { type: 'string' },
        },
        StreamAccountId: {
          name: 'X-CleverTap-Account-Id',
          in: 'header',
          description: "With `?token=`: optional, and if sent it must name the token's account.",
          schema: { type: 'string' },
        },
        StreamFilter: {
          name: 'filter',
          in: 'query',
          description:
            'activenow extension: the JSON of a now.json `filter` (`{"country":["IN"]}`): the stream counts only the users it keeps. Not available on the redis store (501).',
          schema: { type: 'string' },
        },
      },
      headers: {
        'X-Request-Id': {
          description: 'The request id: the incoming X-Request-Id if it is a short token, else one of ours.',
          schema: { type: 'string' },
        },
        'Retry-After': {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', const: 1 },
        },
        Allow: {
          description: 'The methods the path serves.',
          schema: { type: 'string', examples: ['POST'] },
        },
        ETag: { description: 'Strong ETag of the body.', schema: { type: 'string' } },
        'Cache-Control': { schema: { type: 'string' } },
        'Access-Control-Allow-Origin': { schema: { type: 'string', const: '*' } },
        'Content-Security-Policy': {
          description: "Strict: default-src 'self', no inline script or style, frame-ancestors 'none'.",
          schema: { type: 'string' },
        },
        'WWW-Authenticate': { schema: { type: 'string', const: 'Bearer' } },
      },
      securitySchemes: {
        accountId: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CleverTap-Account-Id',
          description: 'The account id.',
        },
        passcode: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CleverTap-Passcode',
          description: "One of the account's passcodes; required together with X-CleverTap-Account-Id.",
        },
        readToken: {
          type: 'apiKey',
          in: 'query',
          name: 'token',
          description: `A read token from POST /1/now/token (valid ${READ_TOKEN_TTL_SECONDS} s), for EventSource, which cannot send headers.`,
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The metrics token the server was started with, if any.',
        },
      },
    },
  };
}
