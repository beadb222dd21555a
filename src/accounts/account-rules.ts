// Rules every account registry applies to a new account, whatever its storage.

export const MAX_ACCOUNT_NAME_LENGTH = 100;
const REGION_PATTERN = /^[a-z0-9-]{1,32}$/;

/** Trimmed account name, 1..100 characters (code points), no control characters. */
export function validateName(name: unknown): string {
  if (typeof name !== 'string') throw new Error('account name is required');
  const trimmed = name.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > MAX_ACCOUNT_NAME_LENGTH) {
    throw new Error(`account name must be 1 to ${MAX_ACCOUNT_NAME_LENGTH} characters (got ${length})`);
  }
  if (/\p{Cc}/u.test(trimmed)) throw new Error('account name must not contain control characters');
  return trimmed;
}

/** Region names: 1..32 characters of a-z, 0-9 and "-". */
export function validateRegion(region: unknown): string {
  if (typeof region !== 'string' || !REGION_PATTERN.test(region)) {
    throw new Error(
      `region must be 1 to 32 characters of a-z, 0-9 and "-" (got ${JSON.stringify(region) ?? String(region)})`,
    );
  }
  return region;
}
