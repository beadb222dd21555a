import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/repo-root.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * `activenow/client` as another project gets it: the package npm packs, installed in a fresh
 * project, imported by its exported name, its types resolved by TypeScript.
 */

const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const CLIENT_DIR = join(ROOT, 'src', 'client');
const PROTOCOL_DIR = join(ROOT, 'src', 'protocol');

const temporary: string[] = [];
afterAll(async () => {
  for (const dir of temporary) await rm(dir, { recursive: true, force: true });
});

async function tempDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `activenow-${name}-`));
  temporary.push(dir);
  return dir;
}

/** What a module imports or re-exports from. */
function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g)].map((m) => m[1]);
}

describe('the client is standalone', () => {
  it('imports only its own files and src/protocol/: no server code, no node: built-in, no package', async () => {
    const files = (await readdir(CLIENT_DIR)).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const source = await readFile(join(CLIENT_DIR, file), 'utf8');
      for (const specifier of importsOf(source))
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^(\.|\.\.\/protocol)\/[\w-]+\.js$/);
      expect(source, file).not.toMatch(/\bimport\(|\brequire\(|\bprocess\.|\bBuffer\b/);
    }
  });

  it('shares only src/protocol/ with the server, which imports nothing', async () => {
    const files = (await readdir(PROTOCOL_DIR)).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const source = await readFile(join(PROTOCOL_DIR, file), 'utf8');
      expect(importsOf(source), file).toEqual([]);
      expect(source, file).not.toMatch(/\bimport\(|\brequire\(|\bprocess\.|\bBuffer\b/);
    }
  });

  it('compiles with the DOM library and no Node types, as in a browser project', async () => {
    await run(process.execPath, [TSC, '-p', join(ROOT, 'test', 'client', 'tsconfig.browser.json')], {
      cwd: ROOT,
    });
  });
});

describe('npm pack', () => {
  let server: TestServer | undefined;
  afterAll(async () => server?.close());

  it('gives a package whose activenow/client a fresh project imports, calls and type-checks', {
    timeout: 180_000,
  }, async () => {
    const packDir = await tempDir('pack');
    // prepack builds dist/ first.
    const { stdout } = await run('npm', ['pack', '--pack-destination', packDir, '--json'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['dist/client/index.js', 'dist/client/index.d.ts', 'dist/cli/main.js']),
    );
    expect(paths.filter((p) => p.startsWith('test/') || p.startsWith('src/'))).toEqual([]);

    const project = await tempDir('consumer');
    const tarball = join(project, packed.filename);
    await writeFile(tarball, await readFile(join(packDir, packed.filename)));
    await writeConsumerProject(project, packed.filename, await readFile(tarball));
    // Offline, from the npm cache this repository was installed from; no install scripts: the
    // client needs none (better-sqlite3's native build is for the server).
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: project });

    server = await startTestServer();
    const { account } = server;
    await writeFile(
      join(project, 'main.mjs'),
      [
        "import { ActiveNowClient, ActiveNowError } from 'activenow/client';",
        'const [url, accountId, passcode] = process.argv.slice(2);',
        'const client = new ActiveNowClient({ baseUrl: url, accountId, passcode });',
        "const uploaded = await client.upload([{ type: 'event', identity: 'u1', evtName: 'e', session: { browser: 'Firefox' } }]);",
        'const now = await client.now({ browser: true });',
        "const refused = await new ActiveNowClient({ baseUrl: url, accountId, passcode: 'wrong' }).now().catch((e) => e);",
        'console.log(JSON.stringify({ uploaded, now, refused: refused instanceof ActiveNowError && refused.kind }));',
      ].join('\n'),
    );
    const result = await run(process.execPath, ['main.mjs', server.url, account.id, account.passcode], {
      cwd: project,
    });
    expect(JSON.parse(result.stdout)).toEqual({
      uploaded: { processed: 1, unprocessed: [] },
      now: { status: 'success', count: 1, browser: { Firefox: 1 } },
      refused: 'invalidPasscode',
    });

    // The shipped declarations, through the `types` condition of `exports`.
    await writeFile(
      join(project, 'check.ts'),
      [
        "import { ActiveNowClient } from 'activenow/client';",
        "const client = new ActiveNowClient({ baseUrl: 'http://127.0.0.1:8080', accountId: 'a', passcode: 'p' });",
        'export async function main(): Promise<number> {',
        '  const result = await client.now({ os: true });',
        '  // @ts-expect-error browser was not asked for',
        '  void result.browser;',
        '  return result.count + (result.os.iOS ?? 0);',
        '}',
      ].join('\n'),
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: [],
        },
        files: ['check.ts'],
      }),
    );
    await run(process.execPath, [TSC, '-p', project], { cwd: project });
  });
});

/**
 * A project depending on the tarball, with a lockfile pinning the dependencies as this repository's
 * lockfile does, so `npm ci --offline` finds every tarball in the npm cache without asking the
 * registry for package metadata.
 */
async function writeConsumerProject(dir: string, filename: string, tarball: Buffer): Promise<void> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
  };
  const repoLock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dev?: boolean; resolved?: string }>;
  };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { activenow: `file:${filename}` } },
    'node_modules/activenow': {
      version: pkg.version,
      resolved: `file:${filename}`,
      integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
      dependencies: pkg.dependencies,
    },
  };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path === '' || entry.dev === true) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // The repository's lock omits registry URLs (omit-lockfile-registry-resolved); without one npm
    // would fetch the package's metadata first.
    const resolved =
      entry.resolved ?? `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
    packages[path] = { ...entry, resolved };
  }
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies: { activenow: `file:${filename}` },
    }),
  );
  await writeFile(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }),
  );
}
