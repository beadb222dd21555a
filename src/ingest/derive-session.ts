import type { DerivedSession, SessionHints } from './clevertap-records.js';
import { classifySessionSource } from './session-source.js';
import { classifyUserAgent } from './user-agent.js';

/**
 * Dimension values of a visit from what a browser tells: browser, OS, device and bots from the
 * User-Agent, session source from the page URL (UTM tags) and the referrer. Serves both
 * `session.ua` / `referrer` / `url` of `/1/upload` and the hits of `/1/collect`.
 */
export function deriveSession(hints: SessionHints): DerivedSession {
  const agent = hints.ua === undefined ? undefined : classifyUserAgent(hints.ua);
  const sessionSource =
    hints.url === undefined && hints.referrer === undefined
      ? undefined
      : classifySessionSource({ url: hints.url, referrer: hints.referrer });
  return {
    sessionSource,
    browser: agent?.browser,
    os: agent?.os,
    device: agent?.device,
    bot: agent?.bot ?? false,
  };
}
