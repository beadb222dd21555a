import { missingRedisBinaries } from '../../support/redis-servers.js';
import { describeWhenAvailable } from './describe-when-available.js';

/** `describe`, for suites that need redis-server and redis-cli (ACTIVENOW_REQUIRE_REDIS=1 in CI). */
export function describeWithRedis(name: string, body: () => void): void {
  const missing = missingRedisBinaries();
  describeWhenAvailable(name, body, {
    missing:
      missing.length === 0
        ? undefined
        : `${missing.join(' and ')} not found on PATH (Debian: apt-get install redis-server)`,
    requiredBy: 'ACTIVENOW_REQUIRE_REDIS',
    check: 'has redis-server and redis-cli to test against',
  });
}
