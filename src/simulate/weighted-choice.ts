import type { Random } from './seeded-random.js';

/** A weighted choice among values; weights need not sum to anything in particular. */
export class WeightedChoice<T> {
  private readonly values: readonly T[];
  private readonly cumulative: readonly number[];

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new Error('a weighted choice needs at least one value');
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let sum = 0;
    this.values = entries.map(([value]) => value);
    this.cumulative = entries.map(([, weight]) => {
      sum += weight;
      return sum / total;
    });
  }

  pick(random: Random): T {
    const r = random();
    for (let i = 0; i < this.cumulative.length - 1; i++) if (r < this.cumulative[i]) return this.values[i];
    return this.values[this.values.length - 1];
  }

  /** Each value with its probability, for tests and documentation. */
  shares(): Map<T, number> {
    return new Map(
      this.values.map((value, i) => [value, this.cumulative[i] - (this.cumulative[i - 1] ?? 0)]),
    );
  }
}
