import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Credentials, Finished } from '../../support/cli-process.js';
import { postJson } from '../../support/json-requests.js';
import { cliScope } from '../support/cli-scope.js';

/**
 * The real command line as a child process (`node --import tsx src/cli/main.ts …`), in a fresh
 * data directory, with no ACTIVENOW_* variable inherited from the environment running the tests.
 */

const ID_SHAPE = /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/;
/** How long a stopped server gets to exit on SIGTERM before it is sent SIGKILL. */
const KILL_AFTER_MS = 10_000;

const { processes, dir } = cliScope('cli', { killAfterMs: KILL_AFTER_MS });

async function upload(url: string, account: Credentials, users: readonly [string, string][]): Promise<void> {
  const answer = await postJson(`${url}/1/upload`, account, {
    d: users.map(([identity, browser]) => ({
      identity,
      type: 'event',
      evtName: 'App Launched',
      session: { browser },
    })),
  });
  expect(answer.status, answer.text).toBe(200);
  expect(answer.body).toEqual({ status: 'success', processed: users.length, unprocessed: [] });
}

async function expectServed(url: string, account: Credentials, count?: number): Promise<void> {
  const answer = await postJson(`${url}/1/now.json`, account, {});
  expect(answer.status, answer.text).toBe(200);
  expect(answer.body).toMatchObject({ status: 'success' });
  if (count !== undefined) expect(answer.body).toEqual({ status: 'success', count });
}

async function expectRefused(url: string, account: Credentials, error: string): Promise<void> {
  const answer = await postJson(`${url}/1/now.json`, account, {});
  expect(answer.status, answer.text).toBe(401);
  expect(answer.body).toEqual({ status: 'fail', error, code: 401 });
}

function parseCredentials(finished: Finished): Record<string, unknown> {
  expect(finished.code, finished.stderr).toBe(0);
  return JSON.parse(finished.stdout) as Record<string, unknown>;
}

describe('activenow serve', () => {
  it('prints the first account once, listens, and serves it; a restart creates no new account', async () => {
    const dataDir = join(dir(), 'data');
    const first = await processes.serve(['--port', '0', '--data-dir', dataDir]);
    const account = first.created;
    expect(account, first.startup).toBeDefined();
    if (account === undefined) return;
    expect(account.id).toMatch(ID_SHAPE);
    expect(account.passcode.length).toBeGreaterThanOrEqual(22);
    expect(first.startup.split(account.passcode)).toHaveLength(2);

    await upload(first.url, account, [
      ['u1', 'Chrome'],
      ['u2', 'Safari'],
    ]);
    await expectServed(first.url, account, 2);

    await processes.stop(first, KILL_AFTER_MS);
    const second = await processes.serve(['--port', '0', '--data-dir', dataDir]);
    expect(second.created).toBeUndefined();
    expect(second.startup).not.toContain('created the first account');
    expect(second.startup).not.toMatch(/passcode/i);
    await expectServed(second.url, account);

    const list = await processes.run(['accounts', 'list', '--json', '--data-dir', dataDir]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((a) => a.id)).toEqual([account.id]);
  });

  it('refuses an invalid configuration, listing every problem, before touching the data directory', async () => {
    const dataDir = join(dir(), 'never');
    const finished = await processes.run([
      'serve',
      '--port',
      'abc',
      '--durability',
      'x',
      '--data-dir',
      dataDir,
    ]);
    expect(finished.code).not.toBe(0);
    expect(finished.code).not.toBeNull();
    expect(finished.stderr).toMatch(/port \(--port \/ ACTIVENOW_PORT\)/);
    expect(finished.stderr).toMatch(/durability \(--durability \/ ACTIVENOW_DURABILITY\)/);
    expect(finished.stdout).not.toContain('listening on');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('reads ACTIVENOW_PORT and ACTIVENOW_DATA_DIR', async () => {
    const dataDir = join(dir(), 'from-env');
    const server = await processes.serve([], { env: { ACTIVENOW_PORT: '0', ACTIVENOW_DATA_DIR: dataDir } });
    expect(existsSync(join(dataDir, 'activenow.db'))).toBe(true);
    expect(server.created).toBeDefined();
    if (server.created) await expectServed(server.url, server.created, 0);
  });

  it('lets flags win over the environment', async () => {
    const envDir = join(dir(), 'env-dir');
    const flagDir = join(dir(), 'flag-dir');
    // An invalid ACTIVENOW_PORT does not matter when --port is given.
    const server = await processes.serve(['--port', '0', '--data-dir', flagDir], {
      env: { ACTIVENOW_PORT: 'abc', ACTIVENOW_DATA_DIR: envDir },
    });
    expect(existsSync(join(flagDir, 'activenow.db'))).toBe(true);
    expect(existsSync(envDir)).toBe(false);
    if (server.created) await expectServed(server.url, server.created, 0);

    const fromEnv = parseCredentials(
      await processes.run(['accounts', 'create', '--name', 'E', '--json', '--data-dir', flagDir], {
        env: { ACTIVENOW_REGION: 'us1' },
      }),
    );
    expect(fromEnv.region).toBe('us1');
    const fromFlag = parseCredentials(
      await processes.run(
        ['accounts', 'create', '--name', 'F', '--json', '--data-dir', flagDir, '--region', 'ap1'],
        {
          env: { ACTIVENOW_REGION: 'us1' },
        },
      ),
    );
    expect(fromFlag.region).toBe('ap1');
  });
});

describe('activenow accounts, next to a running server', () => {
  it('create, list, rotate-passcode, revoke-passcode and delete take effect on the server', async () => {
    const dataDir = join(dir(), 'data');
    const server = await processes.serve(['--port', '0', '--data-dir', dataDir]);
    const first = server.created;
    expect(first).toBeDefined();
    if (first === undefined) return;
    const storage = ['--data-dir', dataDir];

    const created = parseCredentials(
      await processes.run(['accounts', 'create', '--name', 'X', '--json', ...storage]),
    );
    expect(Object.keys(created)).toEqual(['id', 'name', 'region', 'passcode', 'token']);
    expect(created).toMatchObject({ name: 'X', region: 'eu1' });
    expect(created.id).toMatch(ID_SHAPE);
    expect(typeof created.passcode).toBe('string');
    expect(typeof created.token).toBe('string');
    expect(created.token).not.toBe(created.passcode);
    const x = { id: String(created.id), passcode: String(created.passcode) };
    await upload(server.url, x, [['x-user', 'Firefox']]);
    await expectServed(server.url, x, 1);

    const list = await processes.run(['accounts', 'list', '--json', ...storage]);
    expect(list.code, list.stderr).toBe(0);
    const accounts = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(accounts.map((a) => [a.id, a.name, a.region])).toEqual([
      [first.id, 'default', 'eu1'],
      [x.id, 'X', 'eu1'],
    ]);
    expect(list.stdout).not.toContain(first.passcode);
    expect(list.stdout).not.toContain(x.passcode);

    const rotated = parseCredentials(
      await processes.run(['accounts', 'rotate-passcode', x.id, '--json', ...storage]),
    );
    expect(Object.keys(rotated)).toEqual(['id', 'name', 'region', 'passcode', 'token']);
    expect(rotated).toMatchObject({ id: x.id, name: 'X', region: 'eu1' });
    expect(rotated.passcode).not.toBe(x.passcode);
    const renewed = { id: x.id, passcode: String(rotated.passcode) };
    await expectServed(server.url, x, 1);
    await expectServed(server.url, renewed, 1);

    const revoked = await processes.run(['accounts', 'revoke-passcode', x.id, x.passcode, ...storage]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await expectRefused(server.url, x, 'Passcode is not valid');
    await expectServed(server.url, renewed, 1);
    const again = await processes.run(['accounts', 'revoke-passcode', x.id, x.passcode, ...storage]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).not.toBe('');

    const deleted = await processes.run(['accounts', 'delete', x.id, ...storage]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await expectRefused(server.url, renewed, 'Account ID is not valid');
    // The other account is untouched.
    await expectServed(server.url, first, 0);
    const remaining = await processes.run(['accounts', 'list', '--json', ...storage]);
    expect((JSON.parse(remaining.stdout) as { id: string }[]).map((a) => a.id)).toEqual([first.id]);
  });
});

describe('activenow now', () => {
  it('prints the server answer as JSON, or as a table', async () => {
    const server = await processes.serve(['--port', '0', '--data-dir', join(dir(), 'data')]);
    const account = server.created;
    expect(account).toBeDefined();
    if (account === undefined) return;
    await upload(server.url, account, [
      ['u1', 'Chrome'],
      ['u2', 'Chrome'],
      ['u3', 'Safari'],
    ]);
    const connection = ['--url', server.url, '--account', account.id, '--passcode', account.passcode];

    const json = await processes.run(['now', ...connection, '--split', 'user_type,browser', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const direct = await postJson(`${server.url}/1/now.json`, account, { user_type: true, browser: true });
    expect(json.stdout.trim()).toBe(direct.text);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'success',
      count: 3,
      user_type: { new: 3 },
      browser: { Chrome: 2, Safari: 1 },
      new: { browser: { Chrome: 2, Safari: 1 } },
    });

    const table = await processes.run(['now', ...connection, '--split', 'user_type,browser']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^active users\s+3$/m);
    expect(table.stdout).toMatch(/^\s+Chrome\s+2$/m);
    expect(table.stdout).toMatch(/^\s+Safari\s+1$/m);
    expect(() => JSON.parse(table.stdout)).toThrow();

    const top = await processes.run(['now', ...connection, '--split', 'browser', '--top', '1']);
    expect(top.code, top.stderr).toBe(0);
    expect(top.stdout).toMatch(/^\s+Chrome\s+2$/m);
    expect(top.stdout).toMatch(/^\s+Other\s+1$/m);
    expect(top.stdout).not.toMatch(/Safari/);
    expect(top.stdout).toMatch(/^as of\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/m);
    const withBots = await processes.run(['now', ...connection, '--split', 'bots']);
    expect(withBots.code, withBots.stderr).toBe(0);
    expect(withBots.stdout).toMatch(/^active users\s+3$/m);
    expect(withBots.stdout).toMatch(/^bots\s+0$/m);
    const moved = await postJson(`${server.url}/1/upload`, account, {
      d: [
        {
          identity: 'u1',
          type: 'event',
          evtName: 'Page Viewed',
          session: { browser: 'Chrome', page: '/pricing?plan=pro', country: 'de' },
        },
      ],
    });
    expect(moved.status).toBe(200);
    const pages = await processes.run(['now', ...connection, '--split', 'page,country', '--json']);
    expect(pages.code, pages.stderr).toBe(0);
    expect(JSON.parse(pages.stdout)).toMatchObject({
      count: 3,
      page: { Unknown: 2, '/pricing': 1 },
      country: { Unknown: 2, DE: 1 },
    });
    const inGermany = await processes.run([
      'now',
      ...connection,
      '--split',
      'browser',
      '--filter',
      'country=DE,FR',
    ]);
    expect(inGermany.code, inGermany.stderr).toBe(0);
    expect(inGermany.stdout).toMatch(/^active users\s+1$/m);
    expect(inGermany.stdout).toMatch(/^\s+Chrome\s+1$/m);
    const twoDimensions = await processes.run([
      'now',
      ...connection,
      '--filter',
      'browser=Chrome; country=Unknown',
      '--json',
    ]);
    expect(JSON.parse(twoDimensions.stdout)).toMatchObject({ count: 1 });
    // Every user launched the app; u1 then viewed a page.
    const events = await processes.run([
      'now',
      ...connection,
      '--split',
      'event',
      '--filter',
      'event=Page Viewed',
      '--json',
    ]);
    expect(events.code, events.stderr).toBe(0);
    expect(JSON.parse(events.stdout)).toMatchObject({
      count: 1,
      event: { 'App Launched': 1, 'Page Viewed': 1 },
    });
    const badTop = await processes.run(['now', ...connection, '--top', '0']);
    expect(badTop.code).not.toBe(0);
    // A dimension named twice keeps the values of both.
    const twice = await processes.run([
      'now',
      ...connection,
      '--filter',
      'country=DE;country=Unknown',
      '--json',
    ]);
    expect(JSON.parse(twice.stdout)).toMatchObject({ count: 3 });
    const emptyFilter = await processes.run(['now', ...connection, '--filter', ' ; ']);
    expect(emptyFilter.code).not.toBe(0);
    expect(emptyFilter.stderr).toMatch(/filter \(--filter \/ ACTIVENOW_FILTER\): expected dimension=value/);
    const badFilter = await processes.run(['now', ...connection, '--filter', 'colour=red']);
    expect(badFilter.code).not.toBe(0);
    expect(badFilter.stderr).toMatch(/filter \(--filter \/ ACTIVENOW_FILTER\): expected dimension=value/);

    // From the environment, with a flag winning over a wrong ACTIVENOW_PASSCODE.
    const fromEnv = await processes.run(['now', '--json', '--passcode', account.passcode], {
      env: { ACTIVENOW_URL: server.url, ACTIVENOW_ACCOUNT: account.id, ACTIVENOW_PASSCODE: 'wrong' },
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toEqual({ status: 'success', count: 3 });

    const refused = await processes.run([
      'now',
      '--url',
      server.url,
      '--account',
      account.id,
      '--passcode',
      'wrong',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Passcode is not valid');
  });
});
