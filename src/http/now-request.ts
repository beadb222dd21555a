import { ApiError } from '../model/api-errors.js';
import { DIMENSIONS, type Dimension } from '../model/dimensions.js';
import {
  DEFAULT_WINDOW_SECONDS,
  MAX_WINDOW_SECONDS,
  MIN_WINDOW_SECONDS,
  type NowQuery,
} from '../model/now-query.js';

const BOOLEAN_KEYS = new Set<string>(['user_type', 'timeline', ...DIMENSIONS]);

/**
 * The `/1/now.json` body as a query: `{}` or no body for the count alone; booleans `user_type`,
 * `session_source`, `browser`, `os`, `device`; extensions `window` and `timeline`. Any other key,
 * or a value of the wrong type, is refused, naming the key.
 */
export function parseNowRequest(body: unknown, horizonSeconds: number): NowQuery {
  if (body === undefined)
    return { window: DEFAULT_WINDOW_SECONDS, userType: false, splits: [], timeline: false };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('bodyNotObject');
  const fields = body as Record<string, unknown>;
  const maxWindow = Math.min(MAX_WINDOW_SECONDS, horizonSeconds);
  for (const [key, value] of Object.entries(fields)) {
    if (BOOLEAN_KEYS.has(key)) {
      if (typeof value !== 'boolean')
        throw new ApiError('invalidParameter', { name: key, reason: 'expected true or false' });
    } else if (key === 'window') {
      if (
        !Number.isInteger(value) ||
        (value as number) < MIN_WINDOW_SECONDS ||
        (value as number) > maxWindow
      ) {
        throw new ApiError('invalidParameter', {
          name: key,
          reason: `expected an integer from ${MIN_WINDOW_SECONDS} to ${maxWindow} (seconds)`,
        });
      }
    } else {
      throw new ApiError('unknownParameter', { name: key });
    }
  }
  return {
    window: (fields.window as number | undefined) ?? DEFAULT_WINDOW_SECONDS,
    userType: fields.user_type === true,
    splits: DIMENSIONS.filter((dimension: Dimension) => fields[dimension] === true),
    timeline: fields.timeline === true,
  };
}
