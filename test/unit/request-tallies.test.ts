import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestTallies } from '../../src/http/request-tallies.js';

/**
 * The request metrics are counted in plain numbers and shown to prom-client when scraped; prom-client's
 * own Counter and Histogram, fed the same requests one by one, are the oracle: the exposition must be
 * the same text.
 */

const BOUNDS = [0.001, 0.01, 0.1, 1];
const METHODS = ['GET', 'POST'];
const ROUTES = ['/1/now.json', '/1/upload', 'unmatched'];
const STATUSES = [200, 400, 404, 503];

interface Request {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
}

const request: fc.Arbitrary<Request> = fc.record({
  method: fc.constantFrom(...METHODS),
  route: fc.constantFrom(...ROUTES),
  status: fc.constantFrom(...STATUSES),
  // Bounds themselves included: a value equal to a bound counts in that bucket.
  seconds: fc.oneof(fc.constantFrom(...BOUNDS, 0), fc.double({ min: 0, max: 5, noNaN: true })),
});

async function oracleText(requests: readonly Request[]): Promise<string> {
  const registry = new Registry();
  const counter = new Counter({
    name: 'activenow_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'activenow_http_request_duration_seconds',
    help: 'Time from routing a request to the end of its response, by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: BOUNDS,
    registers: [registry],
  });
  for (const r of requests) {
    counter.inc({ method: r.method, route: r.route, status: r.status });
    histogram.observe({ method: r.method, route: r.route }, r.seconds);
  }
  return registry.metrics();
}

async function talliedText(requests: readonly Request[]): Promise<string> {
  const registry = new Registry();
  const tallies = new RequestTallies(registry, BOUNDS);
  for (const r of requests) {
    const tally = tallies.of(r.method, r.route);
    tally.answered(r.status);
    tally.took(r.seconds);
  }
  return registry.metrics();
}

/** The sample lines, sorted: series appear in first-seen order in both, but not the same order. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/ (\d+\.\d+)$/, (_, n: string) => ` ${Number(n).toPrecision(12)}`))
    .sort();
}

describe('RequestTallies', () => {
  it('exposes what prom-client would, fed the same requests one by one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { maxLength: 200 }), async (requests) => {
        expect(samples(await talliedText(requests))).toEqual(samples(await oracleText(requests)));
      }),
      { numRuns: 200 },
    );
  });
});
