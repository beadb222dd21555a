import { OTHER } from '../../src/model/dimensions.js';
import type { NowResult, Split } from '../../src/model/now-query.js';

/** The CleverTap-shaped body an oracle's answer should be rendered as, built independently. */
export function expectedBody(result: NowResult): Record<string, unknown> {
  return JSON.parse(expectedBodyText(result));
}

/**
 * The body as the text the server should send, then `tail`'s keys in their order. Written by
 * hand: JSON.stringify of an object would put a value such as app_version's "6" (an integer-like
 * key) before the others, whatever its rank.
 */
export function expectedBodyText(result: NowResult, tail: Record<string, unknown> = {}): string {
  const splitText = (split: Split | undefined) =>
    `{${(split ?? []).map(([value, users]) => `${JSON.stringify(value)}:${users}`).join(',')}}`;
  const splitsText = (splits: NowResult['splits']) =>
    Object.entries(splits).map(([dimension, split]) => `${JSON.stringify(dimension)}:${splitText(split)}`);
  const parts = [`"status":"success"`, `"count":${result.count}`];
  if (result.userType)
    parts.push(`"user_type":{"new":${result.userType.new},"returning":${result.userType.returning}}`);
  parts.push(...splitsText(result.splits));
  if (result.newSplits) parts.push(`"new":{${splitsText(result.newSplits).join(',')}}`);
  for (const [key, value] of Object.entries(tail))
    if (value !== undefined) parts.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
  return `{${parts.join(',')}}`;
}

/** Response order, written out: users descending, then value ascending. */
function byRank(a: readonly [string, number], b: readonly [string, number]): number {
  return a[1] !== b[1] ? b[1] - a[1] : a[0] < b[0] ? -1 : 1;
}

/**
 * What the `top` extension should make of a split (docs/api.md), written apart from the server's
 * split-top.ts: rank every value, keep the first n, pour every other value's users into Other,
 * then order.
 */
export function expectedTop(entries: Split, n: number): [string, number][] {
  if (entries.length <= n) return entries.map(([value, users]) => [value, users]);
  const ranked = [...entries].sort(byRank);
  const kept = new Map(ranked.slice(0, n));
  const poured = ranked.slice(n).reduce((sum, [, users]) => sum + users, 0);
  kept.set(OTHER, (kept.get(OTHER) ?? 0) + poured);
  return [...kept].sort(byRank);
}

/** `result` with `expectedTop` applied to each split and each split of new users. */
export function expectedTopOf(result: NowResult, n: number): NowResult {
  const cut = (splits: NowResult['splits']) =>
    Object.fromEntries(
      Object.entries(splits).map(([dimension, split]) => [dimension, expectedTop(split ?? [], n)]),
    );
  return { ...result, splits: cut(result.splits), newSplits: result.newSplits && cut(result.newSplits) };
}
