import { TIMELINE_MINUTES, type TimelinePoint } from '../model/now-query.js';
import { StateFormatError, type StateReader, type StateWriter } from './state-stream.js';

/** Minutes remembered: the timeline's, plus room so a late activity never lands on a newer minute. */
export const TRACKED_MINUTES = 32;

/**
 * Distinct active users per calendar minute for the recent minutes. Each user carries a bit mask of
 * the minutes it was active in (bit i = i minutes before the minute of its latest activity), so a
 * user is counted once per minute however many activities it sends, in whatever order.
 */
export class MinuteTimeline {
  private readonly counts = new Int32Array(TRACKED_MINUTES);
  private readonly minutes = new Float64Array(TRACKED_MINUTES).fill(-1);

  /**
   * Notes an activity in `minute` of a user whose mask is relative to `latestMinute` (the minute of
   * its latest activity before this one; pass a mask of 0 for a user with none). Counts the user in
   * that minute if it was not counted there yet, and returns the user's new mask, relative to the
   * later of the two minutes. `nowMinute` is the current minute: older minutes than this class
   * tracks are ignored.
   */
  record(mask: number, latestMinute: number, minute: number, nowMinute: number): number {
    if (minute >= latestMinute) {
      const shift = minute - latestMinute;
      const shifted = shift >= TRACKED_MINUTES ? 0 : (mask << shift) >>> 0;
      if ((shifted & 1) === 0) this.increment(minute, nowMinute);
      return (shifted | 1) >>> 0;
    }
    const bit = latestMinute - minute;
    if (bit >= TRACKED_MINUTES || (mask & (1 << bit)) !== 0) return mask;
    this.increment(minute, nowMinute);
    return (mask | (1 << bit)) >>> 0;
  }

  private increment(minute: number, nowMinute: number): void {
    if (minute <= nowMinute - TRACKED_MINUTES) return;
    const i = minute % TRACKED_MINUTES;
    if (this.minutes[i] !== minute) {
      this.minutes[i] = minute;
      this.counts[i] = 0;
    }
    this.counts[i]++;
  }

  exportState(out: StateWriter): void {
    out.array(this.counts);
    out.array(this.minutes);
  }

  importState(input: StateReader): void {
    const counts = input.array(Int32Array);
    const minutes = input.array(Float64Array);
    if (counts.length !== TRACKED_MINUTES || minutes.length !== TRACKED_MINUTES)
      throw new StateFormatError('a timeline of another length');
    this.counts.set(counts);
    this.minutes.set(minutes);
  }

  /** The TIMELINE_MINUTES minutes ending with the one holding `now`, oldest first. */
  points(now: number): TimelinePoint[] {
    return timelineOf(now, (minute) => {
      const i = minute % TRACKED_MINUTES;
      return this.minutes[i] === minute ? this.counts[i] : 0;
    });
  }
}

/** The first minute (epoch minutes) of the timeline at `now`. */
export function timelineStartMinute(now: number): number {
  return Math.floor(now / 60) - TIMELINE_MINUTES + 1;
}

/** The timeline at `now`, oldest minute first, from the count of each minute (epoch minutes). */
export function timelineOf(now: number, countIn: (minute: number) => number): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  const first = timelineStartMinute(now);
  for (let minute = first; minute < first + TIMELINE_MINUTES; minute++)
    points.push({ ts: minute * 60, count: countIn(minute) });
  return points;
}
