import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliScope } from '../support/cli-scope.js';

/**
 * A real `serve` process logging at trace level is driven through every route with every kind of
 * credential, right and wrong, in headers, query strings and bodies; afterwards none of those values
 * appears anywhere in what it printed, while its request lines (with request ids) do.
 */

const { processes, dir } = cliScope('logs');

/** A value no server could make up, easy to grep for. */
const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;

describe('logs at trace level', () => {
  it('carry request ids and no passcode, token or authorization value', { timeout: 60_000 }, async () => {
    const dataDir = join(dir(), 'data');
    const created = await processes.run([
      'accounts',
      'create',
      '--name',
      'logs',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const account = JSON.parse(created.stdout) as { id: string; passcode: string; token: string };
    const metricsToken = secret('metrics');
    const wrong = {
      passcode: secret('wrong-passcode'),
      token: `pt_${secret('wrong')}`,
      readToken: secret('wrong-read-token'),
      metricsToken: secret('wrong-metrics'),
      cookie: secret('cookie'),
      bearer: secret('bearer'),
    };
    const server = await processes.serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'trace'], {
      env: { ACTIVENOW_METRICS_TOKEN: metricsToken },
    });
    const url = server.url;
    const auth = (passcode: string) => ({
      'X-CleverTap-Account-Id': account.id,
      'X-CleverTap-Passcode': passcode,
      'Content-Type': 'application/json',
    });
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
      await response.text();
      return response;
    };
    const upload = JSON.stringify({ d: [{ identity: 'u1', type: 'event', evtName: 'Logged' }] });

    const traced = await call('/1/upload', {
      method: 'POST',
      headers: { ...auth(account.passcode), 'X-Request-Id': 'trace-me-1', Cookie: `session=${wrong.cookie}` },
      body: upload,
    });
    expect(traced.status).toBe(200);
    expect(traced.headers.get('x-request-id')).toBe('trace-me-1');
    expect(
      (await call('/1/upload', { method: 'POST', headers: auth(wrong.passcode), body: upload })).status,
    ).toBe(401);
    // Credentials where they do not belong: body fields, query parameters, a broken body.
    const misplaced = JSON.stringify({ d: [], passcode: account.passcode, token: account.token });
    expect(
      (
        await call(`/1/upload?passcode=${account.passcode}`, {
          method: 'POST',
          headers: auth(account.passcode),
          body: misplaced,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call('/1/upload', {
          method: 'POST',
          headers: auth(account.passcode),
          body: `{"passcode":"${account.passcode}`,
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call(`/1/now.json?token=${account.token}`, {
          method: 'POST',
          headers: { ...auth(account.passcode), Authorization: `Bearer ${wrong.bearer}` },
          body: '{"user_type":true}',
        })
      ).status,
    ).toBe(200);
    const issued = await fetch(`${url}/1/now/token`, { method: 'POST', headers: auth(account.passcode) });
    const { token: readToken } = (await issued.json()) as { token: string };
    const stream = await fetch(`${url}/1/now/stream?token=${encodeURIComponent(readToken)}`);
    expect(stream.status).toBe(200);
    const reader = stream.body?.getReader();
    await reader?.read();
    await reader?.cancel();
    expect((await call(`/1/now/stream?token=${wrong.readToken}`)).status).toBe(401);
    const hit = (token: string) =>
      call('/1/collect', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify({ account: account.id, token, user: 'v1', kind: 'pageview' }),
      });
    expect((await hit(account.token)).status).toBe(202);
    expect((await hit(wrong.token)).status).toBe(401);
    expect((await call('/metrics', { headers: { Authorization: `Bearer ${metricsToken}` } })).status).toBe(
      200,
    );
    expect(
      (await call('/metrics', { headers: { Authorization: `Bearer ${wrong.metricsToken}` } })).status,
    ).toBe(401);
    for (const path of [
      '/healthz',
      '/readyz',
      '/dashboard',
      '/activenow.js',
      `/nope?passcode=${account.passcode}`,
    ]) {
      await call(path, { headers: { Authorization: `Bearer ${wrong.bearer}` } });
    }

    expect(await processes.stop(server)).toEqual({ code: 0, signal: null });
    const printed = server.stdout() + server.stderr();
    const logLines = printed.split('\n').filter((line) => line.startsWith('{'));
    const requests = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    // Every request above was logged with its id (but the stream, which its reader abandoned), and
    // ours kept the id it was sent with.
    expect(requests.length).toBe(16);
    expect(new Set(requests.map((entry) => entry.reqId)).size).toBe(16);
    expect(requests.find((entry) => entry.reqId === 'trace-me-1')).toMatchObject({
      route: '/1/upload',
      status: 200,
      level: 20,
    });
    for (const value of [account.passcode, account.token, readToken, metricsToken, ...Object.values(wrong)]) {
      expect(printed.includes(value), `${value} was printed:\n${printed}`).toBe(false);
    }
  });
});
