import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_MAX_STREAMS, MAX_HIT_BYTES } from '../../defaults.js';
import { hitSchema } from '../../ingest/browser-hit.js';
import { uploadRecordSchema } from '../../ingest/clevertap-record-schema.js';
import { ApiError, type ErrorParams } from '../../model/api-errors.js';
import { API_ERRORS, type ApiErrorName } from '../../protocol/error-catalogue.js';
import { MAX_RECORDS_PER_UPLOAD } from '../../protocol/upload-limits.js';
import { errorEnvelopeSchema } from '../error-envelope.js';
import { READ_TOKEN_TTL_SECONDS } from '../read-token.js';
import { healthResponseSchema, readyResponseSchema } from '../routes/health.js';
import { nowRequestSchema, nowResponseSchema } from '../routes/now.js';
import { emptyBodySchema, readTokenResponseSchema } from '../routes/now-token.js';
import { recordFailureSchema, uploadRequestSchema, uploadResponseSchema } from '../routes/upload.js';

/**
 * The OpenAPI 3.1 description of the HTTP API (`GET /openapi.json`). Schemas are generated from the
 * zod schemas the routes validate with (api-schemas.ts); this file adds what JSON Schema cannot say:
 * paths, methods, security, headers, the errors each route can answer, and examples.
 *
 * Methods a path does not serve are answered 405 with `Allow` by generated handlers (app.ts). They
 * are not listed as operations, which would give every client generator dozens of calls that can
 * only fail; each path's description names its methods, and components.responses.MethodNotAllowed
 * describes the answer.
 */

export interface OpenApiOptions {
  /** Bounds the `window` parameter of `/1/now.json`. */
  readonly horizonSeconds: number;
  readonly maxBodyBytes: number;
}

type Json = Record<string, unknown>;

export interface OpenApiDocument extends Json {
  readonly openapi: string;
  /** Path → path item: a description, then method → operation. */
  readonly paths: Record<string, Json>;
  readonly components: Record<string, Record<string, unknown>>;
}

const SCHEMAS_PATH = '#/components/schemas/';

/** The zod schema of each component, by component name: the document's schemas are generated from these. */
export function schemaComponents(options: OpenApiOptions): Record<string, z.ZodType> {
  return {
    NowRequest: nowRequestSchema(options.horizonSeconds),
    EmptyBody: emptyBodySchema,
    UploadRequest: uploadRequestSchema,
    UploadRecord: uploadRecordSchema,
    CollectHit: hitSchema,
    NowResponse: nowResponseSchema,
    UploadResponse: uploadResponseSchema,
    RecordFailure: recordFailureSchema,
    ReadTokenResponse: readTokenResponseSchema,
    HealthResponse: healthResponseSchema,
    ReadyResponse: readyResponseSchema,
    ErrorEnvelope: errorEnvelopeSchema,
  };
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

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** Every answer to a request the server could read carries its request id. */
const withRequestId = { 'X-Request-Id': ref('headers', 'X-Request-Id') };

/** Every route can answer these: a malformed request, a slow client, a shutdown, a bug. */
const ANY_ROUTE: readonly ApiErrorName[] = ['invalidHeaders', 'requestTimeout', 'internal', 'shuttingDown'];
const STORE: readonly ApiErrorName[] = ['notReady', 'storeUnavailable'];
const CREDENTIALS: readonly ApiErrorName[] = [
  'credentialsMissing',
  'invalidAccount',
  'invalidPasscode',
  'wrongRegion',
];
/** The guard of the authenticated POST routes, before the body is read. */
const GUARD: readonly ApiErrorName[] = [...STORE, ...CREDENTIALS, 'tooManyRequests', 'tooManyConcurrent'];
const JSON_BODY: readonly ApiErrorName[] = ['invalidContentType', 'invalidJson', 'invalidEncoding'];

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

function jsonResponse(description: string, schema: string, example?: unknown, headers: object = {}) {
  return {
    description,
    headers: { ...withRequestId, ...headers },
    content: {
      'application/json': {
        schema: ref('schemas', schema),
        ...(example === undefined ? {} : { examples: { example: { value: example } } }),
      },
    },
  };
}

function jsonBody(schema: string, examples: Record<string, unknown>, required = true) {
  return {
    required,
    content: {
      'application/json': {
        schema: ref('schemas', schema),
        examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])),
      },
    },
  };
}

/**
 * A file served whole: 200 with its body (`schema: null` for HEAD: none), 304 when `If-None-Match`
 * matches its ETag.
 */
function fileResponses(
  type: string,
  description: string,
  headers: object,
  schema: object | null = { type: 'string' },
) {
  const common = {
    ...withRequestId,
    ETag: ref('headers', 'ETag'),
    'Cache-Control': ref('headers', 'Cache-Control'),
    ...headers,
  };
  return {
    200: { description, headers: common, ...(schema === null ? {} : { content: { [type]: { schema } } }) },
    304: { description: 'Not modified: `If-None-Match` matched the ETag. No body.', headers: common },
  };
}

const CREDENTIALS_SECURITY = [{ accountId: [], passcode: [] }];
const PUBLIC = [] as const;

const DASHBOARD_HEADERS = {
  'Content-Security-Policy': ref('headers', 'Content-Security-Policy'),
};

type OperationSpec = Json & {
  readonly responses: Json;
  /** The catalogue errors this operation can answer, besides those of every route. */
  readonly errors: readonly ApiErrorName[];
  /** Placeholder values of its error examples, where they differ from exampleParams. */
  readonly errorParams?: Partial<Record<ApiErrorName, ErrorParams>>;
};

function operations(): Record<string, Record<string, OperationSpec>> {
  const upload = {
    d: [
      {
        identity: 'u1',
        type: 'event',
        evtName: 'App Launched',
        ts: 1764145200,
        evtData: {},
        session: { source: 'Push', browser: 'App', os: 'Android', device: 'Mobile' },
      },
      { identity: 'u2', type: 'profile', profileData: { Name: 'Ada' } },
    ],
  };
  const fileOperation = (operationId: string, summary: string, type: string, headers: object = {}) => ({
    operationId,
    summary,
    tags: ['Browser'],
    security: PUBLIC,
    parameters: [ref('parameters', 'If-None-Match')],
    responses: fileResponses(type, summary, headers),
    errors: [],
  });
  return {
    '/1/now.json': {
      post: {
        operationId: 'now',
        summary: 'Distinct active users now, optionally split (CleverTap Real-Time Counts)',
        description:
          'Users with at least one event in (now − window, now]. Each requested split maps value → users and sums to count; `new` holds the splits of new users when user_type and a split are requested. `window` and `timeline` are activenow extensions.',
        tags: ['Real-Time Counts'],
        security: CREDENTIALS_SECURITY,
        requestBody: jsonBody(
          'NowRequest',
          {
            splits: { user_type: true, browser: true, device: true },
            extensions: { window: 600, timeline: true },
          },
          false,
        ),
        responses: {
          200: jsonResponse('The count and the splits asked for.', 'NowResponse', {
            status: 'success',
            count: 214,
            user_type: { new: 58, returning: 156 },
            browser: { Chrome: 120, Safari: 94 },
            new: { browser: { Chrome: 30, Safari: 28 } },
          }),
        },
        errors: [
          ...GUARD,
          ...JSON_BODY,
          'bodyTooLarge',
          'bodyNotObject',
          'unknownParameter',
          'invalidParameter',
        ],
      },
    },
    '/1/upload': {
      post: {
        operationId: 'upload',
        summary: 'Upload events and profiles (CleverTap Upload Events/Profiles)',
        description: `At most ${MAX_RECORDS_PER_UPLOAD} records. Answered 200 whenever the request itself is valid: invalid records are listed in \`unprocessed\` with their code and skipped. A 200 means every processed record is stored; re-sending an event changes no distinct count, so a request that failed with 5xx can be retried.`,
        tags: ['Real-Time Counts'],
        security: CREDENTIALS_SECURITY,
        parameters: [ref('parameters', 'dryRun')],
        requestBody: jsonBody('UploadRequest', { events: upload }),
        responses: {
          200: jsonResponse('Records processed; the failed ones, each with its code.', 'UploadResponse', {
            status: 'success',
            processed: 1,
            unprocessed: [
              {
                status: 'fail',
                code: 523,
                error: 'Missing identity. Skipped record number : 2',
                record: '{"type":"event","evtName":"x"}',
              },
            ],
          }),
        },
        errors: [
          ...GUARD,
          ...JSON_BODY,
          'bodyTooLarge',
          'bodyNotObject',
          'recordsMissing',
          'tooManyRecords',
          'invalidParameter',
        ],
      },
    },
    '/1/now/token': {
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
    '/1/now/stream': {
      get: {
        operationId: 'nowStream',
        summary: 'The now result, live, as Server-Sent Events (activenow extension)',
        description:
          'Each event is one `data:` line holding the body `POST /1/now.json` answers with every split and the timeline (schema NowResponse), sent when it changes; `: keep-alive` comments every 15 s while nothing does. Authenticated by the credential headers or by `?token=` from `POST /1/now/token`. Streams count against their own limit per account, not the in-flight one.',
        tags: ['activenow extensions'],
        security: [...CREDENTIALS_SECURITY, { readToken: [] }],
        parameters: [ref('parameters', 'StreamAccountId')],
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
        errors: [...STORE, ...CREDENTIALS, 'invalidReadToken', 'tooManyStreams'],
      },
    },
    '/1/collect': {
      post: {
        operationId: 'collect',
        summary: 'One hit of the browser tracker',
        description: `Public: authenticated by the account id and public token in the body (write-only). The body is JSON sent as text/plain (no CORS preflight) or application/json, at most ${MAX_HIT_BYTES} bytes. Browser, OS and device come from the User-Agent; bots are accepted and not counted. Every answer, errors included, carries Access-Control-Allow-Origin: *.`,
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
          202: {
            description: 'Accepted. No body.',
            headers: {
              ...withRequestId,
              'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
            },
          },
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
            headers: {
              ...withRequestId,
              'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
            },
          },
        },
        errors: [],
      },
    },
    '/activenow.js': {
      get: fileOperation('trackerScript', 'The browser tracker script', 'application/javascript', {
        'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
      }),
      head: {
        ...fileOperation(
          'trackerScriptHead',
          'The tracker script headers, without the body',
          'application/javascript',
        ),
        responses: fileResponses('application/javascript', 'The headers of GET, no body.', {}, null),
      },
    },
    '/dashboard': {
      get: fileOperation('dashboard', 'The live dashboard page', 'text/html', DASHBOARD_HEADERS),
    },
    '/dashboard/app.js': {
      get: fileOperation(
        'dashboardScript',
        'The dashboard script',
        'application/javascript',
        DASHBOARD_HEADERS,
      ),
    },
    '/dashboard/style.css': {
      get: fileOperation('dashboardStyle', 'The dashboard style sheet', 'text/css', DASHBOARD_HEADERS),
    },
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'The process answers',
        tags: ['Operations'],
        security: PUBLIC,
        responses: { 200: jsonResponse('Alive.', 'HealthResponse', { status: 'ok' }) },
        errors: [],
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'The store is recovered and reachable',
        tags: ['Operations'],
        security: PUBLIC,
        responses: { 200: jsonResponse('Ready to serve.', 'ReadyResponse', { status: 'ready' }) },
        errors: STORE,
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        description:
          'Prometheus text exposition format. Open unless the server is started with a metrics token; then `Authorization: Bearer <token>` is required.',
        tags: ['Operations'],
        security: [{}, { metricsToken: [] }],
        responses: {
          200: {
            description: 'The metrics.',
            headers: { ...withRequestId, 'Cache-Control': ref('headers', 'Cache-Control') },
            content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
          },
        },
        errors: ['invalidMetricsToken'],
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        tags: ['Operations'],
        security: PUBLIC,
        parameters: [ref('parameters', 'If-None-Match')],
        responses: fileResponses('application/json', 'The OpenAPI 3.1 document.', {}, { type: 'object' }),
        errors: [],
      },
    },
  };
}

function version(): string {
  // src/http/openapi/ and dist/http/openapi/ are both three levels below the package root.
  const manifest = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const params = exampleParams(options);
  const paths: Record<string, Json> = {};
  for (const [path, methods] of Object.entries(operations())) {
    const allow = Object.keys(methods).map((method) => method.toUpperCase());
    paths[path] = {
      description: `Other methods: 405 with \`Allow: ${allow.join(', ')}\`.`,
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
    tags: [
      { name: 'Real-Time Counts', description: 'CleverTap-compatible API.' },
      { name: 'activenow extensions', description: 'Beyond CleverTap: the live stream and its token.' },
      { name: 'Browser', description: 'The tracker, its endpoint, and the dashboard.' },
      { name: 'Operations', description: 'Health, readiness, metrics, this document.' },
    ],
    paths,
    components: {
      schemas: jsonSchemas(schemaComponents(options)),
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
