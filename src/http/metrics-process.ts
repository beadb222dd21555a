import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

/**
 * Node's default metrics (CPU, memory, event loop lag, GC, handles), which belong to the process,
 * not to one app: one registry per process, made on the first scrape, shared by every app.
 */
export function processMetricsText(): Promise<string> {
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry.metrics();
}
