import { z } from 'zod';
import type { Activity } from '../model/activity.js';
import { MAX_USER_KEY_LENGTH } from './clevertap-records.js';
import { deriveSession } from './derive-session.js';
import { normalizePage } from './normalize-dimension.js';

/** Longest page URL or referrer kept from a hit; longer ones are refused. */
export const MAX_HIT_URL_LENGTH = 4096;
/** Longest account id or public token looked at. */
const MAX_CREDENTIAL_LENGTH = 256;

/**
 * A hit of the browser tracker (`POST /1/collect`). `url` and `referrer` are those of the visit's
 * landing page, which the tracker keeps for the whole visit, so that later pages of the same site
 * do not turn the visit's source into a self-referral; `page` is the page shown.
 */
export const hitSchema = z.strictObject({
  account: z.string().min(1).max(MAX_CREDENTIAL_LENGTH),
  token: z.string().min(1).max(MAX_CREDENTIAL_LENGTH),
  user: z.string().trim().min(1).max(MAX_USER_KEY_LENGTH),
  kind: z.enum(['pageview', 'heartbeat']),
  url: z.string().max(MAX_HIT_URL_LENGTH).optional(),
  referrer: z.string().max(MAX_HIT_URL_LENGTH).optional(),
  /** The path of the page shown now (`url` stays the landing page's). */
  page: z.string().max(MAX_HIT_URL_LENGTH).optional(),
});

export type BrowserHit = z.infer<typeof hitSchema>;

/** The hit in `body`, or the name and reason of its first problem. */
export function parseHit(body: unknown): BrowserHit | { problem: string; reason: string } {
  const parsed = hitSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') return { problem: issue.keys[0], reason: 'unknown field' };
  return { problem: path === '' ? 'body' : path, reason: issue.message };
}

/** The event a pageview hit stands for (docs/tracking.md); a heartbeat is no event. */
export const PAGEVIEW_EVENT = 'Page Viewed';

/** A hit as activity at time `at`: of a user, or of a bot (counted in the bot lane, bot-lane.ts). */
export interface HitActivity {
  readonly activity: Activity;
  readonly bot: boolean;
}

/**
 * The activity a hit stands for at time `at`, from a client in `country` (of its IP address); a
 * bot's carries no dimension values.
 */
export function activityOfHit(
  hit: BrowserHit,
  userAgent: string | undefined,
  at: number,
  country: string | undefined,
): HitActivity {
  const derived = deriveSession({ ua: userAgent ?? '', url: hit.url, referrer: hit.referrer });
  if (derived.bot === true) return { activity: { user: hit.user, ts: at }, bot: true };
  return {
    activity: {
      user: hit.user,
      ts: at,
      sessionSource: derived.sessionSource,
      browser: derived.browser,
      os: derived.os,
      device: derived.device,
      page: hit.page === undefined ? undefined : normalizePage(hit.page),
      country,
      event: hit.kind === 'pageview' ? PAGEVIEW_EVENT : undefined,
    },
    bot: false,
  };
}
