import type { Activity } from '../../model/activity.js';
import { ApiError } from '../../model/api-errors.js';
import {
  assertWindowWithin,
  type NowQuery,
  type NowResult,
  orderSplit,
  type Splits,
  TIMELINE_MINUTES,
} from '../../model/now-query.js';
import { DIMENSIONS, type Dimension, EVENT, type SplitName } from '../../protocol/dimensions.js';
import type { Store, StoreReadiness } from '../../store/store.js';
import { type LuaScript, loadLuaScript } from './lua-script.js';
import type { RedisConnection } from './redis-connection.js';

export interface RedisStoreOptions {
  readonly connection: RedisConnection;
  /** Must be the same on every node sharing the Redis. */
  readonly horizonSeconds: number;
  /** Must be the same on every node sharing the Redis. */
  readonly valueCap: number;
}

/** Users the sweep of expired ones looks at per batch, besides two per user the batch adds. */
const BASE_SWEEP = '64';

/**
 * Every key of an account shares the hash tag `{account}`, so one script can use them all on a
 * cluster. The live state's keys carry the version of its layout (v2: seven dimensions), so a
 * version of another layout never reads them; first-seen times keep one layout and one key.
 */
function accountKeys(account: string) {
  const prefix = `an:{${account}}:`;
  return {
    meta: `${prefix}v2:meta`,
    users: `${prefix}v2:users`,
    first: `${prefix}first`,
    counts: `${prefix}v2:counts`,
    slots: `${prefix}v2:slots`,
  };
}

type NowReply = [clock: number, count: number, fresh: number, timeline: number[], rows: (string | number)[]];

/**
 * All state in Redis (single node or cluster), so any number of stateless nodes can share it. Each
 * call is one Lua script on the account's keys: a batch is applied whole or not at all, and a query
 * reads O(values × window minutes) counters, the same design and the same rules as the embedded
 * engine (the scripts in ./lua are its twins). Live state expires on its own once an account has
 * been idle for twice the horizon; first-seen times are kept for the account's life.
 */
export class RedisStore implements Store {
  private readonly connection: RedisConnection;
  private readonly horizon: number;
  private readonly cap: string;
  private readonly life: string;
  /** Read when a store is built, so only a Redis backend reads its Lua files. */
  private readonly scripts = { record: loadLuaScript('record-5.lua'), now: loadLuaScript('now-4.lua') };
  private recovered = false;

  constructor(options: RedisStoreOptions) {
    this.connection = options.connection;
    this.horizon = options.horizonSeconds;
    this.cap = String(options.valueCap);
    this.life = String(2 * options.horizonSeconds);
  }

  /** Connects to Redis; the store is ready (and stays ready while connected) once this resolves. */
  async recover(): Promise<void> {
    await this.connection.connect();
    this.recovered = true;
  }

  async record(account: string, activities: readonly Activity[], at: number): Promise<void> {
    const keys = accountKeys(account);
    const args = [String(at), String(this.horizon), this.cap, BASE_SWEEP, this.life];
    for (const activity of activities) {
      args.push(
        activity.user,
        String(activity.ts),
        activity.sessionSource ?? '',
        activity.browser ?? '',
        activity.os ?? '',
        activity.device ?? '',
        activity.page ?? '',
        activity.country ?? '',
        activity.appVersion ?? '',
      );
    }
    await this.run(this.scripts.record, [keys.meta, keys.users, keys.first, keys.counts, keys.slots], args);
  }

  readonly splitNames: readonly SplitName[] = DIMENSIONS;

  async now(account: string, query: NowQuery, at: number): Promise<NowResult> {
    assertWindowWithin(query.window, this.horizon);
    if (query.filter !== undefined) throw new ApiError('unsupportedParameter', FILTER_REFUSAL);
    if (query.splits.includes(EVENT)) throw new ApiError('unsupportedParameter', EVENT_REFUSAL);
    const keys = accountKeys(account);
    const dimensions = (query.splits as readonly Dimension[])
      .map((dimension) => DIMENSIONS.indexOf(dimension) + 1)
      .join('');
    const args = [
      String(at),
      String(this.horizon),
      this.life,
      String(query.window),
      query.userType ? '1' : '0',
      query.timeline ? '1' : '0',
      dimensions,
    ];
    const reply = (await this.run(
      this.scripts.now,
      [keys.meta, keys.users, keys.counts, keys.slots],
      args,
    )) as NowReply;
    return resultOf(query, reply);
  }

  async dropAccount(account: string): Promise<void> {
    const keys = Object.values(accountKeys(account));
    await this.connection.send(keys[0], ['UNLINK', ...keys]);
  }

  readiness(): StoreReadiness {
    if (this.connection.isReady) return 'ready';
    return this.recovered ? 'unavailable' : 'starting';
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    return this.connection.runScript(script, keys, args);
  }
}

/**
 * Why the redis store refuses filters (docs/api.md#filter): a filtered answer needs a pass over every
 * live user, and a script doing it would hold the Redis server, which runs one command at a time,
 * for about a second per million users; reading the users out instead would answer from a state
 * other writes change meanwhile.
 */
const FILTER_REFUSAL = {
  name: 'filter',
  reason: 'the redis store answers from counters and cannot filter users (see docs/api.md#filter)',
};

/** Not yet built: the scripts keep no pair of user and event (docs/api.md#event). */
const EVENT_REFUSAL = {
  name: 'event',
  reason: 'the redis store does not count users by event yet (see docs/api.md#event)',
};

function resultOf(query: NowQuery, reply: NowReply): NowResult {
  const [clock, count, fresh, timeline, rows] = reply;
  const active = new Map<SplitName, [string, number][]>();
  const newcomers = new Map<SplitName, [string, number][]>();
  for (const dimension of query.splits) {
    active.set(dimension, []);
    newcomers.set(dimension, []);
  }
  for (let k = 0; k < rows.length; k += 4) {
    const dimension = DIMENSIONS[Number(rows[k]) - 1];
    const value = String(rows[k + 1]);
    if (Number(rows[k + 2]) > 0) active.get(dimension)?.push([value, Number(rows[k + 2])]);
    if (Number(rows[k + 3]) > 0) newcomers.get(dimension)?.push([value, Number(rows[k + 3])]);
  }
  const result: { -readonly [K in keyof NowResult]: NowResult[K] } = {
    count: Number(count),
    splits: splitsOf(active),
  };
  if (query.userType) {
    result.userType = { new: Number(fresh), returning: Number(count) - Number(fresh) };
    if (query.splits.length > 0) result.newSplits = splitsOf(newcomers);
  }
  if (query.timeline) {
    const lastMinute = Math.floor(Number(clock) / 60);
    result.timeline = timeline.map((users, k) => ({
      ts: (lastMinute - TIMELINE_MINUTES + 1 + k) * 60,
      count: Number(users),
    }));
  }
  return result;
}

function splitsOf(entries: Map<SplitName, [string, number][]>): Splits {
  const splits: Splits = {};
  for (const [dimension, values] of entries) splits[dimension] = orderSplit(values);
  return splits;
}
