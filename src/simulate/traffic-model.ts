import { MinHeap } from './min-heap.js';
import { exponential, type Random, randomSeed, seededRandom } from './seeded-random.js';
import {
  type DeviceProfile,
  drawDevice,
  drawPage,
  drawSource,
  EVENT_MIX,
  FIRST_EVENT,
  type SessionProfile,
} from './traffic-mixes.js';

/**
 * Simulated traffic as a schedule of events, in seconds since the start, computed without any
 * clock: sessions arrive as a Poisson process; each session is one user with one profile (source,
 * browser, OS, device, country, app version) and sends an event, each on a page, at its start, then, while it lasts, one every
 * `minGapSeconds`–`maxGapSeconds` (uniform). After each event it goes on with a fixed probability,
 * so the number of events per session is geometric and the session length has the configured mean.
 * The session arrival rate is `rate / mean events per session`, so events arrive at `rate` overall.
 * The model starts in its steady state (sessions already in progress), so the rate holds from the
 * first second instead of ramping up over a session length.
 */

export interface TrafficShape {
  /** Events per second, overall. */
  readonly rate: number;
  /** Known users that sessions are drawn from (uniformly). */
  readonly users: number;
  /** Share of sessions from users never seen before (default 0.2). */
  readonly newUserShare?: number;
  /** Mean session length in seconds (default 300). */
  readonly meanSessionSeconds?: number;
  readonly minGapSeconds?: number;
  readonly maxGapSeconds?: number;
  /** Share of sessions in which a known user is not on their usual device (default 0.1). */
  readonly otherDeviceShare?: number;
  /** Same seed, same schedule (default: random). */
  readonly seed?: number;
  /** Start with sessions already in progress (default true). */
  readonly warmStart?: boolean;
  /** Prefix of user ids (default `sim`). */
  readonly idPrefix?: string;
}

export interface SimulatedEvent {
  /** Seconds since the start of the simulation. */
  readonly at: number;
  readonly user: string;
  /** Serial number of the session the event belongs to. */
  readonly session: number;
  /** True when the session's user had never been seen before the session. */
  readonly newUser: boolean;
  /** False for sessions already in progress at the start (warm start). */
  readonly sessionStartedHere: boolean;
  readonly eventName: string;
  readonly profile: SessionProfile;
  /** The page (or app screen) the event is on. */
  readonly page: string;
}

interface Session {
  readonly serial: number;
  readonly user: string;
  /** Index of a known user, or -1 for a new one. */
  readonly known: number;
  readonly newUser: boolean;
  readonly startedHere: boolean;
  readonly profile: SessionProfile;
  nextAt: number;
  events: number;
}

/** How many times a busy known user is replaced by another before two sessions share a user. */
const BUSY_RETRIES = 8;

export class TrafficModel {
  readonly sessionRate: number;
  readonly meanEventsPerSession: number;
  private readonly random: Random;
  private readonly continueProbability: number;
  private readonly minGap: number;
  private readonly maxGap: number;
  private readonly newUserShare: number;
  private readonly otherDeviceShare: number;
  private readonly users: number;
  private readonly prefix: string;
  private readonly runTag: string;
  private readonly pending = new MinHeap<Session>((session) => session.nextAt);
  private readonly homeDevices = new Map<number, DeviceProfile>();
  private readonly busy = new Set<number>();
  private nextSessionAt: number;
  private sessions = 0;
  private newUsers = 0;

  constructor(shape: TrafficShape) {
    if (!(shape.rate > 0)) throw new Error('rate must be positive');
    if (!(Number.isInteger(shape.users) && shape.users >= 1)) throw new Error('users must be at least 1');
    this.random = seededRandom(shape.seed ?? randomSeed());
    this.users = shape.users;
    this.newUserShare = shape.newUserShare ?? 0.2;
    this.otherDeviceShare = shape.otherDeviceShare ?? 0.1;
    this.minGap = shape.minGapSeconds ?? 30;
    this.maxGap = shape.maxGapSeconds ?? 90;
    const meanGap = (this.minGap + this.maxGap) / 2;
    this.meanEventsPerSession = 1 + (shape.meanSessionSeconds ?? 300) / meanGap;
    this.continueProbability = 1 - 1 / this.meanEventsPerSession;
    this.sessionRate = shape.rate / this.meanEventsPerSession;
    this.prefix = shape.idPrefix ?? 'sim';
    this.runTag = Math.floor(this.random() * 36 ** 6).toString(36);
    if (shape.warmStart ?? true) this.warmStart(shape.rate * this.continueProbability * meanGap);
    this.nextSessionAt = exponential(this.random, 1 / this.sessionRate);
  }

  /** Time of the next event, seconds since the start. */
  peekTime(): number {
    return Math.min(this.nextSessionAt, this.pending.peek()?.nextAt ?? Number.POSITIVE_INFINITY);
  }

  /** The next event of the schedule (times never decrease). */
  next(): SimulatedEvent {
    const head = this.pending.peek();
    if (head === undefined || this.nextSessionAt <= head.nextAt) {
      const session = this.startSession(this.nextSessionAt, true);
      this.nextSessionAt += exponential(this.random, 1 / this.sessionRate);
      return this.emit(session);
    }
    this.pending.pop();
    return this.emit(head);
  }

  /** Every event up to `seconds` since the start, in order. */
  takeUntil(seconds: number, limit = Number.POSITIVE_INFINITY): SimulatedEvent[] {
    const events: SimulatedEvent[] = [];
    while (events.length < limit && this.peekTime() <= seconds) events.push(this.next());
    return events;
  }

  private emit(session: Session): SimulatedEvent {
    const eventName = session.events === 0 && session.startedHere ? FIRST_EVENT : EVENT_MIX.pick(this.random);
    const event: SimulatedEvent = {
      at: session.nextAt,
      user: session.user,
      session: session.serial,
      newUser: session.newUser,
      sessionStartedHere: session.startedHere,
      eventName,
      profile: session.profile,
      page: drawPage(this.random, session.profile.browser, eventName),
    };
    session.events++;
    if (this.random() < this.continueProbability) {
      session.nextAt += this.minGap + this.random() * (this.maxGap - this.minGap);
      this.pending.push(session);
    } else if (session.known >= 0) this.busy.delete(session.known);
    return event;
  }

  private startSession(at: number, startedHere: boolean): Session {
    const isNew = startedHere && this.random() < this.newUserShare;
    const known = isNew ? -1 : this.pickKnownUser();
    const device = known < 0 ? drawDevice(this.random) : this.deviceOf(known);
    if (known >= 0) this.busy.add(known);
    return {
      serial: this.sessions++,
      user:
        known < 0 ? `${this.prefix}-new-${this.runTag}-${this.newUsers++}` : `${this.prefix}-user-${known}`,
      known,
      newUser: isNew,
      startedHere,
      profile: { ...device, source: drawSource(this.random, device.browser) },
      nextAt: at,
      events: 0,
    };
  }

  /** A known user not in a session now, if a few draws find one (a user may use two devices). */
  private pickKnownUser(): number {
    let user = Math.floor(this.random() * this.users);
    for (let i = 0; i < BUSY_RETRIES && this.busy.has(user); i++)
      user = Math.floor(this.random() * this.users);
    return user;
  }

  /** A known user's usual device, drawn once; now and then a session is on another one. */
  private deviceOf(user: number): DeviceProfile {
    let home = this.homeDevices.get(user);
    if (home === undefined) {
      home = drawDevice(this.random);
      this.homeDevices.set(user, home);
    }
    return this.random() < this.otherDeviceShare ? drawDevice(this.random) : home;
  }

  /**
   * The sessions in progress in the steady state: on average `inProgress` of them (Little's law:
   * events that schedule a next one × the mean gap), each due after a residual gap drawn from the
   * gap's equilibrium distribution (density P(gap > x) / mean gap).
   */
  private warmStart(inProgress: number): void {
    const count = Math.round(inProgress);
    const span = this.maxGap - this.minGap;
    const meanGap = (this.minGap + this.maxGap) / 2;
    for (let i = 0; i < count; i++) {
      // P(gap > x) is 1 below minGap, then falls linearly to 0 at maxGap.
      const residual =
        this.random() < this.minGap / meanGap
          ? this.random() * this.minGap
          : this.maxGap - span * Math.sqrt(this.random());
      const session = this.startSession(residual, false);
      session.events = 1;
      this.pending.push(session);
    }
  }
}
