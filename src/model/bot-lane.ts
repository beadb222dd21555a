/**
 * The bot lane of an account: the store key under which the activity of bots is recorded, apart
 * from the account's own counts (docs/semantics.md §9). Stores treat it as one more account, so it
 * is logged, replayed, checkpointed and expired like one; account ids never contain `/`, so it
 * cannot be an account's own key.
 */
export function botLaneOf(account: string): string {
  return `${account}/bots`;
}
