import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderNow } from '../../src/http/render-now.js';
import { nowResponseSchema } from '../../src/http/routes/now.js';
import { type NowResult, orderSplit, type Splits, TIMELINE_MINUTES } from '../../src/model/now-query.js';
import { DIMENSIONS, type Dimension } from '../../src/protocol/dimensions.js';

/**
 * The `/1/now.json` body has two copies that cannot be made from each other: the zod schema the
 * document is generated from, and renderNow, which writes the body as text straight from the
 * engine's arrays. Rendering through the schema (an object, then JSON.stringify) would cost the hot
 * path and the stream that speed, and would lose the order of the splits: an object puts keys such
 * as "42" before the others, while CleverTap orders values by count. So they are held together here:
 * every result renders to a body the schema accepts, its keys in the schema's order.
 */

const users = fc.nat({ max: 1_000_000 });

const split = fc
  .uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.integer({ min: 1, max: 1_000_000 })), {
    selector: ([value]) => value,
    maxLength: 6,
  })
  .map((entries) => orderSplit(entries));

/** A split for each of the dimensions asked, in the order the engine gives them: DIMENSIONS order. */
const splitsOf = (dimensions: readonly Dimension[]): fc.Arbitrary<Splits> =>
  fc
    .tuple(...dimensions.map(() => split))
    .map((values) => Object.fromEntries(dimensions.map((dimension, i) => [dimension, values[i]])));

const results: fc.Arbitrary<NowResult> = fc
  .record({
    dimensions: fc.subarray([...DIMENSIONS]),
    userType: fc.option(fc.record({ new: users, returning: users }), { nil: undefined }),
    timeline: fc.option(
      fc.tuple(
        fc.nat({ max: 30_000_000 }),
        fc.array(users, { minLength: TIMELINE_MINUTES, maxLength: TIMELINE_MINUTES }),
      ),
      { nil: undefined },
    ),
    count: users,
  })
  .chain(({ dimensions, userType, timeline, count }) =>
    fc.tuple(splitsOf(dimensions), splitsOf(dimensions)).map(
      ([splits, newSplits]): NowResult => ({
        count,
        userType,
        splits,
        // As the engine: the splits of new users only when user_type and a split are asked.
        newSplits: userType !== undefined && dimensions.length > 0 ? newSplits : undefined,
        timeline: timeline?.[1].map((minuteCount, i) => ({ ts: (timeline[0] + i) * 60, count: minuteCount })),
      }),
    ),
  );

/** The keys of `shape` present in `body`, in the shape's order. */
function keysInSchemaOrder(shape: object, body: object): string[] {
  return Object.keys(shape).filter((key) => key in body);
}

describe('renderNow and the documented NowResponse', () => {
  it('renders every result to a body the schema accepts, in the schema key order', () => {
    fc.assert(
      fc.property(
        results,
        fc.option(fc.nat(), { nil: undefined }),
        fc.option(fc.nat(), { nil: undefined }),
        (result, bots, asOf) => {
          const body = JSON.parse(renderNow(result, { bots, asOf })) as Record<string, unknown>;
          expect(body.bots).toBe(bots);
          expect(body.as_of).toBe(asOf);
          const parsed = nowResponseSchema.safeParse(body);
          expect(parsed.error?.issues).toBeUndefined();
          expect(Object.keys(body)).toEqual(keysInSchemaOrder(nowResponseSchema.shape, body));
          if (body.new !== undefined) {
            const newShape = nowResponseSchema.shape.new.unwrap().shape;
            expect(Object.keys(body.new as object)).toEqual(keysInSchemaOrder(newShape, body.new as object));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
