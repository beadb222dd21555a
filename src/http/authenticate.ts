import type { AccountRegistry } from '../accounts/account-registry.js';
import { ApiError } from '../model/api-errors.js';

export const ACCOUNT_ID_HEADER = 'x-clevertap-account-id';
export const PASSCODE_HEADER = 'x-clevertap-passcode';

/** Longest header value looked at; anything longer cannot be an id or passcode. */
const MAX_CREDENTIAL_LENGTH = 256;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Checks the CleverTap credential headers and returns the account id. A passcode is checked
 * before the region, so only a caller holding the passcode learns an account's region.
 */
export async function authenticate(
  headers: Headers,
  accounts: AccountRegistry,
  region: string,
): Promise<string> {
  const id = single(headers[ACCOUNT_ID_HEADER]);
  const passcode = single(headers[PASSCODE_HEADER]);
  if (id === undefined || passcode === undefined) throw new ApiError('credentialsMissing');
  if (id.length > MAX_CREDENTIAL_LENGTH) throw new ApiError('invalidAccount');
  const account =
    passcode.length > MAX_CREDENTIAL_LENGTH ? undefined : await accounts.accountForPasscode(id, passcode);
  if (account === undefined) {
    // Only a refusal looks again, to name what was wrong: one registry read per accepted request.
    throw new ApiError((await accounts.get(id)) === undefined ? 'invalidAccount' : 'invalidPasscode');
  }
  if (account.region !== region) throw new ApiError('wrongRegion', { region: account.region });
  return id;
}

function single(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const trimmed = text?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
