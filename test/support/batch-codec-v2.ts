import { encodeBatch } from '../../src/backends/embedded/batch-codec.js';
import type { Activity } from '../../src/model/activity.js';

/**
 * A log record of format 2, as versions before page, country and app_version wrote it: this
 * version's format 3 record of the batch, less its dimensions byte and the value indices of the
 * three later dimensions (format 3 is format 2 with those). The batch must carry none of them.
 */
export function encodeBatchV2(activities: readonly Activity[]): Buffer {
  if (activities.some((a) => a.page !== undefined || a.country !== undefined || a.appVersion !== undefined))
    throw new Error('format 2 holds session_source, browser, os and device only');
  const v3 = encodeBatch(activities);
  const dims = v3[1];
  let at = 2;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const byte = v3[at++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
  };
  const count = varint();
  const wide = varint() >= 0xff;
  const width = wide ? 2 : 1;
  const indexStart = v3.length - count * dims * width;
  const indices: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const start = indexStart + i * dims * width;
    indices.push(v3.subarray(start, start + 4 * width));
  }
  return Buffer.concat([Buffer.from([2]), v3.subarray(2, indexStart), ...indices]);
}
