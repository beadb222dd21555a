import {
  DEFAULT_HORIZON_SECONDS,
  DEFAULT_VALUE_CAP,
  MAX_HORIZON_SECONDS,
  MIN_HORIZON_SECONDS,
} from '../defaults.js';
import type { Activity } from '../model/activity.js';
import {
  assertWindowWithin,
  type NowFilter,
  type NowQuery,
  type NowResult,
  type Splits,
  TIMELINE_MINUTES,
} from '../model/now-query.js';
import { DIMENSIONS, EVENT, type SplitName } from '../protocol/dimensions.js';
import { DimensionSlots } from './dimension-slots.js';
import { NO_LIST } from './event-lists.js';
import { type ScanSums, scanUsers } from './filtered-scan.js';
import type { FirstSeenRegistry } from './first-seen-registry.js';
import { PREPARE_LIMIT } from './id-table.js';
import { MinuteTimeline, timelineOf, timelineStartMinute } from './minute-timeline.js';
import { StateFormatError, type StateReader, type StateWriter } from './state-stream.js';
import { UserEvents } from './user-events.js';
import {
  DIMENSION_HALF,
  EVENT_LIST,
  EVENT_MASK_HALF,
  FIRST,
  LATEST,
  MINUTE_MASK,
  newUserTable,
} from './user-table.js';
import { UsersRanking } from './users-ranking.js';
import { WindowCounters } from './window-counters.js';

/**
 * Told that value number `dimension` (DIMENSIONS order; DIMENSIONS.length for the event name) of
 * activity `activity` was folded into Other.
 */
export type FoldListener = (activity: number, dimension: number) => void;

export interface EngineOptions {
  readonly registry: FirstSeenRegistry;
  /** Seconds of activity kept; the largest window a query may ask for. */
  readonly horizonSeconds?: number;
  /** Distinct values per dimension before new ones fold into Other. */
  readonly valueCap?: number;
}

const DIMS = DIMENSIONS.length;
const INITIAL_SLOT_WIDTH = 16;

/**
 * Exact distinct active users of one account over a sliding window, split by dimension values.
 *
 * Each user holds its latest activity time, its dimension values and its first-seen time; counters
 * per second and value (WindowCounters) are moved incrementally as users come, change and expire,
 * so a query reads O(values × window minutes) counters and never looks at users. Pure: no I/O, no
 * timers; time is passed in and never goes backwards (an earlier `now` is read as the latest one).
 */
export class ActiveUsersEngine {
  private readonly registry: FirstSeenRegistry;
  private readonly horizon: number;
  private readonly users = newUserTable();
  private readonly slots: DimensionSlots;
  /** Users by second of their latest activity. */
  private readonly active: WindowCounters;
  /** Users by second of their first-ever activity, while that second is within the horizon. */
  private readonly newcomers: WindowCounters;
  private readonly timeline = new MinuteTimeline();
  private readonly events: UserEvents;
  private readonly liveUsers = (slot: number): number => this.active.total(slot);
  /** Whether the sweep may forget the user at `index`; gives back its event list when so. */
  private readonly isExpired = (index: number): boolean => {
    const at = index * this.users.recordWords;
    if (this.users.words[at + LATEST] > this.clock - this.horizon) return false;
    this.events.lists.release(this.users.words[at + EVENT_LIST]);
    return true;
  };
  private onFold: FoldListener | undefined;
  /** Index in the batch being recorded of the activity being recorded. */
  private activityIndex = 0;
  private slotWidth = INITIAL_SLOT_WIDTH;
  /** What touchEventLists read, kept so that its reads happen. */
  private touched = 0;
  private clock = 0;
  private readonly resolved = new Uint16Array(DIMS);
  /** The slots a live user held before the activity being recorded. */
  private readonly held = new Uint16Array(DIMS);
  /** The ids of the chunk of activities being recorded. */
  private readonly chunkIds: string[] = [];
  private readonly activeSums: Float64Array;
  private readonly newSums: Float64Array;
  private readonly eventSums: Float64Array;
  private readonly newEventSums: Float64Array;
  /** Scratch of a filtered query: the slots its filter keeps, and what the scan of the users found. */
  private readonly accepted: Uint8Array;
  private readonly acceptedEvents: Uint8Array;
  private readonly scanned: ScanSums;
  /** Scratch of `splits`: users and slot of each value of a dimension with users, and their order. */
  private readonly valueUsers: Uint32Array;
  private readonly valueSlots: Uint16Array;
  private readonly ranking: UsersRanking;

  constructor(options: EngineOptions) {
    const horizon = options.horizonSeconds ?? DEFAULT_HORIZON_SECONDS;
    const cap = options.valueCap ?? DEFAULT_VALUE_CAP;
    if (!Number.isInteger(horizon) || horizon < MIN_HORIZON_SECONDS || horizon > MAX_HORIZON_SECONDS) {
      throw new RangeError(
        `horizonSeconds must be an integer in ${MIN_HORIZON_SECONDS}..${MAX_HORIZON_SECONDS}`,
      );
    }
    if (!Number.isInteger(cap) || cap < 1 || cap > 4096)
      throw new RangeError('valueCap must be an integer in 1..4096');
    this.registry = options.registry;
    this.horizon = horizon;
    this.slots = new DimensionSlots(cap);
    this.active = new WindowCounters(horizon, INITIAL_SLOT_WIDTH);
    this.newcomers = new WindowCounters(horizon, INITIAL_SLOT_WIDTH);
    this.events = new UserEvents(horizon, cap);
    const maxSlots = 1 + DIMS * (cap + 2);
    this.activeSums = new Float64Array(maxSlots);
    this.newSums = new Float64Array(maxSlots);
    this.eventSums = new Float64Array(cap + 3);
    this.newEventSums = new Float64Array(cap + 3);
    this.accepted = new Uint8Array(maxSlots);
    this.acceptedEvents = new Uint8Array(cap + 3);
    this.scanned = {
      count: 0,
      fresh: 0,
      activeSums: new Float64Array(maxSlots),
      newSums: new Float64Array(maxSlots),
      eventSums: new Float64Array(cap + 3),
      newEventSums: new Float64Array(cap + 3),
      minutes: new Float64Array(TIMELINE_MINUTES),
    };
    this.valueUsers = new Uint32Array(cap + 2);
    this.valueSlots = new Uint16Array(cap + 2);
    this.ranking = new UsersRanking(cap + 2);
  }

  /** Users held in memory: those active within the horizon, and expired ones not yet swept. */
  get trackedUsers(): number {
    return this.users.size;
  }

  /**
   * Records activities received at `now`; a `ts` later than `now` counts as `now`. `onFold` hears of
   * each value that the distinct-value cap folded into Other (activity index, dimension number in
   * DIMENSIONS order), so a log can keep the batch as it was applied.
   */
  record(activities: readonly Activity[], now: number, onFold?: FoldListener): void {
    this.advance(now);
    this.onFold = onFold;
    const ids = this.chunkIds;
    for (let from = 0; from < activities.length; from += PREPARE_LIMIT) {
      const count = Math.min(PREPARE_LIMIT, activities.length - from);
      for (let k = 0; k < count; k++) ids[k] = activities[from + k].user;
      this.users.prepare(ids, 0, count);
      if (this.registry.prefetch !== undefined) this.prefetchFirstSeen(ids, count);
      this.touchEventLists(count);
      for (let k = 0; k < count; k++) {
        this.activityIndex = from + k;
        this.recordOne(activities[from + k], k);
      }
    }
    this.onFold = undefined;
    ids.fill('');
    this.users.sweep(activities.length, this.isExpired);
  }

  /** Moves time to `now` and forgets up to `budget` users that left the horizon. */
  maintain(now: number, budget: number): number {
    this.advance(now);
    return this.users.sweep(budget, this.isExpired);
  }

  query(query: NowQuery, now: number): NowResult {
    const window = query.window;
    assertWindowWithin(window, this.horizon);
    this.advance(now);
    if (query.filter !== undefined) return this.filteredQuery(query, query.filter);
    const slotCount = this.slots.size;
    this.active.sumWindow(window, slotCount, this.activeSums);
    if (query.splits.includes(EVENT))
      this.events.sumWindow(window, this.eventSums, query.userType ? this.newEventSums : undefined);
    const count = this.activeSums[0];
    const result: Mutable<NowResult> = {
      count,
      splits: this.splits(query.splits, this.activeSums, this.eventSums),
    };
    if (query.userType) {
      this.newcomers.sumWindow(window, slotCount, this.newSums);
      const fresh = this.newSums[0];
      result.userType = { new: fresh, returning: count - fresh };
      if (query.splits.length > 0)
        result.newSplits = this.splits(query.splits, this.newSums, this.newEventSums);
    }
    if (query.timeline) result.timeline = this.timeline.points(this.clock);
    return result;
  }

  /**
   * The answer for the users `filter` keeps, from one pass over the users (filtered-scan.ts): the
   * counters hold one dimension at a time, so they cannot tell which users hold two values at once.
   * When the filter likely keeps most users, the pass sums those it leaves out instead, and the
   * answer is the counters' (every user) less those: the same numbers, fewer users summed.
   */
  private filteredQuery(query: NowQuery, filter: NowFilter): NowResult {
    const { window, splits } = query;
    const slotCount = this.slots.size;
    const all = this.activeSums;
    this.active.sumWindow(window, slotCount, all);
    const accepted = this.accepted;
    accepted.fill(0);
    const filtered: number[] = [];
    // The share of the window's users the filter keeps if its dimensions were independent.
    let share = 1;
    for (const dimension of DIMENSIONS) {
      const values = filter[dimension];
      if (values === undefined) continue;
      const d = DIMENSIONS.indexOf(dimension);
      filtered.push(d);
      let holding = 0;
      for (const value of values) {
        const slot = this.slots.slotOf(d, value);
        if (slot === undefined || accepted[slot] === 1) continue;
        accepted[slot] = 1;
        holding += all[slot];
      }
      share *= all[0] > 0 ? holding / all[0] : 0;
    }
    const eventNames = filter[EVENT];
    const acceptedEvents = eventNames === undefined ? undefined : this.acceptedEvents.fill(0);
    let eventMask = 0;
    if (acceptedEvents !== undefined && eventNames !== undefined) {
      for (const name of eventNames) {
        const slot = this.events.slots.slotOf(0, name);
        if (slot === undefined) continue;
        acceptedEvents[slot] = 1;
        eventMask |= eventBit(slot);
      }
    }
    // Users of an event are summed as found: a user's events are not in the counters by user.
    const complement = acceptedEvents === undefined && share > 0.5;
    const withEvents = splits.includes(EVENT);
    const found = this.scanned;
    scanUsers(
      this.users,
      this.events.lists.words,
      {
        accepted,
        filtered,
        acceptedEvents,
        eventMask,
        complement,
        summed: splits.filter((name) => name !== EVENT).map((name) => DIMENSIONS.indexOf(name)),
        withEvents,
        windowStart: this.clock - window,
        timeline: query.timeline,
        clock: this.clock,
      },
      slotCount,
      found,
    );
    // Kept = found, or every user less found.
    const sign = complement ? -1 : 1;
    const keptOf = (everyone: Float64Array, left: Float64Array, slots: number): Float64Array => {
      if (complement) for (let slot = 0; slot < slots; slot++) everyone[slot] -= left[slot];
      return complement ? everyone : left;
    };
    const eventSlots = this.events.slots.size;
    if (complement && withEvents)
      this.events.sumWindow(window, this.eventSums, query.userType ? this.newEventSums : undefined);
    const count = (complement ? all[0] : 0) + sign * found.count;
    const result: Mutable<NowResult> = {
      count,
      splits: this.splits(
        splits,
        keptOf(all, found.activeSums, slotCount),
        keptOf(this.eventSums, found.eventSums, eventSlots),
      ),
    };
    if (query.userType) {
      let fresh = found.fresh;
      if (complement) {
        this.newcomers.sumWindow(window, slotCount, this.newSums);
        fresh = this.newSums[0] - found.fresh;
      }
      result.userType = { new: fresh, returning: count - fresh };
      if (splits.length > 0)
        result.newSplits = this.splits(
          splits,
          keptOf(this.newSums, found.newSums, slotCount),
          keptOf(this.newEventSums, found.newEventSums, eventSlots),
        );
    }
    if (query.timeline) {
      const first = timelineStartMinute(this.clock);
      const everyone = complement ? this.timeline.points(this.clock) : undefined;
      result.timeline = timelineOf(
        this.clock,
        (minute) => (everyone?.[minute - first].count ?? 0) + sign * found.minutes[minute - first],
      );
    }
    return result;
  }

  /**
   * Everything that decides a later answer, for a checkpoint: an engine given it by `importState`
   * (same horizon and value cap, any registry holding the same first-seen times) answers and records
   * exactly as this one would. Copies typed arrays whole: one memory copy per table.
   */
  exportState(out: StateWriter): void {
    out.number(this.horizon);
    out.number(this.clock);
    out.number(this.slotWidth);
    this.users.exportState(out);
    this.slots.exportState(out);
    this.active.exportState(out);
    this.newcomers.exportState(out);
    this.timeline.exportState(out);
    this.events.exportState(out);
  }

  /** Takes the state `exportState` wrote; the engine must be new (nothing recorded yet). */
  importState(input: StateReader): void {
    if (input.count() !== this.horizon) throw new StateFormatError('an engine of another horizon');
    this.clock = input.number();
    this.slotWidth = input.count();
    this.users.importState(input);
    this.slots.importState(input);
    this.active.importState(input);
    this.newcomers.importState(input);
    this.timeline.importState(input);
    this.events.importState(input);
  }

  /**
   * Reads the first word of the event list of each user of the prepared chunk that the engine holds,
   * so that those reads, which mostly miss the cache, are in flight together rather than one per
   * activity as it is recorded. The sum is kept only so that the reads are not optimized away.
   */
  private touchEventLists(count: number): void {
    const users = this.users;
    const words = users.words;
    const lists = this.events.lists.words;
    let sum = 0;
    for (let k = 0; k < count; k++) {
      const index = users.indexOfPrepared(k);
      if (index >= 0) sum += lists[words[index * users.recordWords + EVENT_LIST]];
    }
    this.touched = sum;
  }

  /** Tells the registry which users of the prepared chunk the engine does not hold. */
  private prefetchFirstSeen(ids: readonly string[], count: number): void {
    const absent: string[] = [];
    for (let k = 0; k < count; k++) if (this.users.indexOfPrepared(k) < 0) absent.push(ids[k]);
    if (absent.length > 0) this.registry.prefetch?.(absent);
  }

  private advance(now: number): void {
    if (now <= this.clock) return;
    this.clock = now;
    this.active.advance(now);
    this.newcomers.advance(now);
    this.events.advance(now);
  }

  /** Records `activity`, whose id is the `k`-th prepared in the user table. */
  private recordOne(activity: Activity, k: number): void {
    const ts = Math.min(activity.ts, this.clock);
    const liveAfter = this.clock - this.horizon;
    const users = this.users;
    const index = users.indexOfPrepared(k);
    if (index < 0) {
      const first = this.registry.observe(activity.user, ts);
      if (ts <= liveAfter) return;
      const added = users.addPrepared(k);
      users.words[added * users.recordWords + FIRST] = first;
      // A fresh record may hold the words of one that moved away: its list is not this user's.
      users.words[added * users.recordWords + EVENT_LIST] = NO_LIST;
      this.enter(added, activity, ts);
      return;
    }
    const words = users.words;
    const at = index * users.recordWords;
    const first = words[at + FIRST];
    const latest = words[at + LATEST];
    if (latest <= liveAfter) {
      // Expired but not swept yet: its first-seen is still right, the rest starts over.
      if (ts < first) {
        words[at + FIRST] = this.registry.observe(activity.user, ts);
      }
      if (ts > liveAfter) this.enter(index, activity, ts);
      return;
    }
    const dimsAt = 2 * at + DIMENSION_HALF;
    const held = this.held;
    const halves = users.halves;
    for (let d = 0; d < DIMS; d++) held[d] = halves[dimsAt + d];
    if (ts < first) {
      this.registry.observe(activity.user, ts);
      if (first > liveAfter) this.newcomers.addUser(first, held, -1);
      if (ts > liveAfter) this.newcomers.addUser(ts, held, 1);
      words[at + FIRST] = ts;
      this.events.moveFirst(words[at + EVENT_LIST], first, ts, liveAfter);
    }
    if (ts <= liveAfter) return;
    this.recordEvent(at, activity, ts);
    const latestMinute = Math.floor(latest / 60);
    const minute = Math.floor(ts / 60);
    words[at + MINUTE_MASK] = this.timeline.record(
      words[at + MINUTE_MASK],
      latestMinute,
      minute,
      this.nowMinute(),
    );
    if (ts < latest) return;
    const r = this.resolveDims(activity, dimsAt);
    let sameDims = true;
    for (let d = 0; d < DIMS; d++) if (r[d] !== held[d]) sameDims = false;
    if (ts === latest && sameDims) return;
    this.active.addUser(latest, held, -1);
    this.active.addUser(ts, r, 1);
    const userFirst = words[at + FIRST];
    if (!sameDims && userFirst > liveAfter) {
      this.newcomers.addUser(userFirst, held, -1);
      this.newcomers.addUser(userFirst, r, 1);
    }
    words[at + LATEST] = ts;
    halves.set(r, dimsAt);
  }

  /** Starts the live state of a user with no activity in the horizon; its `first` is already set. */
  private enter(index: number, activity: Activity, ts: number): void {
    const words = this.users.words;
    const at = index * this.users.recordWords;
    const r = this.resolveDims(activity, -1);
    words[at + LATEST] = ts;
    this.users.halves.set(r, 2 * at + DIMENSION_HALF);
    const minute = Math.floor(ts / 60);
    words[at + MINUTE_MASK] = this.timeline.record(0, minute, minute, this.nowMinute());
    this.active.addUser(ts, r, 1);
    const first = words[at + FIRST];
    if (first > this.clock - this.horizon) this.newcomers.addUser(first, r, 1);
    // Any events listed were done before the user left the horizon.
    this.events.lists.clear(words[at + EVENT_LIST]);
    this.users.halves[2 * at + EVENT_MASK_HALF] = 0;
    this.recordEvent(at, activity, ts);
  }

  /** Records the activity's event, if it names one, for the live user whose record is at word `at`. */
  private recordEvent(at: number, activity: Activity, ts: number): void {
    const name = activity.event;
    // As a value's, an empty name says nothing: no event.
    if (name === undefined || name === '') return;
    const events = this.events;
    const slot = events.resolve(name);
    if (this.onFold !== undefined && events.isFolded(name, slot)) this.onFold(this.activityIndex, DIMS);
    const words = this.users.words;
    words[at + EVENT_LIST] = events.record(
      words[at + EVENT_LIST],
      slot,
      ts,
      words[at + FIRST],
      this.clock - this.horizon,
    );
    this.users.halves[2 * at + EVENT_MASK_HALF] |= eventBit(slot);
  }

  /**
   * The slots of the activity's dimension values, in `this.resolved`. A value equal to the one the
   * live user already holds keeps its slot without a lookup: `dimsAt` is where that user's slots
   * are in the user table's `halves` (-1 for no such user).
   */
  private resolveDims(activity: Activity, dimsAt: number): Uint16Array {
    const r = this.resolved;
    const slots = this.slots;
    const halves = this.users.halves;
    for (let d = 0; d < DIMS; d++) {
      const value = dimensionValue(activity, d);
      const held = dimsAt >= 0 ? halves[dimsAt + d] : -1;
      r[d] =
        held >= 0 && value !== undefined && slots.name(held) === value
          ? held
          : slots.resolve(d, value, this.liveUsers);
      if (this.onFold !== undefined && slots.isFolded(d, value, r[d])) this.onFold(this.activityIndex, d);
    }
    if (slots.size > this.slotWidth) {
      this.slotWidth = slots.size;
      this.active.ensureWidth(slots.size);
      this.newcomers.ensureWidth(slots.size);
    }
    return r;
  }

  private nowMinute(): number {
    return Math.floor(this.clock / 60);
  }

  /**
   * The splits of `dimensions` from the window sums, each in response order (users descending, then
   * value): the values with users are taken in name order and ranked by users, ties kept in that
   * order, so that no string is compared.
   */
  private splits(names: readonly SplitName[], sums: Float64Array, eventSums: Float64Array): Splits {
    const splits: Splits = {};
    const users = this.valueUsers;
    const slots = this.valueSlots;
    for (const name of names) {
      const isEvent = name === EVENT;
      const source = isEvent ? this.events.slots : this.slots;
      const counts = isEvent ? eventSums : sums;
      const byName = source.slotsByName(isEvent ? 0 : DIMENSIONS.indexOf(name));
      let n = 0;
      for (let i = 0; i < byName.length; i++) {
        const slot = byName[i];
        if (counts[slot] > 0) {
          users[n] = counts[slot];
          slots[n++] = slot;
        }
      }
      const order = this.ranking.rank(users, n);
      const entries: [string, number][] = new Array(n);
      for (let k = 0; k < n; k++) entries[k] = [source.name(slots[order[k]]), users[order[k]]];
      splits[name] = entries;
    }
    return splits;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The bit of an event slot in a user's EVENT_MASK_HALF. */
function eventBit(slot: number): number {
  return 1 << (slot & 15);
}

/** The value of dimension number `d` (in DIMENSIONS order) carried by an activity. */
function dimensionValue(activity: Activity, d: number): string | undefined {
  switch (d) {
    case 0:
      return activity.sessionSource;
    case 1:
      return activity.browser;
    case 2:
      return activity.os;
    case 3:
      return activity.device;
    case 4:
      return activity.page;
    case 5:
      return activity.country;
    default:
      return activity.appVersion;
  }
}
