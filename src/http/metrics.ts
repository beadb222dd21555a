import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RecordFailure } from '../ingest/clevertap-records.js';
import { DEFAULT_WINDOW_SECONDS, type NowQuery } from '../model/now-query.js';
import type { Store } from '../store/store.js';
import { processMetricsText } from './metrics-process.js';
import { RequestTallies, type RouteTally } from './request-tallies.js';

/** The route label of requests that matched no route: one value, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';
const UPLOAD_ROUTE = '/1/upload';
const COLLECT_ROUTE = '/1/collect';
/** Its 200s last as long as the stream: not a latency. */
const STREAM_ROUTE = '/1/now/stream';

/**
 * An account that recorded nothing for this long has no active user in the default window (a `ts`
 * may lie up to 60 s ahead, far less than this margin).
 */
const RECENT_SECONDS = 2 * DEFAULT_WINDOW_SECONDS;
/** Accounts queried per scrape at most (the most recently seen): a scrape stays cheap on Redis too. */
const MAX_QUERIED_ACCOUNTS = 1000;
const COUNT_QUERY: NowQuery = Object.freeze({
  window: DEFAULT_WINDOW_SECONDS,
  userType: false,
  splits: [],
  timeline: false,
});

const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STORE_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export type StoreOperation = 'record' | 'now';

export interface AppMetricsOptions {
  /** Queried for the active users of the top accounts when scraped. */
  readonly store: Store;
  readonly clock: () => number;
  /** Accounts shown in `activenow_active_users`; 0 leaves the metric out. */
  readonly topAccounts: number;
  /** Open `/1/now/stream` streams on this server. */
  readonly openStreams: () => number;
}

/**
 * The metrics of one app, in a registry of its own (several apps may share a process in tests).
 * Labels are bounded: routes are route patterns, never URLs; accounts appear only in the top-N gauge.
 * What the hot path touches per event is a plain number; prom-client sees the totals when scraped.
 */
export class AppMetrics {
  readonly registry = new Registry();
  private readonly requests: RequestTallies;
  private readonly storeLatency: Record<StoreOperation, Histogram.Internal<'operation'>>;
  private uploadAccepted = 0;
  private readonly uploadRejected = new Map<number, number>();
  private hitsAccepted = 0;
  private fastLaneRequests = 0;
  private readonly hitsRejected = new Map<number, number>();
  /** Account → the latest time (epoch seconds) it recorded activity through this app. */
  private readonly recentAccounts = new Map<string, number>();

  constructor(private readonly options: AppMetricsOptions) {
    const registers = [this.registry];
    this.requests = new RequestTallies(this.registry, REQUEST_BUCKETS);
    const storeLatency = new Histogram({
      name: 'activenow_store_operation_duration_seconds',
      help: 'Time the store took to record a batch (until durable) or answer a query',
      labelNames: ['operation'],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.storeLatency = { record: storeLatency.labels('record'), now: storeLatency.labels('now') };
    const accepted = new Counter({
      name: 'activenow_records_accepted_total',
      help: 'Records accepted: /1/upload records processed (dry runs aside), /1/collect hits answered 202',
      labelNames: ['route'],
      registers,
      collect: () => {
        accepted.reset();
        accepted.inc({ route: UPLOAD_ROUTE }, this.uploadAccepted);
        accepted.inc({ route: COLLECT_ROUTE }, this.hitsAccepted);
      },
    });
    const rejected = new Counter({
      name: 'activenow_records_rejected_total',
      help: 'Records refused: by record code on /1/upload, by HTTP status of the refused hit on /1/collect',
      labelNames: ['route', 'code'],
      registers,
      collect: () => {
        rejected.reset();
        for (const [code, n] of this.uploadRejected) rejected.inc({ route: UPLOAD_ROUTE, code }, n);
        for (const [code, n] of this.hitsRejected) rejected.inc({ route: COLLECT_ROUTE, code }, n);
      },
    });
    const fastLane = new Counter({
      name: 'activenow_http_fast_lane_requests_total',
      help: 'POST /1/now.json requests served by the fast lane; the others (chunked bodies, HTTP/1.0, …) by the framework',
      registers,
      collect: () => {
        fastLane.reset();
        fastLane.inc(this.fastLaneRequests);
      },
    });
    const streams: Gauge = new Gauge({
      name: 'activenow_now_streams_open',
      help: 'Open /1/now/stream streams on this server',
      registers,
      collect: () => {
        streams.set(options.openStreams());
      },
    });
    if (options.topAccounts > 0) {
      const active = new Gauge({
        name: 'activenow_active_users',
        help: `Distinct users active in the last ${DEFAULT_WINDOW_SECONDS} s, for the accounts with the most (at most ${options.topAccounts}, among those that recorded activity on this server lately)`,
        labelNames: ['account'],
        registers,
        collect: async () => {
          const top = await this.topAccounts();
          active.reset();
          for (const [account, count] of top) active.set({ account }, count);
        },
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts every request Fastify answers; registered once per app. */
  observeRequests(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      this.countRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  /** Where requests of `method` and `route` are counted: the fast lane keeps its own. */
  requestTally(method: string, route: string): RouteTally {
    return this.requests.of(method, route);
  }

  /** One answered request: its route pattern, status, and seconds from its arrival to its end. */
  countRequest(method: string, route: string, status: number, seconds: number): void {
    countIn(this.requests.of(method, route), status, seconds);
    if (route === COLLECT_ROUTE && method === 'POST') {
      if (status === 202) this.hitsAccepted++;
      else if (status >= 400) increment(this.hitsRejected, status);
    }
  }

  /** A request the fast lane answered (also counted by countRequest). */
  countFastLaneRequest(): void {
    this.fastLaneRequests++;
  }

  /** What parseRecords made of one stored upload. */
  countUpload(processed: number, unprocessed: readonly RecordFailure[]): void {
    this.uploadAccepted += processed;
    for (const failure of unprocessed) increment(this.uploadRejected, failure.code);
  }

  observeStore(operation: StoreOperation, seconds: number): void {
    this.storeLatency[operation].observe(seconds);
  }

  /** Remembers that `account` recorded activity at `at`: a candidate for the active-users gauge. */
  noteRecording(account: string, at: number): void {
    this.recentAccounts.set(account, at);
  }

  /** The exposition text: this app's metrics, then the process's. */
  async text(): Promise<string> {
    return (await this.registry.metrics()) + (await processMetricsText());
  }

  /** The accounts with the most active users, most first, among those that recorded lately. */
  private async topAccounts(): Promise<[string, number][]> {
    const at = this.options.clock();
    for (const [account, seenAt] of this.recentAccounts) {
      if (seenAt <= at - RECENT_SECONDS) this.recentAccounts.delete(account);
    }
    let candidates = [...this.recentAccounts];
    if (candidates.length > MAX_QUERIED_ACCOUNTS) {
      candidates = candidates.sort((a, b) => b[1] - a[1]).slice(0, MAX_QUERIED_ACCOUNTS);
    }
    const counted = await Promise.all(
      candidates.map(([account]) =>
        this.options.store.now(account, COUNT_QUERY, at).then(
          (result): [string, number] => [account, result.count],
          // Storage trouble: leave the account out of this scrape rather than fail it.
          () => undefined,
        ),
      ),
    );
    return counted
      .filter((entry): entry is [string, number] => entry !== undefined && entry[1] > 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, this.options.topAccounts);
  }
}

/** Counts an answered request in its route's tally; a stream's 200 lasts as long as the stream: no latency. */
export function countIn(tally: RouteTally, status: number, seconds: number): void {
  tally.answered(status);
  if (tally.route !== STREAM_ROUTE || status !== 200) tally.took(seconds);
}

function increment(counts: Map<number, number>, key: number): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
