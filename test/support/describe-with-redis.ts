import { describe, it } from 'vitest';
import { missingRedisBinaries } from '../../support/redis-servers.js';

/**
 * `describe`, for suites that need redis-server and redis-cli. Without them the suite is skipped
 * with a warning, or fails when ACTIVENOW_REQUIRE_REDIS=1 (CI sets it, so that a machine without
 * Redis cannot pass by skipping).
 */
export function describeWithRedis(name: string, body: () => void): void {
  const missing = missingRedisBinaries();
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const why = `${missing.join(' and ')} not found on PATH (Debian: apt-get install redis-server)`;
  if (process.env.ACTIVENOW_REQUIRE_REDIS === '1') {
    describe(name, () => {
      it('has redis-server and redis-cli to test against', () => {
        throw new Error(`${why}; ACTIVENOW_REQUIRE_REDIS=1 requires them`);
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPED "${name}": ${why}. Set ACTIVENOW_REQUIRE_REDIS=1 to make this a failure. ***\n`,
  );
  describe.skip(name, body);
}
