import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

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

/** `describe` for suites that need Chromium: skipped with a warning, or failing under ACTIVENOW_REQUIRE_BROWSER=1. */
export function describeWithChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  const why = `${CHROMIUM} not found (Debian: apt-get install chromium)`;
  if (process.env.ACTIVENOW_REQUIRE_BROWSER === '1') {
    describe(name, () => {
      it('has Chromium to test in', () => {
        throw new Error(`${why}; ACTIVENOW_REQUIRE_BROWSER=1 requires it`);
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPED "${name}": ${why}. Set ACTIVENOW_REQUIRE_BROWSER=1 to make this a failure. ***\n`,
  );
  describe.skip(name, body);
}
