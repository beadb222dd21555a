import { OTHER } from './dimensions.js';
import { type NowResult, orderSplit, type Split, type Splits } from './now-query.js';

/** Most values the `top` extension of `/1/now.json` may keep per split. */
export const MAX_TOP = 1000;

/**
 * The split cut to the `n` values with the most users (ties in response order: value ascending);
 * the users of the others are added to `Other`, the bucket the value cap folds into, which stays
 * among the values if it is one of the n and is added otherwise. The split still sums to the same
 * total, in at most n + 1 values. A split of at most n values is returned as it is.
 */
export function topOfSplit(split: Split, n: number): Split {
  if (split.length <= n) return split;
  const kept = split.slice(0, n).map(([value, users]): [string, number] => [value, users]);
  let rest = 0;
  for (let i = n; i < split.length; i++) rest += split[i][1];
  const other = kept.find(([value]) => value === OTHER);
  if (other === undefined) kept.push([OTHER, rest]);
  else other[1] += rest;
  return orderSplit(kept);
}

/** `result` with every split, those of new users included, cut by topOfSplit. */
export function topOfResult(result: NowResult, n: number): NowResult {
  const cut = (splits: Splits): Splits =>
    Object.fromEntries(Object.entries(splits).map(([dimension, split]) => [dimension, topOfSplit(split, n)]));
  return {
    ...result,
    splits: cut(result.splits),
    ...(result.newSplits === undefined ? {} : { newSplits: cut(result.newSplits) }),
  };
}
