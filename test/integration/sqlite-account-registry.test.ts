import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { SqliteAccountRegistry } from '../../src/backends/embedded/sqlite-account-registry.js';

/*
 * What only the SQLite registry does: its file, its schema, raw SQL next to it, calls after close.
 * What every registry does is in test/conformance/account-registry-conformance.ts, which runs over
 * SQLite in test/conformance/sqlite-account-registry.test.ts.
 */

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

let dir: string;
let file: string;
const opened: SqliteAccountRegistry[] = [];

function open(options?: ConstructorParameters<typeof SqliteAccountRegistry>[1]): SqliteAccountRegistry {
  const registry = new SqliteAccountRegistry(file, options);
  opened.push(registry);
  return registry;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'activenow-accounts-'));
  file = join(dir, 'activenow.db');
});

afterEach(async () => {
  for (const registry of opened.splice(0)) await registry.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteAccountRegistry', () => {
  it('creates the file with WAL journaling and owner-only permissions', async () => {
    open();
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o077).toBe(0);
  });

  it('stores only digests: no clear passcode or token in the rows or the files', async () => {
    const registry = open();
    const created = await registry.create({ name: 'Shop', region: 'eu1' });
    const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;
    const secrets = [created.passcode, rotated.passcode, created.token, rotated.token];

    const assertNoSecretInFiles = async () => {
      const names = (await readdir(dir)).filter((name) => name.startsWith('activenow.db'));
      expect(names).toContain('activenow.db');
      for (const name of names) {
        const bytes = await readFile(join(dir, name));
        for (const secret of secrets) {
          expect(bytes.includes(secret), `${secret} in ${name}`).toBe(false);
          // The unprefixed token body must not be there either.
          expect(bytes.includes(secret.replace(/^pt_/, '')), `${secret} in ${name}`).toBe(false);
        }
      }
    };

    // While open (the data sits in the WAL) and after close (checkpointed into the main file).
    await assertNoSecretInFiles();

    const raw = new Database(file, { readonly: true });
    try {
      const tables = raw
        .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .pluck()
        .all();
      expect(tables).toEqual(expect.arrayContaining(['account', 'account_passcode']));
      for (const table of tables) {
        expect(table.startsWith('account')).toBe(true);
        const dump = JSON.stringify(raw.prepare(`SELECT * FROM "${table}"`).all(), (_key, value) =>
          Buffer.isBuffer(value) ? value.toString('hex') : value,
        );
        for (const secret of secrets) expect(dump.includes(secret), `${secret} in ${table}`).toBe(false);
      }

      const passcodeDigests = raw
        .prepare<[string], Buffer>(
          'SELECT digest FROM account_passcode WHERE account_id = ? ORDER BY created_at',
        )
        .pluck()
        .all(created.id);
      expect(passcodeDigests.map((d) => d.toString('hex')).sort()).toEqual(
        [sha256(created.passcode), sha256(rotated.passcode)].map((d) => d.toString('hex')).sort(),
      );
      const tokenDigest = raw
        .prepare<[string], Buffer>('SELECT token_digest FROM account WHERE id = ?')
        .pluck()
        .get(created.id);
      expect(tokenDigest?.equals(sha256(rotated.token))).toBe(true);
    } finally {
      raw.close();
    }

    await registry.close();
    await assertNoSecretInFiles();
  });

  it('deletes the passcode rows of a deleted account from the file', async () => {
    const registry = open();
    const a = await registry.create({ name: 'A', region: 'eu1' });
    const b = await registry.create({ name: 'B', region: 'eu1' });
    await registry.rotatePasscode(a.id);
    expect(await registry.delete(a.id)).toBe(true);

    const raw = new Database(file, { readonly: true });
    try {
      const count = raw
        .prepare<[string], number>('SELECT count(*) FROM account_passcode WHERE account_id = ?')
        .pluck();
      expect(count.get(a.id)).toBe(0);
      expect(count.get(b.id)).toBe(1);
    } finally {
      raw.close();
    }
  });

  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  describe('sharing the file (with the rest of the embedded store, and with an operator)', () => {
    it('stays correct when other tables of the file change, and sees raw SQL edits of its own', async () => {
      const server = open();
      const created = await server.create({ name: 'Shop', region: 'eu1' });
      expect(await server.verifyPasscode(created.id, created.passcode)).toBe(true);

      const raw = new Database(file);
      try {
        // Another part of the embedded store committing to the same file.
        raw.exec('CREATE TABLE other_batches (n INTEGER)');
        raw.prepare('INSERT INTO other_batches (n) VALUES (1)').run();
        expect(await server.verifyPasscode(created.id, created.passcode)).toBe(true);
        expect((await server.get(created.id))?.name).toBe('Shop');

        // An operator editing the tables directly (another connection, as from another process) is
        // seen from the next event-loop turn: the registry checks the file once per turn.
        raw.prepare('UPDATE account SET name = ? WHERE id = ?').run('Renamed', created.id);
        await nextTurn();
        expect((await server.get(created.id))?.name).toBe('Renamed');
        // The passcode was accepted before (and is remembered as such): deleting it still locks it out.
        raw.prepare('DELETE FROM account_passcode WHERE account_id = ?').run(created.id);
        await nextTurn();
        expect(await server.verifyPasscode(created.id, created.passcode)).toBe(false);
        expect((await server.get(created.id))?.passcodes).toBe(0);
      } finally {
        raw.close();
      }
    });
  });

  it('refuses a file written by a newer schema, without changing it', async () => {
    await open().close();
    const raw = new Database(file);
    raw.prepare("UPDATE account_meta SET value = 99 WHERE key = 'schema_version'").run();
    raw.close();
    expect(() => new SqliteAccountRegistry(file)).toThrow(/schema version 99/);
    const check = new Database(file, { readonly: true });
    try {
      expect(check.prepare("SELECT value FROM account_meta WHERE key = 'schema_version'").pluck().get()).toBe(
        99,
      );
    } finally {
      check.close();
    }
  });

  it('rejects calls after close', async () => {
    const registry = open();
    await registry.close();
    await expect(registry.list()).rejects.toThrow(/closed/);
    await expect(registry.verifyPasscode('AAA-BBB-CCCC', 'x')).rejects.toThrow(/closed/);
    await registry.close();
  });
});
