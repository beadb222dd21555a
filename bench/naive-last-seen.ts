import type { Activity } from '../src/model/activity.js';
import { UNKNOWN } from '../src/model/dimensions.js';
import type { NowQuery, NowResult, Split, Splits } from '../src/model/now-query.js';
import { DIMENSIONS, type Dimension, isDimension } from '../src/protocol/dimensions.js';

/** The latest-seen state of one user, as a naive implementation would keep it. */
interface LastSeen {
  ts: number;
  source: string;
  browser: string;
  os: string;
  device: string;
  page: string;
  country: string;
  appVersion: string;
  first: number;
}

export interface NaiveOptions {
  /**
   * Keep first-seen times in a Map of their own (default), like a registry would; false leaves
   * `first` to the earliest activity the latest-seen map itself has seen (used to measure the
   * memory of the latest-seen map alone).
   */
  readonly firstSeen?: boolean;
}

const DIMS = DIMENSIONS.length;

/**
 * Baseline for bench/engine.ts: a Map of the latest activity of every user (never swept, which is
 * fine for a run shorter than the window), and a query that scans every user, counting per value.
 * No cap on distinct values and no timeline; otherwise it answers as ActiveUsersEngine does.
 */
export class NaiveLastSeen {
  private readonly users = new Map<string, LastSeen>();
  private readonly firstSeen: Map<string, number> | undefined;

  constructor(options: NaiveOptions = {}) {
    this.firstSeen = (options.firstSeen ?? true) ? new Map() : undefined;
  }

  get size(): number {
    return this.users.size;
  }

  /** Pre-loads a first-seen time, as a persisted registry would hold for a returning user. */
  seedFirstSeen(user: string, ts: number): void {
    if (this.firstSeen === undefined) throw new Error('this baseline keeps no first-seen map');
    const known = this.firstSeen.get(user);
    if (known === undefined || ts < known) this.firstSeen.set(user, ts);
  }

  /** Records activities received at `now`; a `ts` later than `now` counts as `now`. */
  record(activities: readonly Activity[], now: number): void {
    const users = this.users;
    const firstSeen = this.firstSeen;
    for (const activity of activities) {
      const ts = Math.min(activity.ts, now);
      const user = activity.user;
      const held = users.get(user);
      if (held === undefined) {
        let first = ts;
        if (firstSeen !== undefined) {
          const known = firstSeen.get(user);
          if (known === undefined || ts < known) firstSeen.set(user, ts);
          else first = known;
        }
        users.set(user, {
          ts,
          source: normalized(activity.sessionSource),
          browser: normalized(activity.browser),
          os: normalized(activity.os),
          device: normalized(activity.device),
          page: normalized(activity.page),
          country: normalized(activity.country),
          appVersion: normalized(activity.appVersion),
          first,
        });
        continue;
      }
      if (ts < held.first) {
        held.first = ts;
        firstSeen?.set(user, ts);
      }
      if (ts >= held.ts) {
        held.ts = ts;
        held.source = normalized(activity.sessionSource);
        held.browser = normalized(activity.browser);
        held.os = normalized(activity.os);
        held.device = normalized(activity.device);
        held.page = normalized(activity.page);
        held.country = normalized(activity.country);
        held.appVersion = normalized(activity.appVersion);
      }
    }
  }

  /** Scans every user. Users active in (now - window, now] are counted. */
  query(query: NowQuery, now: number): NowResult {
    if (query.timeline) throw new RangeError('the naive baseline has no timeline');
    const after = now - query.window;
    const wanted = DIMENSIONS.map((dimension) => query.splits.includes(dimension));
    const all: Map<string, number>[] = DIMENSIONS.map(() => new Map());
    const fresh: Map<string, number>[] = DIMENSIONS.map(() => new Map());
    const values: string[] = DIMENSIONS.map(() => '');
    let count = 0;
    let newUsers = 0;
    for (const held of this.users.values()) {
      if (held.ts <= after || held.ts > now) continue;
      count++;
      const isNew = held.first > after;
      if (isNew) newUsers++;
      values[0] = held.source;
      values[1] = held.browser;
      values[2] = held.os;
      values[3] = held.device;
      values[4] = held.page;
      values[5] = held.country;
      values[6] = held.appVersion;
      for (let d = 0; d < DIMS; d++) {
        if (!wanted[d]) continue;
        const value = values[d];
        all[d].set(value, (all[d].get(value) ?? 0) + 1);
        if (isNew) fresh[d].set(value, (fresh[d].get(value) ?? 0) + 1);
      }
    }
    const result: { -readonly [K in keyof NowResult]: NowResult[K] } = {
      count,
      splits: toSplits(query.splits.filter(isDimension), all),
    };
    if (query.userType) {
      result.userType = { new: newUsers, returning: count - newUsers };
      if (query.splits.length > 0) result.newSplits = toSplits(query.splits.filter(isDimension), fresh);
    }
    return result;
  }
}

function normalized(value: string | undefined): string {
  return value === undefined || value === '' ? UNKNOWN : value;
}

function toSplits(dimensions: readonly Dimension[], counts: Map<string, number>[]): Splits {
  const splits: Splits = {};
  for (const dimension of dimensions) {
    const entries = [...counts[DIMENSIONS.indexOf(dimension)]];
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    splits[dimension] = entries as Split;
  }
  return splits;
}
