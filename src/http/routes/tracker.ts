import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchesAny, strongEtag } from '../etag.js';
import { allowAnyOrigin, fileOperation, fileResponses } from '../operation-docs.js';
import type { Route } from '../route.js';

/**
 * The browser tracker: `src/web/activenow.js` beside `src/http/` in the sources, `dist/web/` beside
 * `dist/http/` after a build (the build copies it; it is served as written, never compiled).
 */
export const TRACKER_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'activenow.js');

/** The URL is not versioned, so an hour of caching bounds how long a new version takes to reach pages. */
const CACHE_CONTROL = 'public, max-age=3600';

export interface TrackerScript {
  readonly body: Buffer;
  /** Strong: the same bytes are always served, whatever the request. */
  readonly etag: string;
}

export function loadTrackerScript(file: string = TRACKER_FILE): TrackerScript {
  const body = readFileSync(file);
  return { body, etag: strongEtag(body) };
}

const PATH = '/activenow.js';

/**
 * `GET /activenow.js` (and `HEAD`): the tracker, read once when the app is built. Public: any site may
 * embed it, so no authentication, and CORS and CORP let pages with strict policies load it too.
 */
export const trackerRoute: Route = {
  paths: {
    [PATH]: {
      get: fileOperation(
        'trackerScript',
        'The browser tracker script',
        'application/javascript',
        allowAnyOrigin,
      ),
      head: {
        ...fileOperation(
          'trackerScriptHead',
          'The tracker script headers, without the body',
          'application/javascript',
        ),
        responses: fileResponses('application/javascript', 'The headers of GET, no body.', {}, null),
      },
    },
  },
  register(app) {
    const script = loadTrackerScript();
    app.route({
      method: ['GET', 'HEAD'],
      url: PATH,
      handler: async (request, reply) => {
        reply.headers({
          etag: script.etag,
          'cache-control': CACHE_CONTROL,
          'access-control-allow-origin': '*',
          'cross-origin-resource-policy': 'cross-origin',
          'x-content-type-options': 'nosniff',
        });
        if (matchesAny(request.headers['if-none-match'], script.etag)) return reply.code(304).send();
        return reply.type('application/javascript; charset=utf-8').send(script.body);
      },
    });
  },
};
