import { describe, expect, it } from 'vitest';
import { judgeMemory, type MemorySample, median, slope } from '../../bench/support/memory-samples.js';

/** The soak's verdict on memory growth, on made-up series whose answer is known. */

const MiB = 1024 * 1024;
const DURATION = 600;

/** One sample a second: `rss(t)` MiB, plus a garbage-collection sawtooth of ±`saw` MiB. */
function series(rss: (t: number) => number, saw = 0): MemorySample[] {
  return Array.from({ length: DURATION }, (_, t) => ({
    t,
    rssBytes: (rss(t) + ((t % 20) / 10 - 1) * saw) * MiB,
    heapUsedBytes: 30 * MiB,
  }));
}

describe('slope and median', () => {
  it('fit a line and take the middle', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('judgeMemory', () => {
  it('a flat series with a sawtooth does not grow without bound', () => {
    const verdict = judgeMemory(
      series(() => 100, 15),
      DURATION,
      'metrics',
    );
    expect(verdict.growsWithoutBound).toBe(false);
    expect(Math.abs(verdict.rss.slopeMiBPerHour)).toBeLessThan(128);
  });

  it('a leak of 600 MiB/h grows without bound', () => {
    const verdict = judgeMemory(
      series((t) => 100 + t / 6, 10),
      DURATION,
      'metrics',
    );
    // The sawtooth tilts the fit a little.
    expect(Math.abs(verdict.rss.slopeMiBPerHour - 600)).toBeLessThan(20);
    expect(verdict.growsWithoutBound).toBe(true);
  });

  it('a leak under the slope limit (60 MiB/h) passes', () => {
    expect(
      judgeMemory(
        series((t) => 100 + t / 60),
        DURATION,
        'metrics',
      ).growsWithoutBound,
    ).toBe(false);
  });

  it('one step up during the warm-up (a cache filling once) passes', () => {
    const verdict = judgeMemory(
      series((t) => (t < 100 ? 80 : 140), 5),
      DURATION,
      'metrics',
    );
    expect(verdict.growsWithoutBound).toBe(false);
  });

  it('growth that ends in the first half, then a plateau, passes on the quarter medians', () => {
    // Steep until 40% of the run, flat after: the fitted slope is still large.
    const verdict = judgeMemory(
      series((t) => 100 + Math.min(t, 240) / 2),
      DURATION,
      'metrics',
    );
    expect(verdict.rss.slopeMiBPerHour).toBeGreaterThan(128);
    expect(verdict.growsWithoutBound).toBe(false);
  });

  it('refuses to judge a handful of samples', () => {
    expect(() => judgeMemory(series(() => 100).slice(0, 5), DURATION, 'proc')).toThrow(/too few/);
  });
});
