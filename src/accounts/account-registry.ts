/** A tenant: its own users, counts, passcodes and public token. */
export interface Account {
  readonly id: string;
  readonly name: string;
  readonly region: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Number of passcodes that currently open the account. */
  readonly passcodes: number;
}

/** What is shown once, when an account or passcode is created: the secrets in clear. */
export interface AccountCredentials {
  readonly id: string;
  readonly name: string;
  readonly region: string;
  readonly passcode: string;
  /** Public, write-only token for browser collection. */
  readonly token: string;
}

export interface NewAccount {
  readonly name: string;
  readonly region: string;
}

/**
 * Accounts and their secrets. Secrets are stored only as SHA-256 digests and compared in constant
 * time. Changes made through the registry itself are seen by its next call; changes made by
 * another process on the same storage (the CLI next to a running server, another node) are seen
 * with SQLite by the first call of the next event-loop turn after their commit (in practice the next
 * request), and within the registry's cache time (1 s) with Redis.
 */
export interface AccountRegistry {
  create(account: NewAccount): Promise<AccountCredentials>;
  list(): Promise<Account[]>;
  get(id: string): Promise<Account | undefined>;
  /** True when `passcode` is one of the account's passcodes. */
  verifyPasscode(id: string, passcode: string): Promise<boolean>;
  /**
   * The account, when `passcode` is one of its passcodes: what authenticating a request needs, in
   * one read of the registry (it runs on every request).
   */
  accountForPasscode(id: string, passcode: string): Promise<Account | undefined>;
  /** True when `token` is the account's public token. */
  verifyToken(id: string, token: string): Promise<boolean>;
  /** Adds a new passcode (the old ones keep working until revoked) and issues a new public token. */
  rotatePasscode(id: string): Promise<AccountCredentials | undefined>;
  /** Removes one passcode; false if the account or passcode is unknown. */
  revokePasscode(id: string, passcode: string): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /**
   * The key that signs read tokens (`POST /1/now/token`): 32 random bytes, created once per storage
   * by whichever registry asks first, so every node on the same storage signs and checks alike.
   */
  readTokenKey(): Promise<Buffer>;
  close(): Promise<void>;
}
