import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { freePort } from './free-port.js';

/**
 * Real `redis-server` processes for tests and benchmarks: single servers and clusters, each on free
 * loopback ports in its own temporary directory. Only servers started here are used, each recognised by its
 * pid (a system Redis may be on 6379). Every process is ended and every directory removed by
 * `stop()`; failing that, by the hooks below when this process exits or gets SIGTERM; failing
 * that (SIGKILL), the kernel still kills the servers (see `spawnServer`).
 */

const HOST = '127.0.0.1';
const SLOTS = 16_384;
/** How long a server gets to answer PING after it was started. */
const START_TIMEOUT_MS = 10_000;
/** How long a SIGTERMed server gets to exit before it is sent SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** How long a cluster gets to agree with itself after a change (creation, failover, migration). */
const SETTLE_TIMEOUT_MS = 30_000;
/** Ports tried before giving up when another process takes the one just found free. */
const PORT_ATTEMPTS = 5;
/** Keys moved per MIGRATE while a slot moves. */
const BATCH = '100';

const CLUSTER_ARGS = [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-node-timeout',
  '2000',
  // Replicas would otherwise wait 5 s for company before their first sync.
  '--repl-diskless-sync-delay',
  '0',
];

const REDIS_SERVER = findExecutable('redis-server');
const REDIS_CLI = findExecutable('redis-cli');
const SETPRIV = findExecutable('setpriv');

/** Server processes still running: SIGKILLed when this process exits. */
const runningChildren = new Set<ChildProcess>();
/** Temporary directories not removed yet: removed when this process exits. */
const directories = new Set<string>();

/** For tests that did not stop what they started: synchronous, as exit hooks must be. */
function cleanUpNow(): void {
  for (const child of runningChildren) child.kill('SIGKILL');
  for (const dir of directories) {
    try {
      // Retries: a server just killed may still be writing there for a moment.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      // Best effort: a temporary directory left behind must not turn the run's result into a failure.
    }
  }
}

process.once('exit', cleanUpNow);
// vitest ends its workers with SIGTERM (as `kill` ends a bench), which skips 'exit' hooks: clean up,
// then die of it as before.
process.once('SIGTERM', () => {
  cleanUpNow();
  if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
});

function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/** The Redis executables this module needs that are not on PATH (none when it can run). */
export function missingRedisBinaries(): string[] {
  return [
    ...(REDIS_SERVER === undefined ? ['redis-server'] : []),
    ...(REDIS_CLI === undefined ? ['redis-cli'] : []),
  ];
}

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisServer extends RedisAddress {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  /** Its working directory (RDB, AOF, nodes.conf), kept across kill() and restart(). */
  readonly dir: string;
  isRunning(): boolean;
  /** Everything it printed (its log), across restarts. */
  log(): string;
  /** SIGTERM (SIGKILL if it lingers), then removes its directory. Also fine once killed. */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests; keeps its directory. */
  kill(): Promise<void>;
  /** Ends it gracefully if running, then starts it again on the same port and directory. */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** Turns the append-only file on, so that a restart brings back what was written. Default off. */
  readonly appendonly?: boolean;
  /** More redis-server arguments, after the defaults (so they win). */
  readonly args?: readonly string[];
}

/** One redis-server on a free loopback port, answering PING when this resolves. */
export function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  return startOnFreePort(freePort, [
    '--appendonly',
    options.appendonly === true ? 'yes' : 'no',
    ...(options.args ?? []),
  ]);
}

/**
 * Starts a server on the port `pickPort` finds, with a fresh directory, and tries another port when
 * someone else took that one in between.
 */
async function startOnFreePort(
  pickPort: () => Promise<number>,
  args: readonly string[],
): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const server = serverHandle(await pickPort(), await mkdtemp(join(tmpdir(), 'activenow-redis-')), args);
    try {
      await server.restart();
      return server;
    } catch (error) {
      await server.stop();
      if (attempt < PORT_ATTEMPTS && server.log().includes('Address already in use')) continue;
      throw error;
    }
  }
}

function serverHandle(port: number, dir: string, extraArgs: readonly string[]): RedisServer {
  directories.add(dir);
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    '--save',
    '',
    ...extraArgs,
  ];
  let child: ChildProcess | undefined;
  let exited = Promise.resolve();
  let output = '';

  async function end(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (child === undefined) return;
    const ending = child;
    const timer = setTimeout(() => ending.kill('SIGKILL'), STOP_TIMEOUT_MS);
    ending.kill(signal);
    await exited;
    clearTimeout(timer);
  }

  const server: RedisServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    isRunning: () => child !== undefined,
    log: () => output,
    async stop() {
      await end('SIGTERM');
      await rm(dir, { recursive: true, force: true });
      directories.delete(dir);
    },
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      const started = spawnServer(args, dir);
      child = started;
      runningChildren.add(started);
      const outputRead = new Promise((resolve) => started.once('close', resolve));
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8');
      };
      started.stdout?.on('data', collect);
      started.stderr?.on('data', collect);
      exited = new Promise((resolve) => {
        const gone = () => {
          runningChildren.delete(started);
          if (child === started) child = undefined;
          resolve();
        };
        // 'exit' rather than 'close': a forked child (an RDB for a replica) may hold the pipes open.
        started.once('exit', gone);
        started.once('error', (error) => {
          output += `\n${error.message}\n`;
          gone();
        });
      });
      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        if (child !== started) {
          // The log says why (e.g. `Address already in use`, which the caller looks for): read it all.
          await Promise.race([outputRead, sleep(1_000)]);
          throw new Error(`redis-server on port ${port} exited at start:\n${output}`);
        }
        if (await answersPing(server, started.pid)) return;
        if (Date.now() > deadline) {
          await end('SIGKILL');
          throw new Error(
            `redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${output}`,
          );
        }
        await sleep(50);
      }
    },
  };
  return server;
}

function spawnServer(args: readonly string[], dir: string): ChildProcess {
  if (REDIS_SERVER === undefined) throw new Error('redis-server not found on PATH');
  // `setpriv --pdeathsig KILL` has the kernel kill the server should this process die without
  // running its exit hook (a vitest worker killed on a timeout); it execs, so the pid is the server's.
  const [command, argv] =
    SETPRIV === undefined
      ? [REDIS_SERVER, args]
      : [SETPRIV, ['--pdeathsig', 'KILL', '--', REDIS_SERVER, ...args]];
  return spawn(command, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** True when the server on `address` answers PING and is the process `pid`, not some stranger. */
async function answersPing(address: RedisAddress, pid: number | undefined): Promise<boolean> {
  try {
    return await withConnection(address, async (send) => {
      if ((await send('PING')) !== 'PONG') return false;
      return field(String(await send('INFO', 'server')), 'process_id') === String(pid);
    });
  } catch {
    return false;
  }
}

type Send = (...args: string[]) => Promise<unknown>;

/** Runs `use` over one fresh connection (no reconnects: a failure is the caller's answer). */
async function withConnection<T>(address: RedisAddress, use: (send: Send) => Promise<T>): Promise<T> {
  const client = createClient({
    socket: { host: address.host, port: address.port, reconnectStrategy: false, connectTimeout: 2_000 },
  });
  // Failures reach the caller through the rejected promise; without a listener they would crash.
  client.on('error', () => {});
  await client.connect();
  try {
    return await use((...args) => client.sendCommand(args));
  } finally {
    client.destroy();
  }
}

/** One command over a fresh connection to a server this module started. */
export function redisCommand(server: RedisAddress, ...args: string[]): Promise<unknown> {
  return withConnection(server, (send) => send(...args));
}

/** A `name:value` line of INFO or CLUSTER INFO. */
function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*?)\\r?$`, 'm').exec(info)?.[1];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

/**
 * A free port P whose cluster bus port P + 10000 is free too, clashing with no port in `taken` nor
 * their bus ports. Drawn from 20000..49999 so that P + 10000 is still a port, which a port the
 * kernel picks (up to 60999) need not be.
 */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const clashes = [port, port + 10_000, port - 10_000].some((p) => taken.has(p));
    if (clashes || !(await canListen(port)) || !(await canListen(port + 10_000))) continue;
    taken.add(port);
    return port;
  }
}

export interface RedisClusterNode extends RedisServer {
  /** Its cluster node id (kept in nodes.conf, so across restarts). */
  readonly id: string;
}

export interface RedisClusterOptions {
  /** At least 3 (redis-cli's minimum). Default 3. */
  readonly masters?: number;
  /** Default 0. */
  readonly replicasPerMaster?: number;
}

export interface RedisCluster {
  /** Every node, masters and replicas alike; roles change on failover, so ask `masters()`. */
  readonly nodes: readonly RedisClusterNode[];
  /** redis-cluster://127.0.0.1:P1,127.0.0.1:P2,… listing every node as a seed. */
  readonly storeUrl: string;
  /** The running nodes that are masters now, in `nodes` order. */
  masters(): Promise<RedisClusterNode[]>;
  /** The running nodes that replicate `master` now, in `nodes` order. */
  replicasOf(master: RedisAddress): Promise<RedisClusterNode[]>;
  /** The hash slot of a key, as the cluster computes it. */
  keySlot(key: string): Promise<number>;
  /** The master serving `slot` now. */
  slotOwner(slot: number): Promise<RedisClusterNode>;
  /**
   * Resolves once every running node says cluster_state:ok with all slots assigned, no running node
   * is flagged as failing, all agree on which master serves which slot (all running) and every
   * replica's link to its master is up. Throws saying what is still wrong after 30 s.
   */
  waitUntilHealthy(): Promise<void>;
  /** CLUSTER FAILOVER on a replica: resolves once it is a master and the cluster is healthy. */
  failover(replica: RedisClusterNode): Promise<void>;
  /** Moves one slot and its keys between masters, as redis-cli --cluster reshard does. */
  migrateSlot(slot: number, from: RedisClusterNode, to: RedisClusterNode): Promise<void>;
  /** Kills every node (the data is throwaway) and removes their directories. */
  stop(): Promise<void>;
}

/** A cluster created by `redis-cli --cluster create`, healthy when this resolves. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const taken = new Set<number>();
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < masterCount * (1 + replicasPerMaster); i++) {
      servers.push(await startOnFreePort(() => clusterPort(taken), CLUSTER_ARGS));
    }
    await redisCli([
      '--cluster',
      'create',
      ...servers.map((server) => `${server.host}:${server.port}`),
      '--cluster-replicas',
      String(replicasPerMaster),
      '--cluster-yes',
    ]);
    const nodes = await Promise.all(
      servers.map(async (server) => ({
        ...server,
        id: String(await redisCommand(server, 'CLUSTER', 'MYID')),
      })),
    );
    const cluster = clusterHandle(nodes);
    await cluster.waitUntilHealthy();
    return cluster;
  } catch (error) {
    await Promise.all(servers.map((server) => killAndRemove(server)));
    throw error;
  }
}

async function killAndRemove(server: RedisServer): Promise<void> {
  await server.kill();
  await server.stop();
}

function redisCli(args: readonly string[]): Promise<void> {
  if (REDIS_CLI === undefined) throw new Error('redis-cli not found on PATH');
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, args, { timeout: SETTLE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
    });
  });
}

function clusterHandle(nodes: readonly RedisClusterNode[]): RedisCluster {
  const running = () => nodes.filter((node) => node.isRunning());
  /** The running nodes whose ROLE reply passes `keep`. */
  const whose = async (keep: (role: Role) => boolean) => {
    const roles = await Promise.all(running().map(async (node) => [node, await roleOf(node)] as const));
    return roles.filter(([, role]) => keep(role)).map(([node]) => node);
  };

  const cluster: RedisCluster = {
    nodes,
    storeUrl: `redis-cluster://${nodes.map((node) => `${node.host}:${node.port}`).join(',')}`,
    masters: () => whose(([role]) => role === 'master'),
    replicasOf: (master) => whose(([role, , port]) => role === 'slave' && port === master.port),
    async keySlot(key) {
      return Number(await redisCommand(running()[0], 'CLUSTER', 'KEYSLOT', key));
    },
    async slotOwner(slot) {
      const ranges = (await redisCommand(running()[0], 'CLUSTER', 'SLOTS')) as [number, number, unknown[]][];
      const range = ranges.find(([first, last]) => first <= slot && slot <= last);
      const owner = nodes.find((node) => node.id === range?.[2][2]);
      if (owner === undefined) throw new Error(`no known master serves slot ${slot}`);
      return owner;
    },
    waitUntilHealthy: () => until(() => clusterProblem(running()), 'cluster not healthy'),
    async failover(replica) {
      await redisCommand(replica, 'CLUSTER', 'FAILOVER');
      await until(
        async () => ((await roleOf(replica))[0] === 'master' ? undefined : 'still a replica'),
        `failover to ${replica.port}`,
      );
      await cluster.waitUntilHealthy();
    },
    async migrateSlot(slot, from, to) {
      const s = String(slot);
      await redisCommand(to, 'CLUSTER', 'SETSLOT', s, 'IMPORTING', from.id);
      await redisCommand(from, 'CLUSTER', 'SETSLOT', s, 'MIGRATING', to.id);
      for (;;) {
        const keys = (await redisCommand(from, 'CLUSTER', 'GETKEYSINSLOT', s, BATCH)) as string[];
        if (keys.length === 0) break;
        // MIGRATE host port "" db timeout-ms KEYS key…: moves the batch atomically.
        await redisCommand(from, 'MIGRATE', to.host, String(to.port), '', '0', '10000', 'KEYS', ...keys);
      }
      // The target first, so that the slot always has an owner that knows it owns it.
      const others = (await cluster.masters()).filter((node) => node.id !== to.id && node.id !== from.id);
      for (const node of [to, from, ...others]) {
        await redisCommand(node, 'CLUSTER', 'SETSLOT', s, 'NODE', to.id);
      }
      await cluster.waitUntilHealthy();
    },
    async stop() {
      await Promise.all(nodes.map((node) => killAndRemove(node)));
    },
  };
  return cluster;
}

/** A ROLE reply: ['master', …] or ['slave', master host, master port, link state, …]. */
type Role = [string, string?, number?, string?];

async function roleOf(node: RedisAddress): Promise<Role> {
  return (await redisCommand(node, 'ROLE')) as Role;
}

/** Polls `problem` until it finds none; throws with the last one found after the timeout. */
async function until(problem: () => Promise<string | undefined>, what: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    let found: string | undefined;
    try {
      found = await problem();
    } catch (error) {
      found = String(error);
    }
    if (found === undefined) return;
    if (Date.now() > deadline) throw new Error(`${what} after ${SETTLE_TIMEOUT_MS} ms: ${found}`);
    await sleep(100);
  }
}

/** What keeps the running nodes from being a healthy cluster, or undefined when nothing does. */
async function clusterProblem(running: readonly RedisClusterNode[]): Promise<string | undefined> {
  const runningIds = new Set(running.map((node) => node.id));
  let agreed: string | undefined;
  for (const node of running) {
    const problem = await withConnection(node, async (send) => {
      const info = String(await send('CLUSTER', 'INFO'));
      if (field(info, 'cluster_state') !== 'ok') return 'cluster_state is not ok';
      if (field(info, 'cluster_slots_assigned') !== String(SLOTS)) return 'not every slot is assigned';
      // <id> <ip:port@bus> <flags> <master> <ping-sent> <pong-recv> <epoch> <link-state> <slot>...
      const lines = String(await send('CLUSTER', 'NODES'))
        .trim()
        .split('\n')
        .map((line) => line.trim().split(' '));
      const seen = lines.filter(([id]) => runningIds.has(id));
      if (seen.length !== running.length) return 'does not know every running node yet';
      const failing = seen.find(
        ([, , flags, , , , , link]) => flags.includes('fail') || link !== 'connected',
      );
      if (failing !== undefined) return `sees ${failing[1]} as ${failing[2]} / ${failing[7]}`;
      const owners = lines.filter((line) => line.length > 8);
      const gone = owners.find(([id]) => !runningIds.has(id));
      if (gone !== undefined) return `still has ${gone[1]}, which is not running, serving slots`;
      const map = owners
        .map(([id, , , , , , , , ...slots]) => `${id}:${slots.join(',')}`)
        .sort()
        .join(' ');
      if (agreed !== undefined && map !== agreed) return 'disagrees with the others on who serves which slot';
      agreed = map;
      const [role, , , link] = (await send('ROLE')) as Role;
      if (role === 'slave' && link !== 'connected') return `replication link is ${link}`;
      return undefined;
    });
    if (problem !== undefined) return `${node.host}:${node.port} ${problem}`;
  }
  return undefined;
}
