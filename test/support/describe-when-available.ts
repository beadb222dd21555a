import { describe, it } from 'vitest';

/** What a suite needs from the machine, and how to tell that it is missing. */
export interface Requirement {
  /** Why the suite cannot run here (e.g. "redis-server not found on PATH"), or undefined when it can. */
  readonly missing: string | undefined;
  /** The variable that, set to 1, makes a missing requirement a failure instead of a skip. */
  readonly requiredBy: string;
  /** The name of the test that fails in that case. */
  readonly check: string;
}

/**
 * `describe`, for suites that need something the machine may lack (Redis, Chromium). Without it the
 * suite is skipped with a warning, or fails when `requiredBy` is 1 (CI sets it, so that a machine
 * without it cannot pass by skipping).
 */
export function describeWhenAvailable(name: string, body: () => void, requirement: Requirement): void {
  const { missing, requiredBy, check } = requirement;
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  if (process.env[requiredBy] === '1') {
    describe(name, () => {
      it(check, () => {
        throw new Error(`${missing}; ${requiredBy}=1 requires it`);
      });
    });
    return;
  }
  console.warn(`\n*** SKIPPED "${name}": ${missing}. Set ${requiredBy}=1 to make this a failure. ***\n`);
  describe.skip(name, body);
}
