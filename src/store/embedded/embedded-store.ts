import { ActiveUsersEngine } from '../../engine/active-users-engine.js';
import type { FirstSeenRegistry } from '../../engine/first-seen-registry.js';
import type { Activity } from '../../model/activity.js';
import type { NowQuery, NowResult } from '../../model/now-query.js';
import type { Store } from '../store.js';

export interface EmbeddedStoreOptions {
  readonly horizonSeconds: number;
  readonly valueCap: number;
  /** The first-seen registry of an account, made when the account is first used. */
  readonly firstSeenRegistry: (account: string) => FirstSeenRegistry;
}

/** Users looked at per account and per maintenance pass: enough to keep up, small enough not to pause. */
const SWEEP_BUDGET = 10_000;

/** One in-memory engine per account, made on first use and dropped again when it holds no user. */
export class EmbeddedStore implements Store {
  private readonly engines = new Map<string, ActiveUsersEngine>();

  constructor(private readonly options: EmbeddedStoreOptions) {}

  async record(account: string, activities: readonly Activity[], at: number): Promise<void> {
    this.engine(account).record(activities, at);
  }

  async now(account: string, query: NowQuery, at: number): Promise<NowResult> {
    return this.engine(account).query(query, at);
  }

  async dropAccount(account: string): Promise<void> {
    this.engines.delete(account);
  }

  /**
   * Forgets users that left the horizon and drops engines left empty, which changes no answer: an
   * engine with no user has nothing in any window or in the timeline. Called periodically.
   */
  maintain(at: number): void {
    for (const [account, engine] of this.engines) {
      engine.maintain(at, SWEEP_BUDGET);
      if (engine.trackedUsers === 0) this.engines.delete(account);
    }
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.engines.clear();
  }

  private engine(account: string): ActiveUsersEngine {
    let engine = this.engines.get(account);
    if (engine === undefined) {
      engine = new ActiveUsersEngine({
        registry: this.options.firstSeenRegistry(account),
        horizonSeconds: this.options.horizonSeconds,
        valueCap: this.options.valueCap,
      });
      this.engines.set(account, engine);
    }
    return engine;
  }
}
