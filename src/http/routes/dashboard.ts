import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { matchesAny, strongEtag } from '../etag.js';

/**
 * The live dashboard: `src/web/dashboard/` in the sources, `dist/web/dashboard/` after a build (the
 * build copies it; plain files served as written, never compiled).
 */
export const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dashboard');

/**
 * Nothing inline, nothing from elsewhere: the page talks only to this server (the token and the
 * stream), and no other site may frame it.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** URL → file and content type. The HTML is checked on every load; assets too, cheaply, by ETag. */
const FILES = [
  { url: '/dashboard', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/dashboard/app.js', file: 'app.js', type: 'application/javascript; charset=utf-8' },
  { url: '/dashboard/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
] as const;

export const DASHBOARD_URLS: readonly string[] = FILES.map((f) => f.url);

/**
 * `GET /dashboard` and its script and style sheet, read once when the app is built. Public files:
 * the page holds no data until the user signs in with an account id and passcode.
 */
export function registerDashboardRoutes(app: FastifyInstance, dir: string = DASHBOARD_DIR): void {
  for (const { url, file, type } of FILES) {
    const body = readFileSync(join(dir, file));
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
}
