import { type Activity, VALUE_KEY_OF } from '../../src/model/activity.js';
import { OTHER, UNKNOWN } from '../../src/model/dimensions.js';
import type {
  NowFilter,
  NowQuery,
  NowResult,
  Split,
  Splits,
  TimelinePoint,
} from '../../src/model/now-query.js';
import { DIMENSIONS, type Dimension, EVENT, type SplitName } from '../../src/protocol/dimensions.js';

/**
 * A deliberately naive, brute-force transcription of the counting rules (docs/semantics.md). It
 * keeps every activity it ever receives and answers each query by scanning all of them. Nothing
 * here is shared with the engine: it exists to be obviously right, not fast.
 */
export interface NaiveOracleOptions {
  readonly horizonSeconds: number;
  readonly valueCap: number;
  /** First-seen times the registry already held before the first activity. */
  readonly preexistingFirstSeen?: ReadonlyMap<string, number>;
}

type Values = Record<Dimension, string>;

interface Received {
  /** Receive order, 0-based, across all batches. */
  readonly seq: number;
  readonly user: string;
  /** After clamping to the clock at receipt. */
  readonly ts: number;
  /** The clock when it was received. */
  readonly clockAtReceipt: number;
  /** False when ts <= clock - horizon at receipt: then it only feeds first-seen. */
  readonly counted: boolean;
  /** Each dimension's value as decided at receipt (Unknown / Other / kept name). */
  readonly values: Values;
  /** The event's name as decided at receipt (Other past the cap); undefined when it names none. */
  readonly event: string | undefined;
}

const FIELD = VALUE_KEY_OF;

const TIMELINE_POINTS = 30;

export class NaiveOracle {
  private readonly horizon: number;
  private readonly valueCap: number;
  private readonly preexisting: Map<string, number>;
  private readonly received: Received[] = [];
  private clock = Number.NEGATIVE_INFINITY;

  constructor(options: NaiveOracleOptions) {
    this.horizon = options.horizonSeconds;
    this.valueCap = options.valueCap;
    // A copy: the engine's registry may be the source of this map and it changes as the engine runs.
    this.preexisting = new Map(options.preexistingFirstSeen ?? []);
  }

  record(activities: readonly Activity[], now: number): void {
    this.clock = Math.max(this.clock, now);
    const c = this.clock;
    for (const activity of activities) {
      const ts = Math.min(activity.ts, c);
      const values = {} as Values;
      for (const dim of DIMENSIONS) {
        values[dim] = this.decide(dim, activity[FIELD[dim]] as string | undefined, c);
      }
      this.received.push({
        seq: this.received.length,
        user: activity.user,
        ts,
        clockAtReceipt: c,
        counted: ts > c - this.horizon,
        values,
        event:
          activity.event === undefined || activity.event === ''
            ? undefined
            : this.decideEvent(activity.event, c),
      });
    }
  }

  maintain(now: number): void {
    this.clock = Math.max(this.clock, now);
  }

  query(query: NowQuery, now: number): NowResult {
    this.clock = Math.max(this.clock, now);
    const t = this.clock;
    const w = query.window;

    const kept = (user: string): boolean => this.keeps(user, query.filter, t - w, t);
    const active: string[] = [];
    for (const user of this.allUsers()) {
      if (!kept(user)) continue;
      const inWindow = this.received.some((r) => r.user === user && r.counted && r.ts > t - w && r.ts <= t);
      if (inWindow) active.push(user);
    }
    const isNew = (user: string): boolean => {
      const fs = this.firstSeen(user);
      return fs > t - w && fs <= t;
    };
    const newUsers = active.filter(isNew);

    const splits: Splits = {};
    for (const dim of query.splits) splits[dim] = this.split(dim, active, t - w, t);

    const result: {
      count: number;
      userType?: { new: number; returning: number };
      splits: Splits;
      newSplits?: Splits;
      timeline?: TimelinePoint[];
    } = { count: active.length, splits };

    if (query.userType) {
      result.userType = { new: newUsers.length, returning: active.length - newUsers.length };
      if (query.splits.length > 0) {
        const newSplits: Splits = {};
        for (const dim of query.splits) newSplits[dim] = this.split(dim, newUsers, t - w, t);
        result.newSplits = newSplits;
      }
    }

    if (query.timeline) {
      const points: TimelinePoint[] = [];
      const lastMinute = Math.floor(t / 60);
      for (let m = lastMinute - (TIMELINE_POINTS - 1); m <= lastMinute; m++) {
        const users = new Set<string>();
        for (const r of this.received) {
          if (r.counted && Math.floor(r.ts / 60) === m && kept(r.user)) users.add(r.user);
        }
        points.push({ ts: m * 60, count: users.size });
      }
      result.timeline = points;
    }

    return result;
  }

  /**
   * The value an incoming activity holds for `dim`, decided at receipt with clock `c`, from the
   * activities received before it.
   */
  private decide(dim: Dimension, raw: string | undefined, c: number): string {
    if (raw === undefined || raw === '' || raw === UNKNOWN) return UNKNOWN;
    if (raw === OTHER) return OTHER;
    const live = new Set<string>();
    for (const user of this.allUsers()) {
      const latest = this.latest(user);
      if (latest === undefined) continue;
      if (!(latest.ts > c - this.horizon && latest.ts <= c)) continue;
      const v = latest.values[dim];
      if (v !== UNKNOWN && v !== OTHER) live.add(v);
    }
    if (live.has(raw) || live.size < this.valueCap) return raw;
    return OTHER;
  }

  /**
   * The event name an incoming activity holds, decided at receipt with clock `c`: its own while some
   * user did it within the horizon or fewer than the cap of names were, else Other.
   */
  private decideEvent(raw: string, c: number): string {
    if (raw === UNKNOWN || raw === OTHER) return raw;
    const live = new Set<string>();
    for (const r of this.received) {
      if (r.counted && r.event !== undefined && r.ts > c - this.horizon && r.ts <= c) live.add(r.event);
    }
    live.delete(UNKNOWN);
    live.delete(OTHER);
    if (live.has(raw) || live.size < this.valueCap) return raw;
    return OTHER;
  }

  /**
   * Whether every dimension the filter names holds one of its values in the user's latest activity,
   * and the user did one of the events it names in (after, until].
   */
  private keeps(user: string, filter: NowFilter | undefined, after: number, until: number): boolean {
    if (filter === undefined) return true;
    const latest = this.latest(user);
    if (latest === undefined) return false;
    return Object.entries(filter).every(([name, values]) =>
      name === EVENT
        ? this.eventsOf(user, after, until).some((event) => (values as readonly string[]).includes(event))
        : (values as readonly string[]).includes(latest.values[name as Dimension]),
    );
  }

  /** The events `user` did in (after, until], each once. */
  private eventsOf(user: string, after: number, until: number): string[] {
    const events = new Set<string>();
    for (const r of this.received) {
      if (r.user === user && r.counted && r.event !== undefined && r.ts > after && r.ts <= until)
        events.add(r.event);
    }
    return [...events];
  }

  /** The counted activity of `user` with the greatest ts; on a tie, the last received. */
  private latest(user: string): Received | undefined {
    let best: Received | undefined;
    for (const r of this.received) {
      if (r.user !== user || !r.counted) continue;
      if (best === undefined || r.ts > best.ts || (r.ts === best.ts && r.seq > best.seq)) best = r;
    }
    return best;
  }

  private firstSeen(user: string): number {
    let fs = this.preexisting.get(user) ?? Number.POSITIVE_INFINITY;
    for (const r of this.received) {
      if (r.user === user && r.ts < fs) fs = r.ts;
    }
    return fs;
  }

  private allUsers(): string[] {
    const users: string[] = [];
    for (const r of this.received) if (!users.includes(r.user)) users.push(r.user);
    return users;
  }

  private split(name: SplitName, users: readonly string[], after: number, until: number): Split {
    const counts = new Map<string, number>();
    for (const user of users) {
      const latest = this.latest(user);
      if (latest === undefined) throw new Error(`oracle: active user ${user} has no counted activity`);
      const values = name === EVENT ? this.eventsOf(user, after, until) : [latest.values[name]];
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const entries: [string, number][] = [...counts.entries()].filter(([, n]) => n > 0);
    entries.sort((a, b) => {
      if (a[1] !== b[1]) return b[1] - a[1];
      if (a[0] < b[0]) return -1;
      if (a[0] > b[0]) return 1;
      return 0;
    });
    return entries;
  }
}
