import type { ErrorParams } from '../model/api-errors.js';
import type { ApiErrorName } from '../protocol/error-catalogue.js';

/**
 * What routes describe their operations with (the OpenAPI document assembles them, openapi-document.ts):
 * the operation's shape, references to the document's shared components, the usual responses and
 * request bodies, and the groups of catalogue errors several routes share.
 */

/** A JSON object of the document. */
export type JsonObject = { readonly [key: string]: unknown };

/** The document's tags, in its order; every operation names one. */
export const TAGS = [
  { name: 'Real-Time Counts', description: 'CleverTap-compatible API.' },
  { name: 'activenow extensions', description: 'Beyond CleverTap: the live stream and its token.' },
  { name: 'Browser', description: 'The tracker, its endpoint, and the dashboard.' },
  { name: 'Operations', description: 'Health, readiness, metrics, this document.' },
] as const;

export type Tag = (typeof TAGS)[number]['name'];

/** Security scheme name → scopes (none are used); `{}` stands for no authentication. */
type SecurityRequirement = Readonly<Record<string, readonly string[]>>;

/** An OpenAPI operation, with the catalogue errors it answers instead of their responses. */
export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly Tag[];
  readonly security: readonly SecurityRequirement[];
  readonly parameters?: readonly JsonObject[];
  readonly requestBody?: JsonObject;
  /** Its answers other than errors, by status. */
  readonly responses: Readonly<Record<number, JsonObject>>;
  /** The catalogue errors it can answer, besides those every route can: the document makes them responses. */
  readonly errors: readonly ApiErrorName[];
  /** Placeholder values of its error examples, where they differ from the document's. */
  readonly errorParams?: Partial<Record<ApiErrorName, ErrorParams>>;
}

export const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** Every answer to a request the server could read carries its request id. */
export const withRequestId = { 'X-Request-Id': ref('headers', 'X-Request-Id') };

/** Carried by the answers of the public browser routes, which any page may read. */
export const allowAnyOrigin = {
  'Access-Control-Allow-Origin': ref('headers', 'Access-Control-Allow-Origin'),
};

export const CREDENTIALS_SECURITY = [{ accountId: [], passcode: [] }];
export const PUBLIC = [] as const;

export const STORE: readonly ApiErrorName[] = ['notReady', 'storeUnavailable'];
export const CREDENTIALS: readonly ApiErrorName[] = [
  'credentialsMissing',
  'invalidAccount',
  'invalidPasscode',
  'wrongRegion',
];
/** The guard of the authenticated POST routes, before the body is read. */
export const GUARD: readonly ApiErrorName[] = [
  ...STORE,
  ...CREDENTIALS,
  'tooManyRequests',
  'tooManyConcurrent',
];
export const JSON_BODY: readonly ApiErrorName[] = ['invalidContentType', 'invalidJson', 'invalidEncoding'];

export function jsonResponse(description: string, schema: string, example?: unknown, headers: object = {}) {
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

export function jsonBody(schema: string, examples: Record<string, unknown>, required = true) {
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
export function fileResponses(
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

/** `GET` of a public file of the browser side (the tracker, the dashboard), cached by ETag. */
export function fileOperation(
  operationId: string,
  summary: string,
  type: string,
  headers: object = {},
): Operation {
  return {
    operationId,
    summary,
    tags: ['Browser'],
    security: PUBLIC,
    parameters: [ref('parameters', 'If-None-Match')],
    responses: fileResponses(type, summary, headers),
    errors: [],
  };
}
