import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchesAny, strongEtag } from '../etag.js';
import { fileOperation, ref } from '../operation-docs.js';
import type { Route } from '../route.js';

/**
 * The live dashboard: `src/web/dashboard/` in the sources, `dist/web/dashboard/` after a build (the
 * build copies it; plain files served as written, never compiled).
 */
const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dashboard');

/**
 * Nothing inline, nothing from elsewhere: the page talks only to this server (the token and the
 * stream), and no other site may frame it.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** URL → file, content type and operation. The HTML is checked on every load; assets too, cheaply, by ETag. */
const FILES = [
  {
    url: '/dashboard',
    file: 'index.html',
    type: 'text/html; charset=utf-8',
    operationId: 'dashboard',
    summary: 'The live dashboard page',
  },
  {
    url: '/dashboard/app.js',
    file: 'app.js',
    type: 'application/javascript; charset=utf-8',
    operationId: 'dashboardScript',
    summary: 'The dashboard script',
  },
  {
    url: '/dashboard/style.css',
    file: 'style.css',
    type: 'text/css; charset=utf-8',
    operationId: 'dashboardStyle',
    summary: 'The dashboard style sheet',
  },
] as const;

const CSP_HEADER = { 'Content-Security-Policy': ref('headers', 'Content-Security-Policy') };

/**
 * `GET /dashboard` and its script and style sheet, read once when the app is built. Public files:
 * the page holds no data until the user signs in with an account id and passcode.
 */
export const dashboardRoute: Route = {
  paths: Object.fromEntries(
    FILES.map(({ url, type, operationId, summary }) => [
      url,
      { get: fileOperation(operationId, summary, type.split(';')[0], CSP_HEADER) },
    ]),
  ),
  register(app) {
    for (const { url, file, type } of FILES) {
      const body = readFileSync(join(DASHBOARD_DIR, file));
      // Strong: the same bytes are always served, whatever the request.
      const etag = strongEtag(body);
      app.get(url, async (request, reply) => {
        reply.headers({
          etag,
          'cache-control': 'no-cache',
          'content-security-policy': DASHBOARD_CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'x-frame-options': 'DENY',
        });
        if (matchesAny(request.headers['if-none-match'], etag)) return reply.code(304).send();
        return reply.type(type).send(body);
      });
    }
  },
};
