/**
 * One autocannon run against a server process, with what a reader needs to trust the figure: the
 * server's CPU time over the run (is it saturated?) and the load generator's own CPU use (is the
 * client the bottleneck?).
 */
import autocannon from 'autocannon';
import { cpuSeconds } from './process-stats.js';

export interface LoadRequest {
  readonly path: string;
  readonly body: Buffer | string;
}

export interface LoadOptions {
  readonly url: string;
  readonly serverPid: number;
  readonly connections: number;
  readonly seconds: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent in turn by every connection, or with `partition`, each connection its own share. */
  readonly requests: readonly LoadRequest[];
  /** Connection k sends requests k, k + connections, k + 2 × connections, …, so all are used. */
  readonly partition?: boolean;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  readonly rate?: number;
}

export interface LoadFigures {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly non2xx: number;
  readonly errors: number;
  /** The first few connection errors, for a reader to see what they were. */
  readonly errorSamples: readonly string[];
  readonly latencyMs: {
    readonly p50: number;
    readonly p99: number;
    readonly p99_9: number;
    readonly max: number;
  };
  /** Server CPU seconds per wall second over the run (1 = one core busy all the time). */
  readonly serverCpu: number;
  /** The same for this process, which runs autocannon. */
  readonly clientCpu: number;
  readonly wallSeconds: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadFigures> {
  const serverBefore = cpuSeconds(options.serverPid);
  const clientBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const requests = options.requests.map((request) => ({
    method: 'POST' as const,
    path: request.path,
    body: request.body,
  }));
  // autocannon encodes every request it is given when it starts, and again per connection: give it
  // each connection's share only, or large bodies keep the client busy before the first one is sent.
  const shareOf = (k: number) =>
    options.partition ? requests.filter((_, i) => i % options.connections === k) : requests;
  let connection = 0;
  const errorSamples: string[] = [];
  let instance: autocannon.Instance | undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        // Seconds without an answer before autocannon gives up on a request (its default is 10).
        timeout: 60,
        method: 'POST',
        headers: { ...options.headers },
        requests: shareOf(0),
        ...(options.rate === undefined ? {} : { overallRate: options.rate }),
        setupClient: options.partition
          ? (client) => {
              const k = connection++;
              if (k > 0) client.setRequests(shareOf(k));
            }
          : undefined,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  instance?.on('reqError', (error: Error) => {
    if (errorSamples.length < 5) errorSamples.push(String(error));
  });
  const result = await finished;
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const client = process.cpuUsage(clientBefore);
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    errorSamples,
    latencyMs: {
      p50: result.latency.p50,
      p99: result.latency.p99,
      p99_9: result.latency.p99_9,
      max: result.latency.max,
    },
    serverCpu: (cpuSeconds(options.serverPid) - serverBefore) / wallSeconds,
    clientCpu: (client.user + client.system) / 1e6 / wallSeconds,
    wallSeconds,
  };
}
