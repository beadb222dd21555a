import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, createCluster, ErrorReply } from 'redis';
import { StoreUnavailableError } from '../../store/store.js';
import type { LuaScript } from './lua-script.js';

export type RedisTarget =
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'redis-cluster'; readonly nodes: readonly { host: string; port: number }[] };

export interface RedisConnectionOptions {
  /** A command not answered within this time fails (503) instead of holding its request. */
  readonly commandTimeoutMs?: number;
  /** Told of connection problems; node-redis would otherwise crash the process on them. */
  readonly onError?: (error: Error) => void;
}

/** Replies that say "not now" (cluster resharding or failing over, a loading or busy server). */
const TRANSIENT_REPLY = /^(TRYAGAIN|CLUSTERDOWN|LOADING|MASTERDOWN|READONLY|BUSY|NOREPLICAS)\b/;
/** Attempts of a command answered with a transient reply, and the pause before the first retry. */
const TRANSIENT_ATTEMPTS = 5;
const TRANSIENT_BACKOFF_MS = 20;
const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 1000;
/** While a command has gone unanswered, how often the connection asks Redis whether it answers again. */
const STALL_PROBE_INTERVAL_MS = 1000;

interface Transport {
  send(key: string, args: readonly string[], timeout: number): Promise<unknown>;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

/**
 * One Redis server or one Redis Cluster, as the rest of the Redis backend sees it: commands routed
 * by key, scripts by SHA, and every failure to reach Redis turned into StoreUnavailableError.
 * Commands are never queued while disconnected: they fail at once, so requests answer 503 fast.
 */
export class RedisConnection {
  private readonly transport: Transport;
  /**
   * The key of a command that got no reply in time, until Redis answers again. The socket of a
   * stalled server (frozen, overloaded, a silent network) stays open, so only this tells.
   */
  private stalledKey: string | undefined;
  private closed = false;
  private readonly timeout: number;
  /** Where the connection goes, for messages. */
  readonly address: string;

  constructor(target: RedisTarget, options: RedisConnectionOptions = {}) {
    this.timeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.address =
      target.kind === 'redis'
        ? target.url
        : `redis-cluster://${target.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
    const onError = options.onError ?? (() => {});
    this.transport =
      target.kind === 'redis' ? singleNode(target.url, onError) : cluster(target.nodes, onError);
  }

  /** Connected, and not waiting on a server that has stopped answering. */
  get isReady(): boolean {
    return this.transport.isReady && this.stalledKey === undefined;
  }

  /**
   * Resolves once connected, retrying meanwhile; until then (and while reconnecting) commands fail
   * with 503. With `withinMs`, gives up after that long (for one-shot commands such as the CLI's).
   */
  async connect(withinMs?: number): Promise<void> {
    const connecting = this.transport.connect();
    if (withinMs === undefined) {
      await connecting;
      return;
    }
    connecting.catch(() => {});
    const gaveUp = sleep(withinMs, 'timeout', { ref: false });
    if ((await Promise.race([connecting, gaveUp])) === 'timeout') {
      await this.close();
      throw new StoreUnavailableError(`cannot reach Redis at ${this.address} within ${withinMs} ms`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close().catch(() => {});
  }

  /** Runs `args` on the node that holds `key`. */
  async send(key: string, args: readonly string[]): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        const reply = await answeredWithin(this.transport.send(key, args, this.timeout), this.timeout);
        this.stalledKey = undefined;
        return reply;
      } catch (error) {
        if (error instanceof NoReplyError) this.stalled(key);
        if (!isTransient(error) || attempt === TRANSIENT_ATTEMPTS) throw unavailableOr(error);
        await sleep(TRANSIENT_BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
  }

  /** Marks the connection stalled and, once, starts asking the stalled node until it answers. */
  private stalled(key: string): void {
    const probing = this.stalledKey !== undefined;
    this.stalledKey = key;
    if (probing) return;
    void (async () => {
      while (this.stalledKey !== undefined && !this.closed) {
        await sleep(STALL_PROBE_INTERVAL_MS, undefined, { ref: false });
        const probe = this.stalledKey;
        if (probe === undefined || this.closed) return;
        try {
          await answeredWithin(this.transport.send(probe, ['PING'], this.timeout), this.timeout);
          this.stalledKey = undefined;
        } catch {
          // Still stalled (or disconnected, which isReady reports anyway): ask again.
        }
      }
    })();
  }

  /** Runs `script` by SHA; a server that does not hold it (restarted, failed over) gets its source. */
  async runScript(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.send(keys[0], ['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof ErrorReply && error.message.startsWith('NOSCRIPT'))) throw error;
      return await this.send(keys[0], ['EVAL', script.source, ...tail]);
    }
  }
}

/**
 * `command`, or a rejection once `ms` have passed without its reply. node-redis's own `timeout`
 * only covers a command waiting to be written: once on the socket it waits for its reply for as
 * long as the connection stays open (a stalled server, a silent network), which would hold the
 * request forever. A reply arriving later is still read in order and dropped.
 */
function answeredWithin<T>(command: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoReplyError(ms)), ms);
  });
  return Promise.race([command, timedOut]).finally(() => clearTimeout(timer));
}

class NoReplyError extends Error {
  constructor(ms: number) {
    super(`no reply within ${ms} ms`);
    this.name = 'NoReplyError';
  }
}

function isTransient(error: unknown): boolean {
  return error instanceof ErrorReply && TRANSIENT_REPLY.test(error.message);
}

/** Replies from a reachable Redis stay as they are (a bug: 500); anything else is unavailability. */
function unavailableOr(error: unknown): unknown {
  if (error instanceof ErrorReply && !isTransient(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`Redis is unavailable: ${reason}`, { cause: error });
}

const socketOptions = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
};

function singleNode(url: string, onError: (error: Error) => void): Transport {
  const client = createClient({ url, disableOfflineQueue: true, socket: socketOptions });
  client.on('error', onError);
  return {
    send: (_key, args, timeout) => client.sendCommand([...args], { timeout }),
    get isReady() {
      return client.isReady;
    },
    connect: () => client.connect(),
    close: () => client.close(),
  };
}

function cluster(
  nodes: readonly { host: string; port: number }[],
  onError: (error: Error) => void,
): Transport {
  const client = createCluster({
    rootNodes: nodes.map((node) => ({ socket: { host: node.host, port: node.port } })),
    defaults: { disableOfflineQueue: true, socket: socketOptions },
  });
  client.on('error', onError);
  return {
    send: (key, args, timeout) => client.sendCommand(key, false, [...args], { timeout }),
    get isReady() {
      return client.isReady;
    },
    connect: () => client.connect(),
    close: () => client.close(),
  };
}
