import type { NowResult } from '../../src/model/now-query.js';

/** The CleverTap-shaped body an oracle's answer should be rendered as, built independently. */
export function expectedBody(result: NowResult): Record<string, unknown> {
  const body: Record<string, unknown> = { status: 'success', count: result.count };
  if (result.userType) body.user_type = { new: result.userType.new, returning: result.userType.returning };
  for (const [dimension, split] of Object.entries(result.splits))
    body[dimension] = Object.fromEntries(split ?? []);
  if (result.newSplits) {
    body.new = Object.fromEntries(
      Object.entries(result.newSplits).map(([dimension, split]) => [
        dimension,
        Object.fromEntries(split ?? []),
      ]),
    );
  }
  return body;
}
