import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrackerScript, TRACKER_FILE } from '../../src/http/routes/tracker.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** `GET /activenow.js` from the real server over a real socket. */

let server: TestServer;
const source = readFileSync(TRACKER_FILE, 'utf8');

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

const script = (init: RequestInit = {}) => fetch(`${server.url}/activenow.js`, init);

describe('GET /activenow.js', () => {
  it('serves the tracker as written, cacheable, to any origin, without credentials', async () => {
    const response = await script({ headers: { Origin: 'https://shop.example.org' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(response.headers.get('etag')).toBe(loadTrackerScript().etag);
    expect(response.headers.get('etag')).toMatch(/^"[\w-]{27}"$/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(source)));
    expect(await response.text()).toBe(source);
  });

  it('answers 304 without a body when If-None-Match has the ETag', async () => {
    const etag = (await script()).headers.get('etag') ?? '';
    for (const ifNoneMatch of [etag, `"other", W/${etag}`, '*']) {
      const response = await script({ headers: { 'If-None-Match': ifNoneMatch } });
      expect(response.status, ifNoneMatch).toBe(304);
      expect(response.headers.get('etag')).toBe(etag);
      expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
      expect(await response.text()).toBe('');
    }
  });

  it('answers 200 when If-None-Match names another version', async () => {
    const response = await script({ headers: { 'If-None-Match': '"an-old-version"' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(source);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const response = await script({ method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect(response.headers.get('etag')).toBe(loadTrackerScript().etag);
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(source)));
    expect(await response.text()).toBe('');
    // The connection is still in step: the next request gets its own answer.
    expect((await script()).status).toBe(200);
  });

  it('refuses other methods with 405 and Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const response = await script({ method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      expect(await response.json()).toEqual({
        status: 'fail',
        error: 'Method not allowed; use GET, HEAD',
        code: 405,
      });
    }
  });

  it('is not behind authentication, and other routes still are', async () => {
    expect((await script({ headers: { 'X-CleverTap-Passcode': 'wrong' } })).status).toBe(200);
    const now = await fetch(`${server.url}/1/now.json`, { method: 'POST' });
    expect(now.status).toBe(401);
  });
});
