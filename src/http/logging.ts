import type { FastifyInstance, FastifyServerOptions } from 'fastify';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const REDACTED = '[redacted]';

/**
 * Where a credential could sit in anything logged: headers (of a request or of an error's context),
 * body fields and query parameters. Nothing logs these today; the paths make sure nothing ever does.
 */
const SECRET_FIELDS = ['passcode', 'token', 'authorization', 'cookie', 'x-clevertap-passcode'];
const REDACT_PATHS = [
  ...['req', 'request', 'err', 'error'].flatMap((parent) =>
    ['headers', 'body', 'query'].flatMap((part) =>
      SECRET_FIELDS.map((field) => `${parent}.${part}["${field}"]`),
    ),
  ),
  ...['headers', 'body', 'query'].flatMap((part) => SECRET_FIELDS.map((field) => `${part}["${field}"]`)),
  ...SECRET_FIELDS.map((field) => `["${field}"]`),
];

/** Pino options of the server's logger: JSON lines, credentials redacted, URLs without query. */
export function loggerOptions(level: LogLevel): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { req: serializeRequest },
  };
}

/** A read token travels in `?token=`: the query string is never logged. */
function serializeRequest(request: { method?: string; url?: string; id?: string }) {
  return { method: request.method, url: withoutQuery(request.url ?? '') };
}

function withoutQuery(url: string): string {
  const question = url.indexOf('?');
  return question < 0 ? url : url.slice(0, question);
}

/**
 * One line per request at debug level (method, path without query, route, status, ms), off at the
 * default level, where the hook is not even installed: the line would cost more than a small request.
 * True when it is installed.
 * Failures answered 5xx are logged at error level by the error handler.
 */
export function logRequests(app: FastifyInstance): boolean {
  // The level is set once, at start.
  if (app.log.level !== 'debug' && app.log.level !== 'trace') return false;
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug(
      {
        method: request.method,
        url: withoutQuery(request.url),
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
  return true;
}
