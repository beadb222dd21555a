import { z } from 'zod';
import { ApiError } from '../model/api-errors.js';
import { MAX_FILTER_VALUE_LENGTH, MAX_FILTER_VALUES, type NowFilter } from '../model/now-query.js';
import { SPLIT_NAMES, type SplitName } from '../protocol/dimensions.js';
import { parseBody } from './request-body.js';

// The `filter` extension (docs/api.md#filter): its schema, shared by the now.json body and the
// stream's query parameter, and what a parsed one becomes.

const filterValuesReason = {
  error: `expected an array of 1 to ${MAX_FILTER_VALUES} strings of 1 to ${MAX_FILTER_VALUE_LENGTH} characters`,
};
const filterValues = z
  .array(
    z.string(filterValuesReason).min(1, filterValuesReason).max(MAX_FILTER_VALUE_LENGTH, filterValuesReason),
    filterValuesReason,
  )
  .min(1, filterValuesReason)
  .max(MAX_FILTER_VALUES, filterValuesReason);
/** The `filter` of a now.json body: dimension → the values to keep. */
export const filterSchema = z
  .strictObject(
    Object.fromEntries(SPLIT_NAMES.map((name) => [name, filterValues.optional()])) as Record<
      SplitName,
      z.ZodOptional<typeof filterValues>
    >,
    { error: 'expected an object of dimension (or event) → values' },
  )
  .meta({
    description:
      'activenow extension: count only the users whose value of each dimension named (that of their latest activity, as the splits name it) is one of those listed, and who did one of the events listed under `event` in the window, e.g. {"country":["IN","US"],"device":["Mobile"],"event":["Purchase"]}; the count, user_type, splits and timeline are all restricted (bots, which carry no values, are not). Not available on the redis store (501).',
  });

const filterParameterSchema = z.strictObject({ filter: filterSchema });

/**
 * The `filter` query parameter of `/1/now/stream`: the JSON of now.json's `filter`, checked alike
 * (undefined when absent or `{}`); refused with invalidParameter naming what is wrong.
 */
export function parseFilterParameter(text: unknown): NowFilter | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {}
  if (value === undefined)
    throw new ApiError('invalidParameter', { name: 'filter', reason: 'expected JSON' });
  return filterOf(parseBody(filterParameterSchema, { filter: value }).filter);
}

/**
 * The filter of a request in one form whatever the request's order, so that equal filters share a
 * stream's poller: names in SPLIT_NAMES order, values sorted and each once. `{}` filters nothing.
 */
export function filterOf(fields: Partial<Record<SplitName, string[]>> | undefined): NowFilter | undefined {
  if (fields === undefined) return undefined;
  const named = SPLIT_NAMES.filter((name) => fields[name] !== undefined);
  if (named.length === 0) return undefined;
  return Object.fromEntries(named.map((name) => [name, [...new Set(fields[name])].sort()]));
}
