import { Counter, type Metric, type Registry } from 'prom-client';

const REQUESTS = 'activenow_http_requests_total';
const LATENCY = 'activenow_http_request_duration_seconds';

/** Answered requests of one method and route pattern, in plain numbers. */
export class RouteTally {
  /** Status → requests answered with it. */
  readonly statuses = new Map<number, number>();
  /** Requests per latency bucket: index i counts those up to bounds[i] (and above the one before); the last, the rest. */
  readonly buckets: Float64Array;
  seconds = 0;
  timed = 0;

  constructor(
    readonly method: string,
    readonly route: string,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length + 1);
  }

  answered(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  took(seconds: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]) i++;
    this.buckets[i]++;
    this.seconds += seconds;
    this.timed++;
  }
}

/**
 * `activenow_http_requests_total` and `activenow_http_request_duration_seconds`, counted per request
 * in plain numbers and handed to prom-client only when scraped: its label hashing and checks cost
 * more per request than answering a remembered now.json.
 */
export class RequestTallies {
  private readonly tallies = new Map<string, RouteTally>();

  constructor(
    registry: Registry,
    private readonly bounds: readonly number[],
  ) {
    const requests = new Counter({
      name: REQUESTS,
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
      collect: () => {
        requests.reset();
        for (const tally of this.tallies.values()) {
          for (const [status, n] of tally.statuses) {
            requests.inc({ method: tally.method, route: tally.route, status }, n);
          }
        }
      },
    });
    registry.registerMetric(this.latencyHistogram());
  }

  /** The tally of `method` and `route`: callers on a hot path keep it. */
  of(method: string, route: string): RouteTally {
    const key = `${method} ${route}`;
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = new RouteTally(method, route, this.bounds);
      this.tallies.set(key, tally);
    }
    return tally;
  }

  /**
   * A histogram read from the tallies. prom-client's Histogram can only be fed one observation at a
   * time, so this is a metric of the shape its registry reads (name, help, and `get` giving the
   * values), in its `_bucket` / `_sum` / `_count` form.
   */
  private latencyHistogram(): Metric {
    const histogram = {
      name: LATENCY,
      help: 'Time from routing a request to the end of its response, by method and route pattern',
      get: async () => ({
        name: LATENCY,
        help: histogram.help,
        type: 'histogram',
        aggregator: 'sum',
        values: [...this.tallies.values()]
          .filter((tally) => tally.timed > 0)
          .flatMap((tally) => {
            const labels = { method: tally.method, route: tally.route };
            let cumulative = 0;
            const buckets = this.bounds.map((le, i) => {
              cumulative += tally.buckets[i];
              return { labels: { le, ...labels }, value: cumulative, metricName: `${LATENCY}_bucket` };
            });
            return [
              ...buckets,
              { labels: { le: '+Inf', ...labels }, value: tally.timed, metricName: `${LATENCY}_bucket` },
              { labels, value: tally.seconds, metricName: `${LATENCY}_sum` },
              { labels, value: tally.timed, metricName: `${LATENCY}_count` },
            ];
          }),
      }),
    };
    // The registry reads only name and get(); prom-client's types list its own classes alone.
    return histogram as unknown as Metric;
  }
}
