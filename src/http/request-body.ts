import type { z } from 'zod';
import { ApiError } from '../model/api-errors.js';

/**
 * Validates a JSON request body (no body counts as `{}`) against an object schema and answers
 * failures from the catalogue: not an object → bodyNotObject; a key the schema does not know →
 * unknownParameter; a value it refuses → invalidParameter, the issue's message as the reason. A key
 * inside an object value is named by its path (`filter.colour`).
 * Of several problems, the one of the key that comes first in the body is answered, as a reader
 * going through the body in order would find it.
 */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const value = body === undefined ? {} : body;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue): [key: string, error: ApiError][] => {
    if (issue.path.length === 0 && issue.code === 'invalid_type')
      return [['', new ApiError('bodyNotObject')]];
    const key = String(issue.path[0]);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((name) => [
        issue.path.length === 0 ? name : key,
        new ApiError('unknownParameter', { name: [...issue.path, name].join('.') }),
      ]);
    }
    const name = issue.path.filter((part) => typeof part === 'string').join('.');
    return [[key, new ApiError('invalidParameter', { name, reason: issue.message })]];
  });
  // A body that is not an object has no keys: its one problem ranks first.
  const order = typeof value === 'object' && value !== null ? Object.keys(value) : [];
  throw problems.reduce((first, next) =>
    order.indexOf(next[0]) < order.indexOf(first[0]) ? next : first,
  )[1];
}
