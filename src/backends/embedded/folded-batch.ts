import { type Activity, LOGGED_VALUE_KEYS } from '../../model/activity.js';
import { OTHER } from '../../model/dimensions.js';

const FIELDS = LOGGED_VALUE_KEYS;

/**
 * A batch as it was applied: the values the engine folded into Other (reported as pairs of
 * activity index and value number, LOGGED_VALUE_KEYS order) replaced by Other. Logging this form
 * makes a replay repeat the fold even once the activity that filled the cap has left the log.
 */
export function withFoldedValues(activities: readonly Activity[], folds: readonly number[]): Activity[] {
  const folded = [...activities];
  for (let i = 0; i < folds.length; i += 2) {
    const index = folds[i];
    folded[index] = { ...folded[index], [FIELDS[folds[i + 1]]]: OTHER };
  }
  return folded;
}
