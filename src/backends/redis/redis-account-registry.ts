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
import { loadLuaScript } from './lua-script.js';
import type { RedisConnection } from './redis-connection.js';

export interface RedisAccountRegistryOptions {
  /** Clock for `createdAt` and the cache, epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** How long a node may answer from what it last read of an account. Default 1000 ms. */
  readonly cacheMs?: number;
  /** Close the connection with the registry (a one-shot command's own connection). */
  readonly ownsConnection?: boolean;
}

/** All account keys share one hash tag: few and small, and created or deleted atomically. */
const IDS_KEY = 'an:{accounts}:ids';
const accountKey = (id: string) => `an:{accounts}:account:${id}`;
/** The read-token signing key, hex; set once (NX) by the first node that needs it. */
const READ_TOKEN_KEY = 'an:{accounts}:read-token-key';
const PASSCODE_FIELD = 'p:';
/** Accounts (known or not) remembered at most; the cache is cleared beyond, so unknown ids cannot grow it. */
const MAX_CACHED = 10_000;

interface Loaded {
  readonly account: Account | undefined;
  readonly tokenDigest: Buffer | undefined;
  readonly passcodeDigests: Buffer[];
  readonly readAt: number;
}

/**
 * Accounts in Redis, shared by every node. An account is one hash (name, region, createdAt, the
 * public token's digest, and one `p:<digest>` field per passcode). Each node reads an account at
 * most once per `cacheMs`, so a revoked passcode stops working everywhere within that time.
 */
export class RedisAccountRegistry implements AccountRegistry {
  private readonly cache = new Map<string, Loaded>();
  private readonly now: () => number;
  private readonly cacheMs: number;
  private readonly ownsConnection: boolean;
  /** Read when a registry is built, so only a Redis backend reads its Lua files. */
  private readonly scripts = {
    create: loadLuaScript('account-create-2.lua'),
    update: loadLuaScript('account-update-1.lua'),
    delete: loadLuaScript('account-delete-2.lua'),
  };
  private readKey: Buffer | undefined;

  constructor(
    private readonly connection: RedisConnection,
    options: RedisAccountRegistryOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.cacheMs = options.cacheMs ?? 1000;
    this.ownsConnection = options.ownsConnection ?? false;
  }

  async create(account: NewAccount): Promise<AccountCredentials> {
    const name = validateName(account?.name);
    const region = validateRegion(account?.region);
    const passcode = generatePasscode();
    const token = generatePublicToken();
    const createdAt = this.now();
    const fields = [
      'name',
      name,
      'region',
      region,
      'createdAt',
      String(createdAt),
      'token',
      hex(token),
      PASSCODE_FIELD + hex(passcode),
      String(createdAt),
    ];
    // ~31^10 ids: a collision is very unlikely, but it must never overwrite an account.
    for (;;) {
      const id = generateAccountId();
      const created = await this.connection.runScript(
        this.scripts.create,
        [IDS_KEY, accountKey(id)],
        [id, ...fields],
      );
      if (Number(created) === 1) {
        this.cache.delete(id);
        return { id, name, region, passcode, token };
      }
    }
  }

  async list(): Promise<Account[]> {
    const ids = (await this.connection.send(IDS_KEY, ['SMEMBERS', IDS_KEY])) as string[];
    const accounts = await Promise.all(ids.map(async (id) => (await this.read(id)).account));
    return accounts
      .filter((account) => account !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async get(id: string): Promise<Account | undefined> {
    return (await this.load(id)).account;
  }

  async verifyPasscode(id: string, passcode: string): Promise<boolean> {
    return (await this.accountForPasscode(id, passcode)) !== undefined;
  }

  async accountForPasscode(id: string, passcode: string): Promise<Account | undefined> {
    const { account, passcodeDigests } = await this.load(id);
    return matchesAnyDigest(passcode, passcodeDigests) ? account : undefined;
  }

  async verifyToken(id: string, token: string): Promise<boolean> {
    const { tokenDigest } = await this.load(id);
    return matchesAnyDigest(token, tokenDigest === undefined ? [] : [tokenDigest]);
  }

  async rotatePasscode(id: string): Promise<AccountCredentials | undefined> {
    const passcode = generatePasscode();
    const token = generatePublicToken();
    const fields = [PASSCODE_FIELD + hex(passcode), String(this.now()), 'token', hex(token)];
    const found = (await this.connection.runScript(this.scripts.update, [accountKey(id)], fields)) as
      | [string, string]
      | null;
    this.cache.delete(id);
    if (found === null) return undefined;
    return { id, name: found[0], region: found[1], passcode, token };
  }

  async revokePasscode(id: string, passcode: string): Promise<boolean> {
    if (typeof passcode !== 'string') return false;
    const key = accountKey(id);
    const removed = await this.connection.send(key, ['HDEL', key, PASSCODE_FIELD + hex(passcode)]);
    this.cache.delete(id);
    return Number(removed) > 0;
  }

  async delete(id: string): Promise<boolean> {
    const removed = await this.connection.runScript(this.scripts.delete, [IDS_KEY, accountKey(id)], [id]);
    this.cache.delete(id);
    return Number(removed) > 0;
  }

  async readTokenKey(): Promise<Buffer> {
    if (this.readKey !== undefined) return this.readKey;
    const candidate = generateReadTokenKey().toString('hex');
    await this.connection.send(READ_TOKEN_KEY, ['SET', READ_TOKEN_KEY, candidate, 'NX']);
    const stored = await this.connection.send(READ_TOKEN_KEY, ['GET', READ_TOKEN_KEY]);
    const key = typeof stored === 'string' ? Buffer.from(stored, 'hex') : Buffer.alloc(0);
    if (key.length !== READ_TOKEN_KEY_BYTES) throw new Error(`${READ_TOKEN_KEY} in Redis is damaged`);
    this.readKey = key;
    return key;
  }

  async close(): Promise<void> {
    this.cache.clear();
    if (this.ownsConnection) await this.connection.close();
  }

  /** The account as last read, if read less than `cacheMs` ago. */
  private async load(id: string): Promise<Loaded> {
    const cached = this.cache.get(id);
    if (cached !== undefined && this.now() - cached.readAt < this.cacheMs) return cached;
    return this.read(id);
  }

  private async read(id: string): Promise<Loaded> {
    const key = accountKey(id);
    const fields = (await this.connection.send(key, ['HGETALL', key])) as Record<string, string>;
    const passcodeDigests: Buffer[] = [];
    for (const field of Object.keys(fields)) {
      if (field.startsWith(PASSCODE_FIELD)) passcodeDigests.push(Buffer.from(field.slice(2), 'hex'));
    }
    const exists = fields.region !== undefined;
    const loaded: Loaded = {
      account: exists
        ? Object.freeze({
            id,
            name: fields.name,
            region: fields.region,
            createdAt: Number(fields.createdAt),
            passcodes: passcodeDigests.length,
          })
        : undefined,
      tokenDigest: exists ? Buffer.from(fields.token, 'hex') : undefined,
      passcodeDigests,
      readAt: this.now(),
    };
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(id, loaded);
    return loaded;
  }
}

function hex(secret: string): string {
  return digest(secret).toString('hex');
}
