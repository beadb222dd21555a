import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { schemaComponents } from '../../src/http/openapi-document.js';
import { ROUTES } from '../../src/http/routes/index.js';
import { API_ERRORS, type ApiErrorName } from '../../src/protocol/error-catalogue.js';
import { RawConnection } from '../support/raw-http.js';
import { credentials, startTestServer, type TestServer } from '../support/test-server.js';

/**
 * GET /openapi.json against real servers: a structurally valid OpenAPI 3.1 document that lists
 * exactly the routes the server serves, every error each route was made to answer, and schemas that
 * real answers and the document's own examples satisfy. The zod schemas the document's components
 * are generated from stand in for a JSON Schema validator (there is none among the dependencies).
 */

type Node = Record<string, unknown>;

const MAX_BODY_BYTES = 64 * 1024;
const HORIZON_SECONDS = 1800;
const METRICS_TOKEN = 'metrics-token-of-at-least-32-characters';
const SCHEMAS = '#/components/schemas/';
const components = schemaComponents(ROUTES, {
  horizonSeconds: HORIZON_SECONDS,
  maxBodyBytes: MAX_BODY_BYTES,
});

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Fixed fields of OpenAPI 3.1 objects; `x-` extensions aside, nothing else may appear. */
const FIELDS = {
  pathItem: ['$ref', 'summary', 'description', 'servers', 'parameters', ...METHODS],
  operation: [
    'tags',
    'summary',
    'description',
    'externalDocs',
    'operationId',
    'parameters',
    'requestBody',
    'responses',
    'callbacks',
    'deprecated',
    'security',
    'servers',
  ],
  response: ['description', 'headers', 'content', 'links'],
  mediaType: ['schema', 'example', 'examples', 'encoding'],
  header: [
    'description',
    'required',
    'deprecated',
    'schema',
    'content',
    'style',
    'explode',
    'example',
    'examples',
  ],
  parameter: [
    'name',
    'in',
    'description',
    'required',
    'deprecated',
    'allowEmptyValue',
    'schema',
    'style',
    'explode',
    'example',
    'examples',
  ],
};

let main: TestServer;
/** Every per-account limit at zero, and /metrics behind a token. */
let limited: TestServer;
/** No request may be in flight. */
let busy: TestServer;
let foreign: AccountCredentials;
let doc: Node;

beforeAll(async () => {
  main = await startTestServer({ maxBodyBytes: MAX_BODY_BYTES, horizonSeconds: HORIZON_SECONDS });
  limited = await startTestServer({
    maxRequestsPerSecond: 0,
    maxHitsPerSecond: 0,
    nowStream: { maxStreams: 0 },
    metrics: { token: METRICS_TOKEN },
  });
  busy = await startTestServer({ maxInFlight: 0 });
  foreign = await main.accounts.create({ name: 'foreign', region: 'us1' });
  const response = await fetch(`${main.url}/openapi.json`);
  expect(response.status).toBe(200);
  doc = (await response.json()) as Node;
});

afterAll(async () => {
  await Promise.all([main, limited, busy].map((server) => server?.close()));
});

// ---------------------------------------------------------------------------------------------

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function node(value: unknown, what: string): Node {
  if (!isNode(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
}

/** The target of a local `$ref` (JSON Pointer), or undefined when it does not resolve. */
function resolvePointer(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isNode(at) && !Array.isArray(at)) return undefined;
    at = (at as Node)[key];
    if (at === undefined) return undefined;
  }
  return at;
}

/** The object itself, or what its `$ref` points to. */
function deref(value: unknown, what: string): Node {
  const object = node(value, what);
  return typeof object.$ref === 'string' ? node(resolvePointer(object.$ref), object.$ref) : object;
}

/** Every object in the tree, with its path. */
function* walk(value: unknown, path = '#'): Generator<[string, Node]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* walk(item, `${path}/${i}`);
  } else if (isNode(value)) {
    yield [path, value];
    for (const [key, item] of Object.entries(value)) yield* walk(item, `${path}/${key}`);
  }
}

function operationsOf(): [path: string, method: string, operation: Node][] {
  return Object.entries(node(doc.paths, 'paths')).flatMap(([path, item]) =>
    Object.entries(node(item, path))
      .filter(([key]) => METHODS.includes(key))
      .map(([method, operation]): [string, string, Node] => [
        path,
        method,
        node(operation, `${method} ${path}`),
      ]),
  );
}

function expectOnlyFields(object: Node, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key) && !key.startsWith('x-'));
  expect(unknown, `fields of ${what}`).toEqual([]);
}

/** A catalogue message template as a pattern: `{name}` stands for any text. */
function templatePattern(kind: ApiErrorName): RegExp {
  const escaped = API_ERRORS[kind].message.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\{\w+\}/g, '.+')}$`);
}

/** Checks a value against the schema of a media type: components by their zod schema, inline ones by type. */
function expectSchemaValid(schema: Node, value: unknown, what: string): void {
  if (typeof schema.$ref === 'string') {
    expect(schema.$ref.startsWith(SCHEMAS), `${what}: ${schema.$ref}`).toBe(true);
    const zod = components[schema.$ref.slice(SCHEMAS.length)];
    expect(zod, `${what}: zod schema of ${schema.$ref}`).toBeDefined();
    const parsed = zod.safeParse(value);
    expect(parsed.error?.issues, `${what}: ${JSON.stringify(value)}`).toBeUndefined();
  } else if (schema.type === 'string') {
    expect(typeof value, what).toBe('string');
  } else {
    expect(schema.type, what).toBe('object');
    expect(isNode(value), what).toBe(true);
  }
}

interface Answer {
  readonly status: number;
  header(name: string): string | undefined;
  readonly text: string;
}

async function request(
  server: TestServer,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, { method, headers: init.headers, body: init.body });
  return {
    status: response.status,
    header: (name) => response.headers.get(name) ?? undefined,
    text: await response.text(),
  };
}

/** An HTTP/1.1 request without Host, which fetch cannot send. */
async function requestWithoutHost(server: TestServer, method: string, path: string): Promise<Answer> {
  const connection = await RawConnection.open(server.port);
  try {
    connection.write(`${method} ${path} HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    const answer = await connection.response();
    return { status: answer.status, header: (name) => answer.headers[name.toLowerCase()], text: answer.text };
  } finally {
    connection.destroy();
  }
}

/**
 * The answer is one the document describes for this operation: its status, the headers that
 * response lists, its media type and schema, and for errors, the catalogue entry among its examples.
 */
function expectDocumented(path: string, method: string, answer: Answer): void {
  const what = `${method} ${path} → ${answer.status} ${answer.text.slice(0, 200)}`;
  const operation = node(node(node(doc.paths, 'paths')[path], path)[method.toLowerCase()], what);
  const response = deref(node(operation.responses, what)[String(answer.status)], what);
  for (const name of Object.keys(isNode(response.headers) ? response.headers : {})) {
    expect(answer.header(name), `${what}: header ${name}`).toBeDefined();
  }
  if (!isNode(response.content) || method === 'HEAD') {
    expect(answer.text, what).toBe('');
    return;
  }
  const type = (answer.header('content-type') ?? '').split(';')[0].trim();
  const mediaKey = Object.keys(response.content).find((key) => key.split(';')[0].trim() === type);
  expect(mediaKey, `${what}: media type ${type}`).toBeDefined();
  const media = node(response.content[mediaKey as string], what);
  const body: unknown = type === 'application/json' ? JSON.parse(answer.text) : answer.text;
  expectSchemaValid(node(media.schema, what), body, what);
  if (answer.status >= 400) {
    const kinds = Object.keys(node(media.examples, what)) as ApiErrorName[];
    const message = (body as { error: string }).error;
    expect(
      kinds.filter((kind) => templatePattern(kind).test(message)),
      `${what}: documented kinds ${kinds.join(', ')}`,
    ).toHaveLength(1);
  }
}

// ---------------------------------------------------------------------------------------------

describe('GET /openapi.json', () => {
  it('is a structurally valid OpenAPI 3.1 document', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const info = node(doc.info, 'info');
    expect(typeof info.title).toBe('string');
    expect(typeof info.version).toBe('string');
    const schemes = node(node(doc.components, 'components').securitySchemes, 'securitySchemes');
    for (const [name, scheme] of Object.entries(schemes).map(([n, s]) => [n, node(s, n)] as const)) {
      expect(['apiKey', 'http'], name).toContain(scheme.type);
      if (scheme.type === 'apiKey') expect(['header', 'query'], name).toContain(scheme.in);
      if (scheme.type === 'apiKey') expect(typeof scheme.name, name).toBe('string');
    }

    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(node(doc.paths, 'paths'))) {
      expect(path.startsWith('/'), path).toBe(true);
      expectOnlyFields(node(item, path), FIELDS.pathItem, path);
    }
    for (const [path, method, operation] of operationsOf()) {
      const what = `${method} ${path}`;
      expectOnlyFields(operation, FIELDS.operation, what);
      expect(typeof operation.operationId, what).toBe('string');
      expect(operationIds.has(operation.operationId as string), `${what}: unique operationId`).toBe(false);
      operationIds.add(operation.operationId as string);
      for (const requirement of operation.security as Node[]) {
        for (const name of Object.keys(requirement))
          expect(schemes[name], `${what}: scheme ${name}`).toBeDefined();
      }
      for (const parameter of (operation.parameters ?? []) as unknown[]) {
        const resolved = deref(parameter, what);
        expectOnlyFields(resolved, FIELDS.parameter, `${what} parameter`);
        expect(['query', 'header', 'path', 'cookie']).toContain(resolved.in);
        expect(typeof resolved.name).toBe('string');
        expect(isNode(resolved.schema), `${what} parameter schema`).toBe(true);
      }
      if (operation.requestBody !== undefined) {
        for (const media of Object.values(node(node(operation.requestBody, what).content, what))) {
          expect(isNode(node(media, what).schema), `${what} request schema`).toBe(true);
        }
      }
      const responses = Object.entries(node(operation.responses, what));
      expect(responses.length, what).toBeGreaterThan(0);
      for (const [status, raw] of responses) {
        const response = deref(raw, `${what} ${status}`);
        expectOnlyFields(response, FIELDS.response, `${what} ${status}`);
        expect(typeof response.description, `${what} ${status}`).toBe('string');
        for (const header of Object.values(isNode(response.headers) ? response.headers : {})) {
          const resolved = deref(header, `${what} ${status} header`);
          expectOnlyFields(resolved, FIELDS.header, `${what} ${status} header`);
          expect(isNode(resolved.schema), `${what} ${status} header schema`).toBe(true);
        }
        if (isNode(response.content)) {
          for (const [type, media] of Object.entries(response.content)) {
            expectOnlyFields(node(media, type), FIELDS.mediaType, `${what} ${status} ${type}`);
            expect(isNode(node(media, type).schema), `${what} ${status} ${type} schema`).toBe(true);
          }
        } else {
          // Only answers without a body may leave out content.
          expect(
            method === 'head' || ['202', '204', '304'].includes(status),
            `${what} ${status} content`,
          ).toBe(true);
        }
      }
    }
  });

  it('has every $ref resolve, and no $id or $schema that would rebase them', () => {
    let refs = 0;
    for (const [path, object] of walk(doc)) {
      if (typeof object.$ref === 'string') {
        refs++;
        expect(resolvePointer(object.$ref), `${path}: ${object.$ref}`).toBeDefined();
      }
      expect(object.$id, path).toBeUndefined();
      expect(object.$schema, path).toBeUndefined();
    }
    expect(refs).toBeGreaterThan(0);
  });

  it('generates each component schema from a zod schema of the code', () => {
    const documented = Object.keys(node(node(doc.components, 'components').schemas, 'schemas'));
    expect(documented.sort()).toEqual(Object.keys(components).sort());
  });

  it("bounds window by this server's horizon, as the route does", async () => {
    const window = node(
      node(deref({ $ref: `${SCHEMAS}NowRequest` }, 'NowRequest').properties, 'NowRequest').window,
      'window',
    );
    expect(window.maximum).toBe(HORIZON_SECONDS);
    const post = (value: number) =>
      request(main, 'POST', '/1/now.json', {
        headers: { ...credentials(main.account), 'content-type': 'application/json' },
        body: JSON.stringify({ window: value }),
      });
    expect((await post(window.maximum as number)).status).toBe(200);
    expect((await post(window.minimum as number)).status).toBe(200);
    expect((await post((window.maximum as number) + 1)).status).toBe(400);
    expect((await post((window.minimum as number) - 1)).status).toBe(400);
  });

  it('has examples that satisfy their own schemas', () => {
    let examples = 0;
    for (const [path, media] of walk(doc)) {
      if (!isNode(media.schema) || !isNode(media.examples)) continue;
      for (const [name, example] of Object.entries(media.examples)) {
        examples++;
        expectSchemaValid(media.schema, node(example, name).value, `${path} example ${name}`);
      }
    }
    expect(examples).toBeGreaterThan(20);
  });

  it('is served with a strong ETag, 304 when it matches', async () => {
    const first = await request(main, 'GET', '/openapi.json');
    expectDocumented('/openapi.json', 'GET', first);
    const etag = first.header('etag') as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await request(main, 'GET', '/openapi.json', { headers: { 'if-none-match': `W/${etag}` } });
    expect(again.status).toBe(304);
    expectDocumented('/openapi.json', 'GET', again);
  });
});

describe('the document and the routes', () => {
  /** method → URLs, from fastify's route tree (printRoutes; fastify has no public route list). */
  function servedRoutes(): Map<string, Set<string>> {
    const routes = new Map<string, Set<string>>();
    const stack: string[] = [];
    for (const line of main.app.printRoutes({ commonPrefix: false }).split('\n')) {
      if (line.trim() === '') continue;
      const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
      if (match === null) throw new Error(`unexpected printRoutes line: ${line}`);
      const depth = match[1].length / 4;
      const url = (depth === 0 ? '' : stack[depth - 1]) + match[2];
      stack.length = depth;
      stack.push(url);
      const methods = (match[3] ?? '').split(', ').filter((method) => /^[A-Z]+$/.test(method));
      if (methods.length > 0) routes.set(url, new Set(methods));
    }
    return routes;
  }

  it('documents every method the server serves; the others are its generated 405 handlers', async () => {
    const routes = servedRoutes();
    expect(routes.size).toBeGreaterThan(10);
    const paths = node(doc.paths, 'paths');
    for (const [path, method] of operationsOf()) {
      expect(routes.get(path)?.has(method.toUpperCase()), `${method} ${path} is served`).toBe(true);
    }
    for (const [url, methods] of routes) {
      expect(paths[url], `${url} is documented`).toBeDefined();
      const documented = Object.keys(node(paths[url], url))
        .filter((key) => METHODS.includes(key))
        .map((method) => method.toUpperCase());
      for (const method of [...methods].filter((m) => !documented.includes(m))) {
        const answer = await request(main, method, url);
        expect(answer.status, `${method} ${url}: not documented, so it must be a 405`).toBe(405);
        expect(answer.header('allow')?.split(', ').sort(), `${method} ${url}`).toEqual(
          [...documented].sort(),
        );
        if (method !== 'HEAD')
          expect(JSON.parse(answer.text).error).toMatch(templatePattern('methodNotAllowed'));
      }
    }
  });

  it('describes 404 and 405 as shared responses', async () => {
    const responses = node(node(doc.components, 'components').responses, 'responses');
    const notFound = deref(responses.RouteNotFound, 'RouteNotFound');
    const answer = await request(main, 'GET', '/no/such/route');
    expect(answer.status).toBe(404);
    const media = node(node(notFound.content, '404')['application/json'], '404');
    expectSchemaValid(node(media.schema, '404'), JSON.parse(answer.text), 'GET /no/such/route');
    expect(Object.keys(node(media.examples, '404'))).toEqual(['routeNotFound']);
    const methodNotAllowed = deref(responses.MethodNotAllowed, 'MethodNotAllowed');
    expect(Object.keys(node(methodNotAllowed.headers, '405'))).toContain('Allow');
  });

  it('mentions every error of the catalogue somewhere', () => {
    const documented = new Set<string>();
    for (const [path, object] of walk(doc)) {
      if (path.endsWith('/application/json') && isNode(object.examples)) {
        for (const kind of Object.keys(object.examples)) documented.add(kind);
      }
    }
    expect(Object.keys(API_ERRORS).filter((kind) => !documented.has(kind))).toEqual([]);
  });

  /** Requests that each make one route answer one catalogue error. */
  function errorTriggers(): {
    kind: ApiErrorName;
    server: TestServer;
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array;
  }[] {
    const json = { 'content-type': 'application/json' };
    const auth = { ...credentials(main.account), ...json };
    const hit = (account: AccountCredentials) =>
      JSON.stringify({ account: account.id, token: account.token, user: 'visitor-1', kind: 'pageview' });
    const text = { 'content-type': 'text/plain' };
    const tooLarge = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) });
    const uploadRequest = deref({ $ref: `${SCHEMAS}UploadRequest` }, 'UploadRequest');
    const maxRecords = node(node(uploadRequest.properties, 'UploadRequest').d, 'd').maxItems as number;
    const triggers = ['/1/now.json', '/1/upload', '/1/now/token'].flatMap((path) => [
      { kind: 'credentialsMissing' as const, server: main, method: 'POST', path, headers: json, body: '{}' },
      {
        kind: 'invalidAccount' as const,
        server: main,
        method: 'POST',
        path,
        headers: { ...auth, 'X-CleverTap-Account-Id': 'NO-SUCH-ACCT' },
        body: '{}',
      },
      {
        kind: 'invalidPasscode' as const,
        server: main,
        method: 'POST',
        path,
        headers: { ...auth, 'X-CleverTap-Passcode': 'wrong' },
        body: '{}',
      },
      {
        kind: 'wrongRegion' as const,
        server: main,
        method: 'POST',
        path,
        headers: { ...credentials(foreign), ...json },
        body: '{}',
      },
      {
        kind: 'invalidContentType' as const,
        server: main,
        method: 'POST',
        path,
        headers: { ...auth, ...text },
        body: '{}',
      },
      { kind: 'invalidJson' as const, server: main, method: 'POST', path, headers: auth, body: '{' },
      {
        kind: 'invalidEncoding' as const,
        server: main,
        method: 'POST',
        path,
        headers: auth,
        body: Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      },
      { kind: 'bodyNotObject' as const, server: main, method: 'POST', path, headers: auth, body: '"x"' },
      { kind: 'bodyTooLarge' as const, server: main, method: 'POST', path, headers: auth, body: tooLarge },
      {
        kind: 'tooManyRequests' as const,
        server: limited,
        method: 'POST',
        path,
        headers: { ...credentials(limited.account), ...json },
        body: '{}',
      },
      {
        kind: 'tooManyConcurrent' as const,
        server: busy,
        method: 'POST',
        path,
        headers: { ...credentials(busy.account), ...json },
        body: '{}',
      },
    ]);
    return [
      ...triggers,
      {
        kind: 'unknownParameter',
        server: main,
        method: 'POST',
        path: '/1/now.json',
        headers: auth,
        body: '{"users":true}',
      },
      {
        kind: 'invalidParameter',
        server: main,
        method: 'POST',
        path: '/1/now.json',
        headers: auth,
        body: '{"window":1}',
      },
      {
        kind: 'unknownParameter',
        server: main,
        method: 'POST',
        path: '/1/now/token',
        headers: auth,
        body: '{"a":1}',
      },
      { kind: 'recordsMissing', server: main, method: 'POST', path: '/1/upload', headers: auth, body: '{}' },
      {
        kind: 'tooManyRecords',
        server: main,
        method: 'POST',
        path: '/1/upload',
        headers: auth,
        body: JSON.stringify({ d: Array.from({ length: maxRecords + 1 }, () => ({})) }),
      },
      {
        kind: 'invalidParameter',
        server: main,
        method: 'POST',
        path: '/1/upload?dryRun=maybe',
        headers: auth,
        body: '{"d":[]}',
      },
      { kind: 'credentialsMissing', server: main, method: 'GET', path: '/1/now/stream' },
      {
        kind: 'invalidPasscode',
        server: main,
        method: 'GET',
        path: '/1/now/stream',
        headers: { ...auth, 'X-CleverTap-Passcode': 'wrong' },
      },
      {
        kind: 'wrongRegion',
        server: main,
        method: 'GET',
        path: '/1/now/stream',
        headers: credentials(foreign),
      },
      { kind: 'invalidReadToken', server: main, method: 'GET', path: '/1/now/stream?token=forged.token' },
      {
        kind: 'tooManyStreams',
        server: limited,
        method: 'GET',
        path: '/1/now/stream',
        headers: credentials(limited.account),
      },
      {
        kind: 'invalidHitContentType',
        server: main,
        method: 'POST',
        path: '/1/collect',
        headers: { 'content-type': 'text/html' },
        body: hit(main.account),
      },
      { kind: 'invalidJson', server: main, method: 'POST', path: '/1/collect', headers: text, body: '{' },
      {
        kind: 'invalidEncoding',
        server: main,
        method: 'POST',
        path: '/1/collect',
        headers: text,
        body: Uint8Array.from([0x22, 0xff, 0x22]),
      },
      {
        kind: 'invalidParameter',
        server: main,
        method: 'POST',
        path: '/1/collect',
        headers: text,
        body: '{}',
      },
      {
        kind: 'invalidToken',
        server: main,
        method: 'POST',
        path: '/1/collect',
        headers: text,
        body: hit({ ...main.account, token: 'pt_forged' }),
      },
      {
        kind: 'wrongRegion',
        server: main,
        method: 'POST',
        path: '/1/collect',
        headers: text,
        body: hit(foreign),
      },
      {
        kind: 'bodyTooLarge',
        server: main,
        method: 'POST',
        path: '/1/collect',
        headers: text,
        body: 'x'.repeat(17 * 1024),
      },
      {
        kind: 'tooManyHits',
        server: limited,
        method: 'POST',
        path: '/1/collect',
        headers: text,
        body: hit(limited.account),
      },
      { kind: 'invalidMetricsToken', server: limited, method: 'GET', path: '/metrics' },
      {
        kind: 'invalidMetricsToken',
        server: limited,
        method: 'GET',
        path: '/metrics',
        headers: { authorization: 'Bearer wrong' },
      },
    ];
  }

  it('lists, for each route, every error it was made to answer', async () => {
    for (const trigger of errorTriggers()) {
      const answer = await request(trigger.server, trigger.method, trigger.path, trigger);
      const what = `${trigger.method} ${trigger.path} (${trigger.kind})`;
      expect(answer.status, `${what}: ${answer.text}`).toBe(API_ERRORS[trigger.kind].status);
      expect(JSON.parse(answer.text).error, what).toMatch(templatePattern(trigger.kind));
      expectDocumented(trigger.path.split('?')[0], trigger.method, answer);
    }
  });

  it('lists invalid request headers for every route', async () => {
    // The raw reader would wait for the body a HEAD answer announces but never sends.
    for (const [path, method] of operationsOf().filter(([, m]) => m !== 'head')) {
      const answer = await requestWithoutHost(main, method.toUpperCase(), path);
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(JSON.parse(answer.text).error).toMatch(templatePattern('invalidHeaders'));
      expectDocumented(path, method.toUpperCase(), answer);
    }
  });
});

describe('real answers and the documented schemas', () => {
  const json = () => ({ ...credentials(main.account), 'content-type': 'application/json' });

  it('/1/upload, /1/now.json and /1/now/token answer what their schemas say', async () => {
    const upload = await request(main, 'POST', '/1/upload', {
      headers: json(),
      body: JSON.stringify({
        d: [
          { identity: 'schema-1', type: 'event', evtName: 'App Launched', session: { browser: 'Chrome' } },
          { type: 'event', evtName: 'App Launched' },
        ],
      }),
    });
    expectDocumented('/1/upload', 'POST', upload);
    expect(JSON.parse(upload.text)).toMatchObject({ processed: 1, unprocessed: [{ code: 523 }] });

    for (const body of [
      '',
      '{}',
      '{"user_type":true,"session_source":true,"browser":true,"os":true,"device":true,"timeline":true}',
    ]) {
      const now = await request(main, 'POST', '/1/now.json', { headers: json(), body });
      expectDocumented('/1/now.json', 'POST', now);
    }
    const token = await request(main, 'POST', '/1/now/token', { headers: json(), body: '{}' });
    expectDocumented('/1/now/token', 'POST', token);
  });

  it('/1/now/stream sends NowResponse bodies as events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${main.url}/1/now/stream`, {
      headers: credentials(main.account),
      signal: controller.signal,
    });
    try {
      const operation = node(node(node(doc.paths, 'paths')['/1/now/stream'], 'stream').get, 'get');
      const ok = deref(node(operation.responses, 'responses')['200'], '200');
      expect(Object.keys(node(ok.content, '200'))).toContain(
        (response.headers.get('content-type') ?? '').split(';')[0],
      );
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      const data = /^data: (.*)$/m.exec(text);
      expect(data, text).not.toBeNull();
      expectSchemaValid(
        { $ref: `${SCHEMAS}NowResponse` },
        JSON.parse((data as RegExpExecArray)[1]),
        'stream event',
      );
    } finally {
      controller.abort();
    }
  });

  it('the browser and operations routes answer what the document says', async () => {
    const hit = JSON.stringify({
      account: main.account.id,
      token: main.account.token,
      user: 'v',
      kind: 'pageview',
    });
    expectDocumented(
      '/1/collect',
      'POST',
      await request(main, 'POST', '/1/collect', { headers: { 'content-type': 'text/plain' }, body: hit }),
    );
    expectDocumented('/1/collect', 'OPTIONS', await request(main, 'OPTIONS', '/1/collect'));
    for (const path of ['/activenow.js', '/dashboard', '/dashboard/app.js', '/dashboard/style.css']) {
      const first = await request(main, 'GET', path);
      expectDocumented(path, 'GET', first);
      const etag = first.header('etag') as string;
      expectDocumented(path, 'GET', await request(main, 'GET', path, { headers: { 'if-none-match': etag } }));
    }
    expectDocumented('/activenow.js', 'HEAD', await request(main, 'HEAD', '/activenow.js'));
    expectDocumented('/healthz', 'GET', await request(main, 'GET', '/healthz'));
    expectDocumented('/readyz', 'GET', await request(main, 'GET', '/readyz'));
    expectDocumented('/metrics', 'GET', await request(main, 'GET', '/metrics'));
    const metrics = await request(limited, 'GET', '/metrics', {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expectDocumented('/metrics', 'GET', metrics);
  });
});
