/**
 * The log record of a batch, format version 1 (as released, support/batch-codec-v1-encoder.ts)
 * against the current version (3, what the server writes): bytes per activity, and encode and
 * decode time per activity, on the benchmark workload's batches of 1000, the two formats
 * alternating batch by batch in the same run.
 *
 *   node --import tsx bench/log-codec.ts
 *
 * Env: BENCH_CODEC_ACTIVITIES (default 2,000,000). Pinned to one core like the other benchmarks.
 */
import { decodeBatch, encodeBatch } from '../src/backends/embedded/batch-codec.js';
import type { Activity } from '../src/model/activity.js';
import { encodeBatchV1 } from '../support/batch-codec-v1-encoder.js';
import { pinToOneCore } from './support/pin-to-core.js';
import { formatInt } from './support/results.js';
import { Workload } from './support/workload.js';

const ACTIVITIES = Number(process.env.BENCH_CODEC_ACTIVITIES ?? 2_000_000);
const ROUNDS = 3;

pinToOneCore();

interface Totals {
  bytes: number;
  encodeNs: bigint;
  decodeNs: bigint;
}

function measure(encode: (batch: readonly Activity[]) => Buffer, batch: readonly Activity[], totals: Totals) {
  let t = process.hrtime.bigint();
  const bytes = encode(batch);
  totals.encodeNs += process.hrtime.bigint() - t;
  t = process.hrtime.bigint();
  const decoded = decodeBatch(bytes);
  totals.decodeNs += process.hrtime.bigint() - t;
  if (decoded.length !== batch.length || decoded[batch.length - 1].user !== batch[batch.length - 1].user)
    throw new Error('decoded batch differs');
  totals.bytes += bytes.length;
}

const workload = new Workload({
  users: ACTIVITIES / 10,
  activities: ACTIVITIES,
  batchSize: 1000,
  spanSeconds: 288,
  seed: 0x5eed_2024,
});
const batches: Activity[][] = [];
const scratch = workload.newBatch();
for (let b = 0; b < workload.batches; b++)
  batches.push(workload.fillBatch(b, scratch).map((a) => ({ ...a })));

for (let round = 0; round < ROUNDS; round++) {
  const v1: Totals = { bytes: 0, encodeNs: 0n, decodeNs: 0n };
  const current: Totals = { bytes: 0, encodeNs: 0n, decodeNs: 0n };
  batches.forEach((batch, b) => {
    const order: [typeof encodeBatch, Totals][] = [
      [encodeBatchV1, v1],
      [encodeBatch, current],
    ];
    if (b % 2 === 1) order.reverse();
    for (const [encode, totals] of order) measure(encode, batch, totals);
  });
  const line = (name: string, t: Totals) =>
    `${name}: ${(t.bytes / ACTIVITIES).toFixed(1)} B/activity, encode ${(Number(t.encodeNs) / ACTIVITIES).toFixed(0)} ns/activity, decode ${(Number(t.decodeNs) / ACTIVITIES).toFixed(0)} ns/activity`;
  process.stdout.write(
    `round ${round + 1} (${formatInt(ACTIVITIES)} activities): ${line('v1', v1)}; ${line('v3', current)}\n`,
  );
}
