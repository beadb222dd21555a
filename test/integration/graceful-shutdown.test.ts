import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Credentials,
  createAccount,
  type ServerProcess,
  untilOutput,
} from '../../support/cli-process.js';
import { type Answer, postJson } from '../../support/json-requests.js';
import { cliScope } from '../support/cli-scope.js';
import { RawConnection } from '../support/raw-http.js';
import { startTestServer } from '../support/test-server.js';

/**
 * SIGTERM / SIGINT on a real `serve` process: it stops accepting, lets requests in flight finish
 * (up to --shutdown-timeout-ms), closes the store and exits 0, and no acknowledged upload is lost.
 * As in crash-recovery.test.ts, request k carries USERS users seen nowhere else, all with browser
 * `b<k>`, so the browser split after the restart tells request by request what was kept.
 */

const CLIENTS = 8;
const USERS = 20;
/** Each request is a distinct browser value; an account keeps 256 before Other. */
const MAX_REQUESTS = 240;

const { processes, dir } = cliScope('shutdown');

function serve(dataDir: string, extra: readonly string[] = []): Promise<ServerProcess> {
  return processes.serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'info', ...extra]);
}

const uploadBody = (k: number) => ({
  d: Array.from({ length: USERS }, (_, i) => ({
    identity: `shutdown-r${k}-u${i}`,
    type: 'event',
    evtName: 'Shutdown Test',
    session: { browser: `b${k}` },
  })),
});

/** Holds a request in flight: credentials and headers sent, the body never completed. */
async function stuckUpload(server: ServerProcess, account: Credentials): Promise<RawConnection> {
  const connection = await RawConnection.open(Number(new URL(server.url).port));
  connection.write(
    `POST /1/upload HTTP/1.1\r\nHost: x\r\nX-CleverTap-Account-Id: ${account.id}\r\nX-CleverTap-Passcode: ${account.passcode}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"d":[`,
  );
  return connection;
}

describe('SIGTERM', () => {
  it('under concurrent uploads: exits 0 and every acknowledged upload is counted after a restart', {
    timeout: 60_000,
  }, async () => {
    const dataDir = join(dir(), 'data');
    const account = await createAccount(processes, dataDir, 'shutdown');
    const server = await serve(dataDir);
    const acknowledged = new Set<number>();
    const refused: Answer[] = [];
    const unanswered = new Set<number>();
    let next = 0;
    let signalled = false;
    const loop = async () => {
      for (;;) {
        const k = next++;
        if (k >= MAX_REQUESTS) return;
        // Signal once the load is well under way, with requests of every client in flight.
        if (!signalled && acknowledged.size >= 30) {
          signalled = true;
          server.child.kill('SIGTERM');
        }
        let answer: Answer;
        try {
          answer = await postJson(`${server.url}/1/upload`, account, uploadBody(k));
        } catch {
          // Refused or reset once the server closed: no answer, nothing acknowledged.
          unanswered.add(k);
          return;
        }
        if (answer.status === 200) {
          expect(answer.body).toEqual({ status: 'success', processed: USERS, unprocessed: [] });
          acknowledged.add(k);
        } else {
          refused.push(answer);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, loop));
    if (!signalled) server.child.kill('SIGTERM');
    const exit = await server.exited;
    console.log(
      `shutdown: ${acknowledged.size} uploads acknowledged, ${refused.length} refused while closing, ${unanswered.size} unanswered`,
    );
    expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/"msg":"shutting down"/);
    expect(server.stdout()).toMatch(/"msg":"shut down"/);
    // Requests that reached a closing server are shed with the envelope, nothing else.
    for (const answer of refused) {
      expect(answer.body).toEqual({
        status: 'fail',
        error: 'Server is shutting down; retry later',
        code: 503,
      });
    }

    const restarted = await serve(dataDir);
    const now = await postJson(`${restarted.url}/1/now.json`, account, { browser: true });
    expect(now.status, now.text).toBe(200);
    const body = now.body as { count: number; browser: Record<string, number> };
    for (const k of acknowledged) expect(body.browser[`b${k}`], `b${k} (acknowledged)`).toBe(USERS);
    expect(body.count).toBeGreaterThanOrEqual(acknowledged.size * USERS);
    // Nothing was half-applied either: an unacknowledged request is all there or not at all.
    for (const value of Object.keys(body.browser)) expect(body.browser[value]).toBe(USERS);
    expect(acknowledged.size).toBeGreaterThanOrEqual(30);
  });

  it('cuts a request still in flight after --shutdown-timeout-ms, and still exits 0', {
    timeout: 30_000,
  }, async () => {
    const dataDir = join(dir(), 'data');
    const account = await createAccount(processes, dataDir, 'stuck');
    const server = await serve(dataDir, ['--shutdown-timeout-ms', '300']);
    const stuck = await stuckUpload(server, account);
    // The server has the request (its headers were read) before the signal.
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    expect(await server.exited, server.stderr()).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/requests still in flight at the shutdown timeout/);
    await stuck.closed;
    expect(stuck.pending).toBe(0);
  });

  it('a second signal exits at once, with status 1', { timeout: 30_000 }, async () => {
    const dataDir = join(dir(), 'data');
    const account = await createAccount(processes, dataDir, 'twice');
    const server = await serve(dataDir, ['--shutdown-timeout-ms', '60000']);
    const stuck = await stuckUpload(server, account);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.child.kill('SIGTERM');
    await untilOutput(server, () => server.stdout().includes('"msg":"shutting down"'));
    // Still waiting for the stuck request.
    expect(server.child.exitCode).toBeNull();
    server.child.kill('SIGINT');
    expect(await server.exited, server.stderr()).toEqual({ code: 1, signal: null });
    expect(server.stdout()).toMatch(/second signal/);
    stuck.destroy();
  });
});

describe('a closing app', () => {
  it('answers a request that arrives on an open connection with the 503 envelope and Connection: close', async () => {
    const server = await startTestServer();
    try {
      const port = server.port;
      // Half a request line: the connection is busy, so closing waits for it instead of dropping it.
      const late = await RawConnection.open(port);
      late.write('GET /healthz HTT');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closed = server.app.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      late.write('P/1.1\r\nHost: x\r\n\r\n');
      const answer = await late.response();
      expect(answer.status).toBe(503);
      expect(JSON.parse(answer.text)).toEqual({
        status: 'fail',
        error: 'Server is shutting down; retry later',
        code: 503,
      });
      expect(answer.headers.connection).toBe('close');
      await closed;
    } finally {
      await server.close();
    }
  });

  it('closes a CONNECT connection the client keeps open, so that it cannot hold the close of the app', async () => {
    const server = await startTestServer();
    try {
      // Node hands a CONNECT socket over and stops tracking it: closing the server does not close it.
      const tunnel = await RawConnection.open(server.port);
      tunnel.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      const answer = await tunnel.response();
      expect(answer.status).toBe(404);
      expect(answer.headers.connection).toBe('close');
      tunnel.write('bytes the client sends anyway');
      // The client ends its side once the server has ended its own; a server that no longer read
      // this socket would never see it, and its close would wait for ever.
      await tunnel.closed;
      await server.app.close();
    } finally {
      await server.close();
    }
  });
});
