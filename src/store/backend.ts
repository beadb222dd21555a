import type { AccountRegistry } from '../accounts/account-registry.js';
import type { Store } from './store.js';

/**
 * A backend: where accounts and activity live (src/backends/<name>/). Each backend folder exports
 * one `BackendFactory`; the composition root picks it from `--store` and nothing else ever asks
 * which backend it has. Types only.
 */

/** Accounts and activity of one backend, as `serve` uses them. */
export interface Backend {
  readonly accounts: AccountRegistry;
  readonly store: Store;
  /** Replays the activity log (embedded) or connects (Redis); the API answers 503 until then. */
  recover(): Promise<void>;
  /** Housekeeping the backend wants from time to time, at time `now` (epoch seconds). */
  maintain(now: number): void;
  close(): Promise<void>;
}

/** The configuration a backend may read: where data lives, and the counting settings. */
export interface BackendSettings {
  readonly dataDir: string;
  readonly durability: 'process' | 'full';
  readonly pageCacheMib: number;
  readonly horizonSeconds: number;
  readonly valueCap: number;
}

/** What the account registry alone needs: one-shot commands such as `accounts list`. */
export type AccountSettings = Pick<BackendSettings, 'dataDir'>;

/** Told of a storage event worth a log line (how a restart recovered, a checkpoint not used). */
export type StorageEventListener = (
  level: 'debug' | 'info' | 'warn',
  message: string,
  details: Readonly<Record<string, unknown>>,
) => void;

export interface BackendOptions {
  /** Told of storage problems that no request sees (a lost Redis connection). */
  readonly onStorageError?: (error: Error) => void;
  readonly onStorageEvent?: StorageEventListener;
}

/** What a backend folder exports. `Target` is what its `--store` values name (a URL, nodes, …). */
export interface BackendFactory<Target> {
  /** The forms of `--store` it takes, for help and errors, e.g. `redis://HOST:PORT[/DB]`. */
  readonly storeForms: readonly string[];
  /** The target a `--store` value names, or undefined when the value is not one of this backend's. */
  parseStore(value: string): Target | undefined;
  /** Builds the backend; its store serves once `recover` has resolved. */
  open(target: Target, settings: BackendSettings, options: BackendOptions): Backend;
  /** The account registry alone, ready to use; closing it releases its storage. */
  openAccounts(target: Target, settings: AccountSettings): Promise<AccountRegistry>;
}
