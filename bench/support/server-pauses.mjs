// Preloaded into the server by bench:http (NODE_OPTIONS="--import …"): what keeps its event loop
// from answering. On each SIGUSR2 it prints, on stderr, one line `[pauses] {json}` covering the time
// since the previous one: the event loop's delay percentiles (monitorEventLoopDelay) and the GC
// pauses by kind (count, longest, total), then starts over.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
};
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let gc = {};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[entry.detail?.kind] ?? 'other';
    gc[kind] ??= { count: 0, maxMs: 0, totalMs: 0 };
    const pauses = gc[kind];
    pauses.count++;
    pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
    pauses.totalMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

const ms = (nanoseconds) => Number((nanoseconds / 1e6).toFixed(2));
process.on('SIGUSR2', () => {
  const loop = {
    p50: ms(delay.percentile(50)),
    p99: ms(delay.percentile(99)),
    p999: ms(delay.percentile(99.9)),
    max: ms(delay.max),
  };
  process.stderr.write(`[pauses] ${JSON.stringify({ loop, gc })}\n`);
  delay.reset();
  gc = {};
});
