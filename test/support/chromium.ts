import { existsSync } from 'node:fs';
import { describeWhenAvailable } from './describe-when-available.js';

/**
 * Debian's chromium package, driven by playwright-core: no browser is ever downloaded. Only loopback
 * is used.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // No name but the loopback address resolves: nothing can reach the network, even by mistake.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** `describe` for suites that need Chromium (ACTIVENOW_REQUIRE_BROWSER=1 in CI). */
export function describeWithChromium(name: string, body: () => void): void {
  describeWhenAvailable(name, body, {
    missing: existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (Debian: apt-get install chromium)`,
    requiredBy: 'ACTIVENOW_REQUIRE_BROWSER',
    check: 'has Chromium to test in',
  });
}
