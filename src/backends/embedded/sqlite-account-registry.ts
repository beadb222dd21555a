import { closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type {
  Account,
  AccountCredentials,
  AccountRegistry,
  NewAccount,
} from '../../accounts/account-registry.js';
import { validateName, validateRegion } from '../../accounts/account-rules.js';
import {
  digest,
  generateAccountId,
  generatePasscode,
  generatePublicToken,
  generateReadTokenKey,
  matchesAnyDigest,
  READ_TOKEN_KEY_BYTES,
} from '../../accounts/secrets.js';

/** Bumped when the tables below change shape; a newer file is refused rather than misread. */
export const ACCOUNT_SCHEMA_VERSION = 1;

export interface SqliteAccountRegistryOptions {
  /** Clock for `createdAt`, epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** How long a write waits for another process's write lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

/** What the hot path needs about one account, loaded from disk as a whole. */
interface CachedAccount {
  readonly account: Account;
  readonly tokenDigest: Buffer;
  readonly passcodeDigests: Buffer[];
}

interface Snapshot {
  /** Value of the `generation` counter the snapshot was read at. */
  readonly generation: number;
  readonly accounts: Map<string, CachedAccount>;
  /**
   * Id and passcode pairs this snapshot accepted, so that a client's every request costs no
   * SHA-256: a passcode is only here once it matched, and goes with the snapshot on any change.
   */
  readonly accepted: Map<string, Account>;
}

/** Accepted id and passcode pairs remembered per snapshot; more start over. */
const MAX_ACCEPTED_CREDENTIALS = 4096;

/**
 * Changes made through any registry of this process. A registry that checked the file earlier in
 * this event-loop turn trusts that check only while this has not moved, so a change made here is
 * seen by the next call of every registry, as before the check was remembered.
 */
let changesInThisProcess = 0;

interface AccountRow {
  id: string;
  name: string;
  region: string;
  created_at: number;
  token_digest: Buffer;
}

interface PasscodeRow {
  account_id: string;
  digest: Buffer;
}

/*
 * `account_meta` holds the schema version and a `generation` counter that triggers bump on every
 * change to the account tables, whoever makes it (this class in another process, or an operator
 * with the sqlite3 shell). The schema version lives there rather than in `PRAGMA user_version`
 * because the file is shared with other parts of the embedded store, and that pragma is per file.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS account_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO account_meta (key, value) VALUES ('schema_version', ${ACCOUNT_SCHEMA_VERSION});
INSERT OR IGNORE INTO account_meta (key, value) VALUES ('generation', 0);

CREATE TABLE IF NOT EXISTS account (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  region       TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  token_digest BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS account_passcode (
  account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
  digest     BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, digest)
) WITHOUT ROWID;

-- Secrets of the installation rather than of an account (the read-token signing key); adding
-- this table changes nothing an older activenow reads, so the schema version stays.
CREATE TABLE IF NOT EXISTS account_secret (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS account_ai AFTER INSERT ON account
  BEGIN UPDATE account_meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS account_au AFTER UPDATE ON account
  BEGIN UPDATE account_meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS account_ad AFTER DELETE ON account
  BEGIN UPDATE account_meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS account_passcode_ai AFTER INSERT ON account_passcode
  BEGIN UPDATE account_meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS account_passcode_au AFTER UPDATE ON account_passcode
  BEGIN UPDATE account_meta SET value = value + 1 WHERE key = 'generation'; END;
CREATE TRIGGER IF NOT EXISTS account_passcode_ad AFTER DELETE ON account_passcode
  BEGIN UPDATE account_meta SET value = value + 1 WHERE key = 'generation'; END;
`;

/**
 * Accounts in a SQLite file (normally `<data-dir>/activenow.db`), shared safely between a running
 * server and the `accounts` CLI commands.
 *
 * Reads are served from an in-memory snapshot of all accounts. The first call of each event-loop
 * turn reads `PRAGMA data_version` (changes when another connection commits to the file); only then
 * is the `generation` counter read, and the snapshot reloaded only if the account tables themselves
 * changed — so commits of other tables in the same file (activity batches) cost one extra indexed
 * row read, not a reload. The other calls of the turn trust that check (it costs ~15 µs of locking
 * system calls, more than the rest of a now.json request): a change committed by another process is
 * seen from the next turn on, a change made in this process by the next call. Writes through this
 * instance drop the snapshot at once.
 */
export class SqliteAccountRegistry implements AccountRegistry {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private snapshot: Snapshot | undefined;
  private dataVersion = -1;
  /** Set when the file was checked in this event-loop turn, with the process's changes then. */
  private checkedThisTurn = false;
  private checkedAtChanges = -1;
  private closed = false;
  private readKey: Buffer | undefined;

  private readonly dataVersionStmt: Database.Statement<[], number>;
  private readonly generationStmt: Database.Statement<[], number>;
  private readonly allAccountsStmt: Database.Statement<[], AccountRow>;
  private readonly allPasscodesStmt: Database.Statement<[], PasscodeRow>;
  private readonly accountExistsStmt: Database.Statement<[string], number>;
  private readonly accountRowStmt: Database.Statement<[string], AccountRow>;
  private readonly insertAccountStmt: Database.Statement<[string, string, string, number, Buffer]>;
  private readonly insertPasscodeStmt: Database.Statement<[string, Buffer, number]>;
  private readonly updateTokenStmt: Database.Statement<[Buffer, string]>;
  private readonly deletePasscodeStmt: Database.Statement<[string, Buffer]>;
  private readonly deleteAllPasscodesStmt: Database.Statement<[string]>;
  private readonly deleteAccountStmt: Database.Statement<[string]>;
  private readonly secretStmt: Database.Statement<[string], Buffer>;
  private readonly insertSecretStmt: Database.Statement<[string, Buffer]>;

  constructor(path: string, options: SqliteAccountRegistryOptions = {}) {
    this.now = options.now ?? Date.now;
    // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    try {
      if (path !== ':memory:' && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      this.db = new Database(path);
    } catch (error) {
      throw openError(path, error);
    }
    try {
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.migrate();
    } catch (error) {
      this.db.close();
      throw openError(path, error);
    }

    const db = this.db;
    this.dataVersionStmt = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.generationStmt = db
      .prepare<[], number>("SELECT value FROM account_meta WHERE key = 'generation'")
      .pluck();
    this.allAccountsStmt = db.prepare<[], AccountRow>(
      'SELECT id, name, region, created_at, token_digest FROM account ORDER BY created_at, id',
    );
    this.allPasscodesStmt = db.prepare<[], PasscodeRow>(
      'SELECT account_id, digest FROM account_passcode ORDER BY account_id, created_at',
    );
    this.accountExistsStmt = db.prepare<[string], number>('SELECT 1 FROM account WHERE id = ?').pluck();
    this.accountRowStmt = db.prepare<[string], AccountRow>(
      'SELECT id, name, region, created_at, token_digest FROM account WHERE id = ?',
    );
    this.insertAccountStmt = db.prepare(
      'INSERT INTO account (id, name, region, created_at, token_digest) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertPasscodeStmt = db.prepare(
      'INSERT INTO account_passcode (account_id, digest, created_at) VALUES (?, ?, ?)',
    );
    this.updateTokenStmt = db.prepare('UPDATE account SET token_digest = ? WHERE id = ?');
    this.deletePasscodeStmt = db.prepare('DELETE FROM account_passcode WHERE account_id = ? AND digest = ?');
    this.deleteAllPasscodesStmt = db.prepare('DELETE FROM account_passcode WHERE account_id = ?');
    this.deleteAccountStmt = db.prepare('DELETE FROM account WHERE id = ?');
    this.secretStmt = db.prepare<[string], Buffer>('SELECT value FROM account_secret WHERE name = ?').pluck();
    this.insertSecretStmt = db.prepare('INSERT OR IGNORE INTO account_secret (name, value) VALUES (?, ?)');
  }

  async create(account: NewAccount): Promise<AccountCredentials> {
    this.assertOpen();
    const name = validateName(account?.name);
    const region = validateRegion(account?.region);
    const passcode = generatePasscode();
    const token = generatePublicToken();
    const createdAt = this.now();
    const id = this.db
      .transaction(() => {
        // ~31^10 ids: a collision is very unlikely, but it must never overwrite an account.
        for (;;) {
          const candidate = generateAccountId();
          if (this.accountExistsStmt.get(candidate) !== undefined) continue;
          this.insertAccountStmt.run(candidate, name, region, createdAt, digest(token));
          this.insertPasscodeStmt.run(candidate, digest(passcode), createdAt);
          return candidate;
        }
      })
      .immediate();
    this.changed();
    return { id, name, region, passcode, token };
  }

  async list(): Promise<Account[]> {
    return Array.from(this.fresh().accounts.values(), (entry) => entry.account);
  }

  async get(id: string): Promise<Account | undefined> {
    return this.fresh().accounts.get(id)?.account;
  }

  async verifyPasscode(id: string, passcode: string): Promise<boolean> {
    return (await this.accountForPasscode(id, passcode)) !== undefined;
  }

  async accountForPasscode(id: string, passcode: string): Promise<Account | undefined> {
    const snapshot = this.fresh();
    const key = `${id}\n${passcode}`;
    const known = snapshot.accepted.get(key);
    if (known !== undefined) return known;
    const entry = snapshot.accounts.get(id);
    // Hash even for an unknown account, so both answers take about as long.
    const matched = matchesAnyDigest(passcode, entry?.passcodeDigests ?? []);
    if (!matched || entry === undefined) return undefined;
    if (snapshot.accepted.size >= MAX_ACCEPTED_CREDENTIALS) snapshot.accepted.clear();
    snapshot.accepted.set(key, entry.account);
    return entry.account;
  }

  async verifyToken(id: string, token: string): Promise<boolean> {
    const entry = this.fresh().accounts.get(id);
    return matchesAnyDigest(token, entry === undefined ? [] : [entry.tokenDigest]);
  }

  async rotatePasscode(id: string): Promise<AccountCredentials | undefined> {
    this.assertOpen();
    const passcode = generatePasscode();
    const token = generatePublicToken();
    const createdAt = this.now();
    const row = this.db
      .transaction(() => {
        const found = this.accountRowStmt.get(id);
        if (found === undefined) return undefined;
        this.insertPasscodeStmt.run(id, digest(passcode), createdAt);
        this.updateTokenStmt.run(digest(token), id);
        return found;
      })
      .immediate();
    if (row === undefined) return undefined;
    this.changed();
    return { id: row.id, name: row.name, region: row.region, passcode, token };
  }

  async revokePasscode(id: string, passcode: string): Promise<boolean> {
    this.assertOpen();
    if (typeof passcode !== 'string') return false;
    const removed = this.deletePasscodeStmt.run(id, digest(passcode)).changes > 0;
    if (removed) this.changed();
    return removed;
  }

  async delete(id: string): Promise<boolean> {
    this.assertOpen();
    const removed = this.db
      .transaction(() => {
        this.deleteAllPasscodesStmt.run(id);
        return this.deleteAccountStmt.run(id).changes > 0;
      })
      .immediate();
    this.changed();
    return removed;
  }

  async readTokenKey(): Promise<Buffer> {
    this.assertOpen();
    if (this.readKey !== undefined) return this.readKey;
    let key = this.secretStmt.get(READ_TOKEN_KEY_NAME);
    if (key === undefined) {
      // Whoever inserts first wins; everyone then reads the winner's key.
      this.insertSecretStmt.run(READ_TOKEN_KEY_NAME, generateReadTokenKey());
      key = this.secretStmt.get(READ_TOKEN_KEY_NAME);
    }
    if (!Buffer.isBuffer(key) || key.length !== READ_TOKEN_KEY_BYTES) {
      throw new Error('the read-token key in the accounts file is damaged');
    }
    this.readKey = key;
    return key;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.snapshot = undefined;
    this.db.close();
  }

  /** Drops the snapshot after a write, and tells the process's other registries. */
  private changed(): void {
    this.snapshot = undefined;
    changesInThisProcess++;
  }

  /** The current snapshot, reloaded only when the account tables changed since it was read. */
  private fresh(): Snapshot {
    this.assertOpen();
    if (
      this.snapshot !== undefined &&
      this.checkedThisTurn &&
      this.checkedAtChanges === changesInThisProcess
    ) {
      return this.snapshot;
    }
    if (!this.checkedThisTurn) {
      this.checkedThisTurn = true;
      setImmediate(this.endTurn);
    }
    this.checkedAtChanges = changesInThisProcess;
    const dataVersion = this.dataVersionStmt.get() as number;
    if (this.snapshot !== undefined && dataVersion === this.dataVersion) return this.snapshot;
    // Recorded before reading: a commit racing with the load below shows up as a change next call.
    this.dataVersion = dataVersion;
    this.snapshot = this.db.transaction(() => {
      const generation = this.generationStmt.get() as number;
      if (this.snapshot !== undefined && this.snapshot.generation === generation) return this.snapshot;
      return this.load(generation);
    })();
    return this.snapshot;
  }

  private readonly endTurn = (): void => {
    this.checkedThisTurn = false;
  };

  /** Reads every account and passcode digest; runs inside one read transaction (one snapshot). */
  private load(generation: number): Snapshot {
    const digests = new Map<string, Buffer[]>();
    for (const row of this.allPasscodesStmt.iterate()) {
      const list = digests.get(row.account_id);
      if (list === undefined) digests.set(row.account_id, [row.digest]);
      else list.push(row.digest);
    }
    const accounts = new Map<string, CachedAccount>();
    for (const row of this.allAccountsStmt.iterate()) {
      const passcodeDigests = digests.get(row.id) ?? [];
      const account: Account = Object.freeze({
        id: row.id,
        name: row.name,
        region: row.region,
        createdAt: row.created_at,
        passcodes: passcodeDigests.length,
      });
      accounts.set(row.id, { account, tokenDigest: row.token_digest, passcodeDigests });
    }
    return { generation, accounts, accepted: new Map() };
  }

  private migrate(): void {
    this.db
      .transaction(() => {
        const hasMeta = this.db
          .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account_meta'")
          .get();
        if (hasMeta !== undefined) {
          const version = this.db
            .prepare<[], number>("SELECT value FROM account_meta WHERE key = 'schema_version'")
            .pluck()
            .get();
          // Checked before touching anything: a newer file is left exactly as it is.
          if (version !== undefined && version > ACCOUNT_SCHEMA_VERSION) {
            throw new Error(
              `the account tables in this file have schema version ${version}, newer than the ${ACCOUNT_SCHEMA_VERSION} this activenow reads; upgrade activenow`,
            );
          }
        }
        this.db.exec(SCHEMA);
      })
      .immediate();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('account registry is closed');
  }
}

const READ_TOKEN_KEY_NAME = 'read_token_key';

/** An error that names the file, so an operator knows which one to look at. */
function openError(path: string, error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  return new Error(
    `cannot open ${path}: ${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`,
    {
      cause: error,
    },
  );
}
