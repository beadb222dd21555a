import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * The real command line as a child process (`node --import tsx src/cli/main.ts …`), in a fresh
 * data directory, with no ACTIVENOW_* variable inherited from the environment running the tests.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ID_SHAPE = /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/;

interface Credentials {
  readonly id: string;
  readonly passcode: string;
}

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'activenow-cli-'));
});

afterEach(async () => {
  await Promise.all([...children].map(stop));
  await rm(dir, { recursive: true, force: true });
});

function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('ACTIVENOW_'));
  return { ...Object.fromEntries(inherited), ...extra };
}

function launch(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: environment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM, then SIGKILL if the process has not gone after a while (cleanup only, never asserted). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

/** Runs a command to completion. */
async function run(args: readonly string[], env: Record<string, string> = {}): Promise<Finished> {
  const child = launch(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything printed on stdout up to and including the `listening on` line. */
  readonly stdout: string;
  /** The first account, when this start created it. */
  readonly created: Credentials | undefined;
}

/** Starts `serve` and resolves once it prints `listening on http://HOST:PORT`. */
function serve(args: readonly string[], env: Record<string, string> = {}): Promise<Server> {
  const child = launch(['serve', ...args], env);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const listening = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
      if (listening === null) return;
      const id = /^\s*account id:\s*(\S+)$/m.exec(stdout)?.[1];
      const passcode = /^\s*passcode:\s*(\S+)$/m.exec(stdout)?.[1];
      resolve({
        child,
        url: listening[1],
        stdout,
        created: id !== undefined && passcode !== undefined ? { id, passcode } : undefined,
      });
    });
    child.once('exit', (code) =>
      reject(new Error(`serve exited (${code}) before listening:\n${stdout}\n${stderr}`)),
    );
  });
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

/** What `curl -X POST URL -H … -H … -H "Content-Type: application/json" -d BODY` does. */
async function curl(url: string, path: string, account: Credentials, body: unknown): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'X-CleverTap-Account-Id': account.id,
      'X-CleverTap-Passcode': account.passcode,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

async function upload(url: string, account: Credentials, users: readonly [string, string][]): Promise<void> {
  const answer = await curl(url, '/1/upload', account, {
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
  const answer = await curl(url, '/1/now.json', account, {});
  expect(answer.status, answer.text).toBe(200);
  expect(answer.body.status).toBe('success');
  if (count !== undefined) expect(answer.body).toEqual({ status: 'success', count });
}

async function expectRefused(url: string, account: Credentials, error: string): Promise<void> {
  const answer = await curl(url, '/1/now.json', account, {});
  expect(answer.status, answer.text).toBe(401);
  expect(answer.body).toEqual({ status: 'fail', error, code: 401 });
}

function parseCredentials(finished: Finished): Record<string, unknown> {
  expect(finished.code, finished.stderr).toBe(0);
  return JSON.parse(finished.stdout) as Record<string, unknown>;
}

describe('activenow serve', () => {
  it('prints the first account once, listens, and serves it; a restart creates no new account', async () => {
    const dataDir = join(dir, 'data');
    const first = await serve(['--port', '0', '--data-dir', dataDir]);
    const account = first.created;
    expect(account, first.stdout).toBeDefined();
    if (account === undefined) return;
    expect(account.id).toMatch(ID_SHAPE);
    expect(account.passcode.length).toBeGreaterThanOrEqual(22);
    expect(first.stdout.split(account.passcode)).toHaveLength(2);

    await upload(first.url, account, [
      ['u1', 'Chrome'],
      ['u2', 'Safari'],
    ]);
    await expectServed(first.url, account, 2);

    await stop(first.child);
    const second = await serve(['--port', '0', '--data-dir', dataDir]);
    expect(second.created).toBeUndefined();
    expect(second.stdout).not.toContain('created the first account');
    expect(second.stdout).not.toMatch(/passcode/i);
    await expectServed(second.url, account);

    const list = await run(['accounts', 'list', '--json', '--data-dir', dataDir]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((a) => a.id)).toEqual([account.id]);
  });

  it('refuses an invalid configuration, listing every problem, before touching the data directory', async () => {
    const dataDir = join(dir, 'never');
    const finished = await run(['serve', '--port', 'abc', '--durability', 'x', '--data-dir', dataDir]);
    expect(finished.code).not.toBe(0);
    expect(finished.code).not.toBeNull();
    expect(finished.stderr).toMatch(/port \(--port \/ ACTIVENOW_PORT\)/);
    expect(finished.stderr).toMatch(/durability \(--durability \/ ACTIVENOW_DURABILITY\)/);
    expect(finished.stdout).not.toContain('listening on');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('reads ACTIVENOW_PORT and ACTIVENOW_DATA_DIR', async () => {
    const dataDir = join(dir, 'from-env');
    const server = await serve([], { ACTIVENOW_PORT: '0', ACTIVENOW_DATA_DIR: dataDir });
    expect(existsSync(join(dataDir, 'activenow.db'))).toBe(true);
    expect(server.created).toBeDefined();
    if (server.created) await expectServed(server.url, server.created, 0);
  });

  it('lets flags win over the environment', async () => {
    const envDir = join(dir, 'env-dir');
    const flagDir = join(dir, 'flag-dir');
    // An invalid ACTIVENOW_PORT does not matter when --port is given.
    const server = await serve(['--port', '0', '--data-dir', flagDir], {
      ACTIVENOW_PORT: 'abc',
      ACTIVENOW_DATA_DIR: envDir,
    });
    expect(existsSync(join(flagDir, 'activenow.db'))).toBe(true);
    expect(existsSync(envDir)).toBe(false);
    if (server.created) await expectServed(server.url, server.created, 0);

    const fromEnv = parseCredentials(
      await run(['accounts', 'create', '--name', 'E', '--json', '--data-dir', flagDir], {
        ACTIVENOW_REGION: 'us1',
      }),
    );
    expect(fromEnv.region).toBe('us1');
    const fromFlag = parseCredentials(
      await run(['accounts', 'create', '--name', 'F', '--json', '--data-dir', flagDir, '--region', 'ap1'], {
        ACTIVENOW_REGION: 'us1',
      }),
    );
    expect(fromFlag.region).toBe('ap1');
  });
});

describe('activenow accounts, next to a running server', () => {
  it('create, list, rotate-passcode, revoke-passcode and delete take effect on the server', async () => {
    const dataDir = join(dir, 'data');
    const server = await serve(['--port', '0', '--data-dir', dataDir]);
    const first = server.created;
    expect(first).toBeDefined();
    if (first === undefined) return;
    const storage = ['--data-dir', dataDir];

    const created = parseCredentials(await run(['accounts', 'create', '--name', 'X', '--json', ...storage]));
    expect(Object.keys(created)).toEqual(['id', 'name', 'region', 'passcode', 'token']);
    expect(created).toMatchObject({ name: 'X', region: 'eu1' });
    expect(created.id).toMatch(ID_SHAPE);
    expect(typeof created.passcode).toBe('string');
    expect(typeof created.token).toBe('string');
    expect(created.token).not.toBe(created.passcode);
    const x = { id: String(created.id), passcode: String(created.passcode) };
    await upload(server.url, x, [['x-user', 'Firefox']]);
    await expectServed(server.url, x, 1);

    const list = await run(['accounts', 'list', '--json', ...storage]);
    expect(list.code, list.stderr).toBe(0);
    const accounts = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(accounts.map((a) => [a.id, a.name, a.region])).toEqual([
      [first.id, 'default', 'eu1'],
      [x.id, 'X', 'eu1'],
    ]);
    expect(list.stdout).not.toContain(first.passcode);
    expect(list.stdout).not.toContain(x.passcode);

    const rotated = parseCredentials(await run(['accounts', 'rotate-passcode', x.id, '--json', ...storage]));
    expect(Object.keys(rotated)).toEqual(['id', 'name', 'region', 'passcode', 'token']);
    expect(rotated).toMatchObject({ id: x.id, name: 'X', region: 'eu1' });
    expect(rotated.passcode).not.toBe(x.passcode);
    const renewed = { id: x.id, passcode: String(rotated.passcode) };
    await expectServed(server.url, x, 1);
    await expectServed(server.url, renewed, 1);

    const revoked = await run(['accounts', 'revoke-passcode', x.id, x.passcode, ...storage]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await expectRefused(server.url, x, 'Passcode is not valid');
    await expectServed(server.url, renewed, 1);
    const again = await run(['accounts', 'revoke-passcode', x.id, x.passcode, ...storage]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).not.toBe('');

    const deleted = await run(['accounts', 'delete', x.id, ...storage]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await expectRefused(server.url, renewed, 'Account ID is not valid');
    // The other account is untouched.
    await expectServed(server.url, first, 0);
    const remaining = await run(['accounts', 'list', '--json', ...storage]);
    expect((JSON.parse(remaining.stdout) as { id: string }[]).map((a) => a.id)).toEqual([first.id]);
  });
});

describe('activenow now', () => {
  it('prints the server answer as JSON, or as a table', async () => {
    const server = await serve(['--port', '0', '--data-dir', join(dir, 'data')]);
    const account = server.created;
    expect(account).toBeDefined();
    if (account === undefined) return;
    await upload(server.url, account, [
      ['u1', 'Chrome'],
      ['u2', 'Chrome'],
      ['u3', 'Safari'],
    ]);
    const connection = ['--url', server.url, '--account', account.id, '--passcode', account.passcode];

    const json = await run(['now', ...connection, '--split', 'user_type,browser', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const direct = await curl(server.url, '/1/now.json', account, { user_type: true, browser: true });
    expect(json.stdout.trim()).toBe(direct.text);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'success',
      count: 3,
      user_type: { new: 3 },
      browser: { Chrome: 2, Safari: 1 },
      new: { browser: { Chrome: 2, Safari: 1 } },
    });

    const table = await run(['now', ...connection, '--split', 'user_type,browser']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^active users\s+3$/m);
    expect(table.stdout).toMatch(/^\s+Chrome\s+2$/m);
    expect(table.stdout).toMatch(/^\s+Safari\s+1$/m);
    expect(() => JSON.parse(table.stdout)).toThrow();

    // From the environment, with a flag winning over a wrong ACTIVENOW_PASSCODE.
    const fromEnv = await run(['now', '--json', '--passcode', account.passcode], {
      ACTIVENOW_URL: server.url,
      ACTIVENOW_ACCOUNT: account.id,
      ACTIVENOW_PASSCODE: 'wrong',
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toEqual({ status: 'success', count: 3 });

    const refused = await run(['now', '--url', server.url, '--account', account.id, '--passcode', 'wrong']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Passcode is not valid');
  });
});
