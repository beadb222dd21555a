import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Credentials, untilOutput } from '../../support/cli-process.js';
import { postJson } from '../../support/json-requests.js';
import { cliScope } from '../support/cli-scope.js';

/** `activenow simulate` and `serve --demo` as child processes against a real `activenow serve`. */

const KILL_AFTER_MS = 10_000;
/** Upper bound of waits for something that should take a second or two (not a timing assertion). */
const PATIENCE_MS = 30_000;

const { processes, dir } = cliScope('simulate', { killAfterMs: KILL_AFTER_MS });

async function activeUsers(url: string, account: Credentials): Promise<number> {
  const answer = await postJson(`${url}/1/now.json`, account, {});
  expect(answer.status, answer.text).toBe(200);
  return (answer.body as { count: number }).count;
}

describe('activenow simulate', () => {
  it('sends events for --duration seconds, prints its progress, and exits 0', async () => {
    const server = await processes.serve(['--port', '0', '--data-dir', join(dir(), 'data')]);
    const account = server.created;
    expect(account, server.startup).toBeDefined();
    if (account === undefined) return;
    const finished = await processes.run([
      'simulate',
      '--url',
      server.url,
      '--account',
      account.id,
      '--passcode',
      account.passcode,
      '--duration',
      '3',
      '--rate',
      '50',
      '--seed',
      '1',
    ]);
    expect(finished.code, finished.stderr).toBe(0);
    const sent = [...finished.stdout.matchAll(/events sent (\d+)/g)].map((match) => Number(match[1]));
    expect(sent.length, finished.stdout).toBeGreaterThan(0);
    expect(sent[sent.length - 1]).toBeGreaterThan(0);
    expect(finished.stdout).toMatch(/errors 0/);
    expect(await activeUsers(server.url, account)).toBeGreaterThan(0);
  });

  it('reads the server and account from the environment', async () => {
    const server = await processes.serve(['--port', '0', '--data-dir', join(dir(), 'data')]);
    const account = server.created;
    if (account === undefined) throw new Error(server.startup);
    const finished = await processes.run(['simulate', '--duration', '1', '--rate', '50'], {
      env: { ACTIVENOW_URL: server.url, ACTIVENOW_ACCOUNT: account.id, ACTIVENOW_PASSCODE: account.passcode },
    });
    expect(finished.code, finished.stderr).toBe(0);
    expect(await activeUsers(server.url, account)).toBeGreaterThan(0);
  });

  it('stops with a clear message when the server refuses the passcode', async () => {
    const server = await processes.serve(['--port', '0', '--data-dir', join(dir(), 'data')]);
    const account = server.created;
    if (account === undefined) throw new Error(server.startup);
    const finished = await processes.run([
      'simulate',
      '--url',
      server.url,
      '--account',
      account.id,
      '--passcode',
      'wrong',
      '--rate',
      '50',
    ]);
    expect(finished.code).not.toBe(0);
    expect(finished.code).not.toBeNull();
    expect(finished.stderr).toContain('the server refused the credentials (401): Passcode is not valid');
    expect(await activeUsers(server.url, account)).toBe(0);
  });

  it('refuses invalid options, listing every problem', async () => {
    const finished = await processes.run(['simulate', '--rate', 'x', '--users', '0', '--duration', '-1']);
    expect(finished.code).not.toBe(0);
    for (const option of ['account', 'passcode', 'users', 'rate', 'duration']) {
      expect(finished.stderr).toContain(`${option} (--${option} / ACTIVENOW_${option.toUpperCase()})`);
    }
  });
});

describe('activenow serve --demo', () => {
  it('prints a demo account that soon has active users, and reuses it on the next start', async () => {
    const dataDir = join(dir(), 'data');
    const server = await processes.serve(['--port', '0', '--data-dir', dataDir, '--demo']);
    const demoLines =
      /demo: created account "demo".*\n\s+account id:\s+(\S+)\n\s+passcode:\s+(\S+)\n\s+token:\s+(\S+)/;
    await untilOutput(server, () => demoLines.test(server.stdout()));
    const printed = demoLines.exec(server.stdout());
    expect(printed, server.stdout() + server.stderr()).not.toBeNull();
    if (printed === null) return;
    const demo = { id: printed[1], passcode: printed[2] };
    expect(demo.id).not.toBe(server.created?.id);

    let count = 0;
    for (const deadline = Date.now() + PATIENCE_MS; count === 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      count = await activeUsers(server.url, demo);
    }
    expect(count).toBeGreaterThan(0);
    const stopped = await processes.stop(server, KILL_AFTER_MS);
    expect(stopped.signal).toBeNull();

    const again = await processes.serve(['--port', '0', '--data-dir', dataDir, '--demo']);
    const reused = /demo: reusing account "demo".*\n\s+account id:\s+(\S+)\n\s+passcode:\s+(\S+)/;
    await untilOutput(again, () => reused.test(again.stdout()));
    const second = reused.exec(again.stdout());
    expect(second?.[1], again.stdout()).toBe(demo.id);
    if (second === null) return;
    expect(await activeUsers(again.url, { id: demo.id, passcode: second[2] })).toBeGreaterThan(0);
  });
});
