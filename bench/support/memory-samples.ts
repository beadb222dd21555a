/**
 * Memory of a server process over time, and the verdict on whether it grows without bound. Samples
 * come from the server's `GET /metrics` (prom-client's process_resident_memory_bytes and
 * nodejs_heap_size_used_bytes) or, when it has no such route, from /proc/<pid>/status (RSS only).
 */
import { residentBytes } from './process-stats.js';

export interface MemorySample {
  /** Seconds since the soak started. */
  readonly t: number;
  readonly rssBytes: number;
  /** Undefined when sampled from /proc (no heap figure there). */
  readonly heapUsedBytes: number | undefined;
}

export type SampleSource = 'metrics' | 'proc';

const MiB = 1024 * 1024;

/** One sample from the server's /metrics, or undefined when it has none (404) or lacks the gauges. */
export async function sampleFromMetrics(baseUrl: string, t: number): Promise<MemorySample | undefined> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  if (response.status !== 200) return undefined;
  const rss = gauge(text, 'process_resident_memory_bytes');
  if (rss === undefined) return undefined;
  return { t, rssBytes: rss, heapUsedBytes: gauge(text, 'nodejs_heap_size_used_bytes') };
}

/** A gauge without labels from Prometheus text format. */
function gauge(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{\\})? (\\S+)`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** RSS of `pid` from /proc (Linux). */
export function sampleFromProc(pid: number, t: number): MemorySample {
  return { t, rssBytes: residentBytes(pid), heapUsedBytes: undefined };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than two points. */
export function slope(points: readonly (readonly [x: number, y: number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/**
 * The test for unbounded growth (docs/operations.md, "Fuzzing and soak"). Memory grows without
 * bound when, after a warm-up of the first WARM_UP_FRACTION of the run, BOTH
 *   - the least-squares slope of RSS over time projects more than MAX_SLOPE_MIB_PER_HOUR, and
 *   - the median RSS of the last quarter of the run exceeds that of the second quarter by more
 *     than MAX_QUARTER_GROWTH.
 * Either alone is noise-prone: a garbage-collection sawtooth tilts the slope of a short run, and a
 * step (a cache filling once) moves the medians without a trend; a leak does both.
 */
export const WARM_UP_FRACTION = 0.2;
export const MAX_SLOPE_MIB_PER_HOUR = 128;
export const MAX_QUARTER_GROWTH = 0.1;

export interface Figures {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  /** After the warm-up, MiB per hour. */
  readonly slopeMiBPerHour: number;
}

export interface MemoryVerdict {
  readonly samples: number;
  readonly source: SampleSource;
  /** MiB. */
  readonly rss: Figures;
  /** MiB; undefined when sampled from /proc. */
  readonly heapUsed: Figures | undefined;
  readonly warmUpSeconds: number;
  /** Median RSS of the second and the last quarter of the run, MiB. */
  readonly secondQuarterMedian: number;
  readonly lastQuarterMedian: number;
  readonly quarterGrowth: number;
  readonly growsWithoutBound: boolean;
}

function figures(
  samples: readonly MemorySample[],
  warmedUp: readonly MemorySample[],
  value: (s: MemorySample) => number,
): Figures {
  const all = samples.map(value);
  return {
    min: Math.min(...all) / MiB,
    median: median(all) / MiB,
    max: Math.max(...all) / MiB,
    slopeMiBPerHour: (slope(warmedUp.map((s) => [s.t, value(s)] as const)) * 3600) / MiB,
  };
}

export function judgeMemory(
  samples: readonly MemorySample[],
  durationSeconds: number,
  source: SampleSource,
): MemoryVerdict {
  if (samples.length < 8) throw new Error(`only ${samples.length} memory samples: too few to judge`);
  const warmUpSeconds = durationSeconds * WARM_UP_FRACTION;
  const warmedUp = samples.filter((s) => s.t >= warmUpSeconds);
  const between = (from: number, to: number) =>
    samples.filter((s) => s.t >= from * durationSeconds && s.t < to * durationSeconds).map((s) => s.rssBytes);
  const secondQuarterMedian = median(between(0.25, 0.5)) / MiB;
  const lastQuarterMedian = median(between(0.75, 1.01)) / MiB;
  const quarterGrowth = lastQuarterMedian / secondQuarterMedian - 1;
  const rss = figures(samples, warmedUp, (s) => s.rssBytes);
  const withHeap = samples.every((s) => s.heapUsedBytes !== undefined);
  return {
    samples: samples.length,
    source,
    rss,
    heapUsed: withHeap ? figures(samples, warmedUp, (s) => s.heapUsedBytes as number) : undefined,
    warmUpSeconds,
    secondQuarterMedian,
    lastQuarterMedian,
    quarterGrowth,
    growsWithoutBound: rss.slopeMiBPerHour > MAX_SLOPE_MIB_PER_HOUR && quarterGrowth > MAX_QUARTER_GROWTH,
  };
}
