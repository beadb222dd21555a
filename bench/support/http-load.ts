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
}

export interface LoadFigures {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
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
  let connection = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    method: 'POST',
    headers: { ...options.headers },
    requests,
    setupClient: options.partition
      ? (client) => {
          const k = connection++;
          client.setRequests(requests.filter((_, i) => i % options.connections === k));
        }
      : undefined,
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const client = process.cpuUsage(clientBefore);
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    serverCpu: (cpuSeconds(options.serverPid) - serverBefore) / wallSeconds,
    clientCpu: (client.user + client.system) / 1e6 / wallSeconds,
    wallSeconds,
  };
}
