import { setTimeout as sleep } from 'node:timers/promises';
import { TrafficModel, type TrafficShape } from './traffic-model.js';
import { type UploadTarget, uploadBatch } from './upload-batch.js';

/**
 * Plays a traffic model in real time against a server: every `batchIntervalMs` it takes the events
 * that have become due and sends them through `POST /1/upload`, `maxBatchRecords` at a time, one
 * request after the other (so it never holds more than one of the account's in-flight slots).
 */

export interface SimulatorOptions extends TrafficShape, UploadTarget {
  /** How often due events are sent (default 250 ms). */
  readonly batchIntervalMs?: number;
  /** Most records per upload (default 500; the API takes at most 1000). */
  readonly maxBatchRecords?: number;
  /** Most events waiting while the server is slow; older ones beyond are dropped as errors. */
  readonly maxBacklog?: number;
}

export interface SimulatorStats {
  /** Events the server accepted. */
  readonly sent: number;
  /** Events not accepted: refused records, failed requests, events dropped from the backlog. */
  readonly errors: number;
  /** Events accepted per second over the last few seconds. */
  readonly rate: number;
  readonly elapsedSeconds: number;
  /** The last problem seen, if any. */
  readonly lastError: string | undefined;
}

/** The server refused the credentials, or could not be reached for the first batch. */
export class SimulatorError extends Error {
  override name = 'SimulatorError';
}

const RATE_WINDOW_MS = 5_000;

export class Simulator {
  private readonly model: TrafficModel;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly maxBacklog: number;
  private readonly samples: { at: number; sent: number }[] = [];
  private startedAt = 0;
  private sent = 0;
  private errors = 0;
  private batches = 0;
  private lastError: string | undefined;

  constructor(private readonly options: SimulatorOptions) {
    this.model = new TrafficModel(options);
    this.intervalMs = options.batchIntervalMs ?? 250;
    this.maxBatch = Math.min(options.maxBatchRecords ?? 500, 1000);
    this.maxBacklog = options.maxBacklog ?? 100_000;
  }

  /**
   * Sends until `signal` aborts, then resolves. Rejects with a SimulatorError when the server
   * refuses the credentials (401), or when the first batch cannot reach it; later failures are
   * counted as errors and the simulation goes on.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.startedAt = performance.now();
    const backlog: ReturnType<TrafficModel['next']>[] = [];
    while (!signal.aborted) {
      const tickStart = performance.now();
      const due = this.model.takeUntil((tickStart - this.startedAt) / 1000);
      backlog.push(...due);
      if (backlog.length > this.maxBacklog)
        this.errors += backlog.splice(0, backlog.length - this.maxBacklog).length;
      while (backlog.length > 0 && !signal.aborted) {
        const batch = backlog.splice(0, this.maxBatch);
        let outcome: Awaited<ReturnType<typeof uploadBatch>>;
        try {
          outcome = await uploadBatch(this.options, batch, signal);
        } catch (error) {
          if (signal.aborted) break;
          throw error;
        }
        this.batches++;
        if (outcome.kind === 'refused') throw new SimulatorError(outcome.message);
        if (outcome.kind === 'failed') {
          if (this.batches === 1) throw new SimulatorError(outcome.message);
          this.errors += batch.length;
          this.lastError = outcome.message;
        } else {
          this.sent += outcome.processed;
          this.errors += outcome.unprocessed;
          if (outcome.unprocessed > 0) this.lastError = `${outcome.unprocessed} records refused`;
        }
      }
      this.sample();
      const wait = this.intervalMs - (performance.now() - tickStart);
      try {
        await sleep(Math.max(0, wait), undefined, { signal });
      } catch {
        // Aborted: the loop ends.
      }
    }
  }

  stats(): SimulatorStats {
    const now = performance.now();
    const oldest = this.samples.find((sample) => now - sample.at <= RATE_WINDOW_MS) ?? {
      at: this.startedAt,
      sent: 0,
    };
    const span = (now - oldest.at) / 1000;
    return {
      sent: this.sent,
      errors: this.errors,
      rate: span > 0 ? (this.sent - oldest.sent) / span : 0,
      elapsedSeconds: this.startedAt === 0 ? 0 : (now - this.startedAt) / 1000,
      lastError: this.lastError,
    };
  }

  private sample(): void {
    const now = performance.now();
    this.samples.push({ at: now, sent: this.sent });
    while (this.samples.length > 2 && now - this.samples[1].at > RATE_WINDOW_MS) this.samples.shift();
  }
}
