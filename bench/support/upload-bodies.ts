/**
 * `/1/upload` request bodies from the shared benchmark workload: realistic CleverTap event records
 * (about 150 bytes each; 190 with page, country and app version) with the workload's users and
 * session values.
 */
import type { Workload } from './workload.js';

const EVENT_NAMES = ['App Launched', 'Product Viewed', 'Added To Cart', 'Charged', 'Search'];

/** The body of every batch of `workload`, events stamped `ts` (epoch seconds). */
export function uploadBodies(workload: Workload, ts: number): Buffer[] {
  const batch = workload.newBatch();
  const bodies: Buffer[] = [];
  for (let b = 0; b < workload.batches; b++) {
    const records = workload.fillBatch(b, batch).map((activity, i) => {
      const session: Record<string, string> = {};
      if (activity.sessionSource !== undefined) session.source = activity.sessionSource;
      if (activity.browser !== undefined) session.browser = activity.browser;
      if (activity.os !== undefined) session.os = activity.os;
      if (activity.device !== undefined) session.device = activity.device;
      if (activity.page !== undefined) session.page = activity.page;
      if (activity.country !== undefined) session.country = activity.country;
      if (activity.appVersion !== undefined) session.app_version = activity.appVersion;
      return {
        identity: activity.user,
        type: 'event',
        evtName: EVENT_NAMES[(b + i) % EVENT_NAMES.length],
        ts,
        evtData: { price: (b * 7 + i) % 100 },
        session,
      };
    });
    bodies.push(Buffer.from(JSON.stringify({ d: records })));
  }
  return bodies;
}
