import { type Activity, VALUE_KEY_OF } from '../../model/activity.js';
import { OTHER } from '../../model/dimensions.js';
import { DIMENSIONS } from '../../protocol/dimensions.js';

const FIELDS = DIMENSIONS.map((dimension) => VALUE_KEY_OF[dimension]);

/**
 * A batch as it was applied: the values the engine folded into Other (reported as pairs of
 * activity index and dimension number, DIMENSIONS order) replaced by Other. Logging this form
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
