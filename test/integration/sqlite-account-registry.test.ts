import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountCredentials } from '../../src/accounts/account-registry.js';
import { SqliteAccountRegistry } from '../../src/accounts/sqlite-account-registry.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();
const ID_SHAPE = /^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/;

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

  it('creates, lists and gets accounts', async () => {
    let clock = 1_764_145_200_000;
    const registry = open({ now: () => clock++ });
    const a = await registry.create({ name: '  Shop  ', region: 'eu1' });
    const b = await registry.create({ name: 'Blog', region: 'in1' });

    expect(a.id).toMatch(ID_SHAPE);
    expect(b.id).toMatch(ID_SHAPE);
    expect(a.id).not.toBe(b.id);
    expect(a.name).toBe('Shop');
    expect(a.region).toBe('eu1');
    expect(a.passcode).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a.token).toMatch(/^pt_[A-Za-z0-9_-]{24}$/);
    expect(a.passcode).not.toBe(b.passcode);
    expect(a.token).not.toBe(b.token);

    expect(await registry.get(a.id)).toEqual({
      id: a.id,
      name: 'Shop',
      region: 'eu1',
      createdAt: 1_764_145_200_000,
      passcodes: 1,
    });
    expect(await registry.get(b.id)).toMatchObject({
      name: 'Blog',
      region: 'in1',
      createdAt: 1_764_145_200_001,
    });
    expect((await registry.list()).map((account) => account.id)).toEqual([a.id, b.id]);
    expect(await registry.get('AAA-BBB-CCCC')).toBeUndefined();
  });

  it('lists nothing in a new file', async () => {
    expect(await open().list()).toEqual([]);
  });

  it('rejects bad names and regions with a clear error', async () => {
    const registry = open();
    await expect(registry.create({ name: '   ', region: 'eu1' })).rejects.toThrow(/name.*1 to 100/);
    await expect(registry.create({ name: 'x'.repeat(101), region: 'eu1' })).rejects.toThrow(/name/);
    await expect(registry.create({ name: 'a\u0000b', region: 'eu1' })).rejects.toThrow(/control/);
    await expect(registry.create({ name: 'Shop', region: 'EU1' })).rejects.toThrow(/region.*"EU1"/);
    await expect(registry.create({ name: 'Shop', region: '' })).rejects.toThrow(/region/);
    await expect(registry.create({ name: 'Shop', region: 'a'.repeat(33) })).rejects.toThrow(/region/);
    await expect(registry.create({ name: 'Shop', region: 'eu 1' })).rejects.toThrow(/region/);
    expect(await registry.list()).toEqual([]);

    // Limits are inclusive.
    const longest = await registry.create({ name: 'é'.repeat(100), region: 'a'.repeat(32) });
    expect(longest.name).toBe('é'.repeat(100));
  });

  it('verifies the right passcode only, and only for its own account', async () => {
    const registry = open();
    const a = await registry.create({ name: 'A', region: 'eu1' });
    const b = await registry.create({ name: 'B', region: 'eu1' });

    expect(await registry.verifyPasscode(a.id, a.passcode)).toBe(true);
    expect(await registry.verifyPasscode(b.id, b.passcode)).toBe(true);
    expect(await registry.verifyPasscode(a.id, b.passcode)).toBe(false);
    expect(await registry.verifyPasscode(b.id, a.passcode)).toBe(false);
    expect(await registry.verifyPasscode(a.id, `${a.passcode}x`)).toBe(false);
    expect(await registry.verifyPasscode(a.id, a.passcode.toLowerCase())).toBe(false);
    expect(await registry.verifyPasscode(a.id, '')).toBe(false);
    expect(await registry.verifyPasscode(a.id, a.token)).toBe(false);
    expect(await registry.verifyPasscode('ZZZ-ZZZ-ZZZZ', a.passcode)).toBe(false);
    expect(await registry.verifyPasscode('', a.passcode)).toBe(false);
  });

  it('verifies the public token only, and only for its own account', async () => {
    const registry = open();
    const a = await registry.create({ name: 'A', region: 'eu1' });
    const b = await registry.create({ name: 'B', region: 'eu1' });
    expect(await registry.verifyToken(a.id, a.token)).toBe(true);
    expect(await registry.verifyToken(a.id, b.token)).toBe(false);
    expect(await registry.verifyToken(a.id, a.passcode)).toBe(false);
    expect(await registry.verifyToken('ZZZ-ZZZ-ZZZZ', a.token)).toBe(false);
  });

  it('rotation adds a passcode, keeps the old one, and replaces the token', async () => {
    const registry = open();
    const created = await registry.create({ name: 'Shop', region: 'eu1' });
    const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;

    expect(rotated).toMatchObject({ id: created.id, name: 'Shop', region: 'eu1' });
    expect(rotated.passcode).not.toBe(created.passcode);
    expect(rotated.token).not.toBe(created.token);
    expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(true);
    expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
    expect(await registry.verifyToken(created.id, rotated.token)).toBe(true);
    expect(await registry.verifyToken(created.id, created.token)).toBe(false);
    expect((await registry.get(created.id))?.passcodes).toBe(2);

    expect(await registry.rotatePasscode('ZZZ-ZZZ-ZZZZ')).toBeUndefined();
  });

  it('revokes one passcode and leaves the others working', async () => {
    const registry = open();
    const created = await registry.create({ name: 'Shop', region: 'eu1' });
    const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;

    expect(await registry.revokePasscode(created.id, created.passcode)).toBe(true);
    expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(false);
    expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
    expect((await registry.get(created.id))?.passcodes).toBe(1);

    expect(await registry.revokePasscode(created.id, created.passcode)).toBe(false);
    expect(await registry.revokePasscode(created.id, 'not-a-passcode')).toBe(false);
    expect(await registry.revokePasscode('ZZZ-ZZZ-ZZZZ', rotated.passcode)).toBe(false);

    const other = await registry.create({ name: 'Other', region: 'eu1' });
    expect(await registry.revokePasscode(other.id, rotated.passcode)).toBe(false);
    expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
  });

  it('deletes an account with its passcodes, and only that account', async () => {
    const registry = open();
    const a = await registry.create({ name: 'A', region: 'eu1' });
    const b = await registry.create({ name: 'B', region: 'eu1' });
    await registry.rotatePasscode(a.id);

    expect(await registry.delete(a.id)).toBe(true);
    expect(await registry.get(a.id)).toBeUndefined();
    expect(await registry.verifyPasscode(a.id, a.passcode)).toBe(false);
    expect(await registry.verifyToken(a.id, a.token)).toBe(false);
    expect((await registry.list()).map((account) => account.id)).toEqual([b.id]);
    expect(await registry.verifyPasscode(b.id, b.passcode)).toBe(true);
    expect(await registry.delete(a.id)).toBe(false);

    const raw = new Database(file, { readonly: true });
    try {
      expect(
        raw.prepare('SELECT count(*) FROM account_passcode WHERE account_id = ?').pluck().get(a.id),
      ).toBe(0);
    } finally {
      raw.close();
    }
  });

  it('sees its own changes at once, even with a warm cache', async () => {
    const registry = open();
    expect(await registry.list()).toEqual([]);
    const created = await registry.create({ name: 'Shop', region: 'eu1' });
    expect((await registry.list()).map((account) => account.id)).toEqual([created.id]);
    expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(true);

    const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;
    expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
    expect(await registry.verifyToken(created.id, rotated.token)).toBe(true);

    expect(await registry.revokePasscode(created.id, rotated.passcode)).toBe(true);
    expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(false);

    expect(await registry.delete(created.id)).toBe(true);
    expect(await registry.get(created.id)).toBeUndefined();
    expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(false);
  });

  it('persists across reopening', async () => {
    const first = open();
    const created = await first.create({ name: 'Shop', region: 'eu1' });
    const rotated = (await first.rotatePasscode(created.id)) as AccountCredentials;
    const before = await first.get(created.id);
    await first.close();

    const second = open();
    expect(await second.get(created.id)).toEqual(before);
    expect(await second.verifyPasscode(created.id, created.passcode)).toBe(true);
    expect(await second.verifyPasscode(created.id, rotated.passcode)).toBe(true);
    expect(await second.verifyToken(created.id, rotated.token)).toBe(true);
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

  describe('two instances on one file (the CLI next to a running server)', () => {
    it('sees every kind of change made by the other on its next call', async () => {
      const server = open();
      const cli = open();
      // Warm the server's cache first, so staleness would show.
      expect(await server.list()).toEqual([]);

      const created = await cli.create({ name: 'Shop', region: 'eu1' });
      expect(await server.get(created.id)).toMatchObject({ name: 'Shop', passcodes: 1 });
      expect(await server.verifyPasscode(created.id, created.passcode)).toBe(true);
      expect(await server.verifyToken(created.id, created.token)).toBe(true);

      const rotated = (await cli.rotatePasscode(created.id)) as AccountCredentials;
      expect(await server.verifyPasscode(created.id, rotated.passcode)).toBe(true);
      expect(await server.verifyPasscode(created.id, created.passcode)).toBe(true);
      expect(await server.verifyToken(created.id, rotated.token)).toBe(true);
      expect(await server.verifyToken(created.id, created.token)).toBe(false);
      expect((await server.get(created.id))?.passcodes).toBe(2);

      expect(await cli.revokePasscode(created.id, created.passcode)).toBe(true);
      expect(await server.verifyPasscode(created.id, created.passcode)).toBe(false);
      expect(await server.verifyPasscode(created.id, rotated.passcode)).toBe(true);

      expect(await cli.delete(created.id)).toBe(true);
      expect(await server.get(created.id)).toBeUndefined();
      expect(await server.verifyPasscode(created.id, rotated.passcode)).toBe(false);
      expect(await server.list()).toEqual([]);
    });

    it('changes go both ways', async () => {
      const one = open();
      const two = open();
      const a = await one.create({ name: 'A', region: 'eu1' });
      expect(await two.verifyPasscode(a.id, a.passcode)).toBe(true);
      const b = await two.create({ name: 'B', region: 'eu1' });
      expect((await one.list()).map((account) => account.id).sort()).toEqual([a.id, b.id].sort());
      expect(await one.verifyPasscode(b.id, b.passcode)).toBe(true);
    });

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

        // An operator editing the tables directly is seen too.
        raw.prepare('UPDATE account SET name = ? WHERE id = ?').run('Renamed', created.id);
        expect((await server.get(created.id))?.name).toBe('Renamed');
        raw.prepare('DELETE FROM account_passcode WHERE account_id = ?').run(created.id);
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
