/**
 * The durable embedded store of several source trees side by side in one process, and the in-memory
 * store of this one: every group of 8 batches of the bench workload goes to each store in turn (the
 * first one rotating), so noise from other processes falls on all alike. Per store: activities/s,
 * activities per CPU-second of the process (all threads, the writer thread included), the longest
 * event-loop block per group, log bytes per activity; then each tree replays its own log, twice.
 *
 *   AB_TREES=base=/tmp/base,this=. taskset -c 1 node --max-old-space-size=6144 --import tsx bench/durable-ab.ts
 *
 * A tree is a checkout of this repository (e.g. `git archive <commit> | tar -x -C DIR`, node_modules
 * linked). Env: AB_ACTIVITIES (default 1,000,000), AB_USERS (default 100,000).
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ActivityDatabase } from '../src/backends/embedded/activity-database.js';
import { EmbeddedStore } from '../src/backends/embedded/embedded-store.js';
import type { Activity } from '../src/model/activity.js';
import { Workload } from './support/workload.js';

const ACTIVITIES = Number(process.env.AB_ACTIVITIES ?? 1_000_000);
const USERS = Number(process.env.AB_USERS ?? 100_000);
const trees: Record<string, string> = Object.fromEntries(
  (process.env.AB_TREES ?? 'this=.').split(',').map((entry) => {
    const [name, path] = entry.split('=');
    return [name, resolve(path)];
  }),
);
type Name = string;
const dir = mkdtempSync(join(tmpdir(), 'ab-recovery-'));
/** Another tree's classes, taken to have this tree's shape (the store's interface is the same). */
interface Tree {
  EmbeddedStore: typeof EmbeddedStore;
  ActivityDatabase: typeof ActivityDatabase;
}
const mods: Record<string, Tree> = {};
for (const [name, root] of Object.entries(trees)) {
  mods[name] = {
    EmbeddedStore: (await import(`${root}/src/backends/embedded/embedded-store.ts`)).EmbeddedStore,
    ActivityDatabase: (await import(`${root}/src/backends/embedded/activity-database.ts`)).ActivityDatabase,
  };
}
const open = (name: string) =>
  new mods[name].EmbeddedStore({
    horizonSeconds: 1800,
    valueCap: 256,
    database: new mods[name].ActivityDatabase(join(dir, `${name}.db`), 'process'),
  });
const stores: Record<Name, EmbeddedStore> = Object.fromEntries(
  Object.keys(trees).map((name) => [name, open(name)]),
);
stores.memory = new EmbeddedStore({ horizonSeconds: 1800, valueCap: 256 });
for (const s of Object.values(stores)) await s.recover();
const names = Object.keys(stores) as Name[];
const workload = new Workload({
  users: USERS,
  activities: ACTIVITIES,
  batchSize: 1000,
  spanSeconds: 288,
  seed: 0x5eed_2024,
});
const scratch = workload.newBatch();

const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))].toFixed(1);
async function phase(label: string, shift: number) {
  const wall: Record<string, number> = {},
    cpu: Record<string, number> = {};
  const blocks: Record<string, number[]> = {};
  for (const n of names) {
    wall[n] = 0;
    cpu[n] = 0;
    blocks[n] = [];
  }
  for (let b = 0, g = 0; b < workload.batches; b += 8, g++) {
    const group: { at: number; activities: Activity[] }[] = [];
    for (let k = b; k < Math.min(b + 8, workload.batches); k++) {
      const batch = workload.fillBatch(k, scratch);
      group.push({
        at: workload.batchNow(k) + shift,
        activities: batch.map((a) => ({ ...a, ts: a.ts + shift })),
      });
    }
    const order = names.map((_, i) => names[(i + g) % names.length]);
    for (const n of order) {
      const copies = group.map((x) => ({ at: x.at, activities: x.activities.map((a) => ({ ...a })) }));
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      await new Promise((r) => setTimeout(r, 2));
      const c = process.cpuUsage();
      const t = performance.now();
      await Promise.all(copies.map((x) => stores[n].record('bench', x.activities, x.at)));
      wall[n] += performance.now() - t;
      const u = process.cpuUsage(c);
      cpu[n] += (u.user + u.system) / 1000;
      await new Promise((r) => setTimeout(r, 1));
      h.disable();
      blocks[n].push(h.max / 1e6);
    }
  }
  for (const n of names)
    console.log(
      `${label} ${n.padEnd(6)}: ${Math.round(ACTIVITIES / (wall[n] / 1000)).toLocaleString('en')} activities/s, ${Math.round(ACTIVITIES / (cpu[n] / 1000)).toLocaleString('en')} per CPU-second, loop blocked per group: max ${Math.max(...blocks[n]).toFixed(1)} ms, p50 ${q(blocks[n], 0.5)} ms, p99 ${q(blocks[n], 0.99)} ms`,
    );
}
await phase('cold  ', 0);
await phase('steady', 288);
for (const n of names) await stores[n].close();
for (const n of Object.keys(trees)) {
  const f = join(dir, `${n}.db`);
  let wal = 0;
  try {
    wal = statSync(`${f}-wal`).size;
  } catch {}
  console.log(`log ${n}: ${((statSync(f).size + wal) / (2 * ACTIVITIES)).toFixed(1)} bytes/activity`);
}
for (let round = 0; round < 2; round++) {
  for (const n of Object.keys(trees)) {
    const s = open(n);
    const t = performance.now();
    await s.recover();
    console.log(
      `replay ${n}: ${Math.round((2 * ACTIVITIES) / ((performance.now() - t) / 1000)).toLocaleString('en')} activities/s`,
    );
    await s.close();
  }
}
