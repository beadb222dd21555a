import fc from 'fast-check';
import { type ActivityValues, LOGGED_VALUE_KEYS } from '../../src/model/activity.js';

/** `value` for each of an activity's values, one per dimension and the event's: fields for fc.record. */
export function eachValue<T>(value: fc.Arbitrary<T>): Record<keyof ActivityValues, fc.Arbitrary<T>> {
  return Object.fromEntries(LOGGED_VALUE_KEYS.map((key) => [key, value])) as Record<
    keyof ActivityValues,
    fc.Arbitrary<T>
  >;
}

/**
 * One generated activity: user number in a pool, and its age `offset` relative to the time it is
 * recorded at (ts = at - offset: negative offsets lie in the future and are clamped, offsets >= the
 * horizon are too old).
 */
export interface ActSpec {
  readonly user: number;
  readonly offset: number;
  readonly sessionSource?: string;
  readonly browser?: string;
  readonly os?: string;
  readonly device?: string;
  readonly page?: string;
  readonly country?: string;
  readonly appVersion?: string;
}

/**
 * How old an activity is relative to the time it is recorded at, for a horizon of `h` seconds:
 * mostly recent, with the edges of minutes, windows and the horizon, future times and far past ones.
 */
export function activityAgeArb(h: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(0, 1, 2) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 70 }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 400 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: h + 5 }) },
    { weight: 2, arbitrary: fc.constantFrom(h - 1, h, h + 1, 59, 60, 61, 299, 300, 301) },
    { weight: 1, arbitrary: fc.integer({ min: -120, max: -1 }) },
    { weight: 1, arbitrary: fc.integer({ min: h + 1, max: 200_000 }) },
  );
}

/** Seconds the clock moves before an operation: often not at all, sometimes far beyond the horizon. */
export function clockStepArb(h: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 5 }) },
    { weight: 5, arbitrary: fc.integer({ min: 1, max: 130 }) },
    { weight: 2, arbitrary: fc.integer({ min: 100, max: h }) },
    { weight: 1, arbitrary: fc.integer({ min: h - 2, max: h + 600 }) },
    { weight: 1, arbitrary: fc.integer({ min: 2 * 3600, max: 5 * 3600 + 59 }) },
  );
}
