import type { AccountRegistry } from './accounts/account-registry.js';
import { embeddedBackend } from './backends/embedded/embedded-backend.js';
import { redisBackend } from './backends/redis/redis-backend.js';
import type {
  AccountSettings,
  Backend,
  BackendFactory,
  BackendOptions,
  BackendSettings,
} from './store/backend.js';

/**
 * The one place where backends are chosen: each `--store` value is offered to every backend in
 * turn, and the one that takes it opens. A new backend is a folder under src/backends/ that exports
 * a BackendFactory, and one entry here (docs/architecture.md, "Adding a backend").
 */
const BACKENDS = { embedded: embeddedBackend, redis: redisBackend } as const;

type Backends = typeof BACKENDS;
type BackendName = keyof Backends;
type TargetOf<F> = F extends BackendFactory<infer Target> ? Target : never;

/** Which backend a `--store` value names, and what it names there. */
export type StoreConfig = {
  [Name in BackendName]: { readonly backend: Name; readonly target: TargetOf<Backends[Name]> };
}[BackendName];

/** Every form `--store` takes, for help and errors. */
export const STORE_FORMS: readonly string[] = Object.values(BACKENDS).flatMap(
  (backend) => backend.storeForms,
);

/** The backend and target `value` names, or undefined when no backend takes it. */
export function parseStore(value: string): StoreConfig | undefined {
  for (const [backend, factory] of Object.entries(BACKENDS) as [BackendName, BackendFactory<unknown>][]) {
    const target = factory.parseStore(value);
    if (target !== undefined) return { backend, target } as StoreConfig;
  }
  return undefined;
}

/** Accounts and activity of the configured backend, as `serve` uses them. */
export function openBackend(
  config: BackendSettings & { readonly store: StoreConfig },
  options: BackendOptions = {},
): Backend {
  return factoryOf(config.store).open(config.store.target, config, options);
}

/** The account registry alone, for one-shot commands; closing it releases its storage. */
export function openAccounts(
  config: AccountSettings & { readonly store: StoreConfig },
): Promise<AccountRegistry> {
  return factoryOf(config.store).openAccounts(config.store.target, config);
}

/** The factory of the store's backend, typed for its target (TypeScript cannot relate the two itself). */
function factoryOf(store: StoreConfig): BackendFactory<StoreConfig['target']> {
  return BACKENDS[store.backend] as BackendFactory<StoreConfig['target']>;
}
