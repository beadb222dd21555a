import { DEFAULT_WINDOW_SECONDS, type NowQuery } from '../model/now-query.js';
import { DIMENSIONS } from '../protocol/dimensions.js';
import { nowRequestSchema } from './openapi/api-schemas.js';
import { parseBody } from './request-body.js';

/** One schema per horizon (a server has one), built on first use. */
const schemas = new Map<number, ReturnType<typeof nowRequestSchema>>();

/**
 * The `/1/now.json` body as a query: `{}` or no body for the count alone; booleans `user_type`,
 * `session_source`, `browser`, `os`, `device`; extensions `window` and `timeline`. Any other key,
 * or a value of the wrong type, is refused, naming the key.
 */
export function parseNowRequest(body: unknown, horizonSeconds: number): NowQuery {
  let schema = schemas.get(horizonSeconds);
  if (schema === undefined) {
    schema = nowRequestSchema(horizonSeconds);
    schemas.set(horizonSeconds, schema);
  }
  const fields = parseBody(schema, body);
  return {
    window: fields.window ?? DEFAULT_WINDOW_SECONDS,
    userType: fields.user_type === true,
    splits: DIMENSIONS.filter((dimension) => fields[dimension] === true),
    timeline: fields.timeline === true,
  };
}
