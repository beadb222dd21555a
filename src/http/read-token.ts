import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../accounts/secrets.js';

/** Seconds a read token stays valid after it is issued. */
export const READ_TOKEN_TTL_SECONDS = 300;

/** Longest token looked at; anything longer cannot be ours. */
const MAX_READ_TOKEN_LENGTH = 512;

/** Separates what is signed, so no other message of the installation can be taken for a token. */
const PURPOSE = 'activenow read token v1';

/**
 * Short-lived tokens that let a browser read one account's now stream (EventSource cannot send
 * headers): `base64url(account + "\n" + expiry) + "." + base64url(HMAC-SHA256(key, …))`, expiry in
 * epoch seconds. Stateless, so any node holding the shared key checks a token another node issued.
 */
export function issueReadToken(key: Buffer, account: string, expiresAt: number): string {
  const payload = `${account}\n${expiresAt}`;
  return `${Buffer.from(payload, 'utf8').toString('base64url')}.${sign(key, payload).toString('base64url')}`;
}

/** The account a token reads, or undefined if it was not signed with `key` or expired by `now`. */
export function verifyReadToken(key: Buffer, token: string, now: number): string | undefined {
  if (typeof token !== 'string' || token.length > MAX_READ_TOKEN_LENGTH) return undefined;
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const payloadBytes = decodeCanonical(token.slice(0, dot));
  const signature = decodeCanonical(token.slice(dot + 1));
  if (payloadBytes === undefined || signature === undefined) return undefined;
  const payload = payloadBytes.toString('utf8');
  if (!constantTimeEqual(signature, sign(key, payload))) return undefined;
  const match = /^([^\n]+)\n(\d{1,12})$/.exec(payload);
  if (match === null || Number(match[2]) <= now) return undefined;
  return match[1];
}

function sign(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(`${PURPOSE}\n${payload}`, 'utf8').digest();
}

/** The bytes of unpadded base64url text, only if it is the one spelling of them (no stray bits). */
function decodeCanonical(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
