import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/simulate/seeded-random.js';
import { type Credentials, createAccount, type ServerProcess } from '../../support/cli-process.js';
import { type Answer, postJson } from '../../support/json-requests.js';
import { cliScope } from '../support/cli-scope.js';

/**
 * An acknowledged upload survives `kill -9` of the server (docs/operations.md, "Data directory and
 * durability"), and nothing is half-applied (docs/semantics.md §13). A real server process takes
 * uploads from several concurrent clients and is killed with SIGKILL at a random moment, many times
 * over the same data directory. After each restart:
 *
 * - every request that got a 200 is counted in full;
 * - every request that got no answer is counted in full or not at all, never in part;
 * - nothing else is counted, every user is new, and what earlier cycles settled never changes.
 *
 * Each request k of a cycle carries N users seen nowhere else, all with browser `b<k>`, so the
 * browser split of `/1/now.json` tells, request by request, what the server kept. Each cycle has an
 * account of its own (made with `activenow accounts create`, alternately while the server is up and
 * while it is down), so fewer than 256 browser values (the value cap) are ever sent to one account.
 *
 * ACTIVENOW_CRASH_CYCLES (default 5) sets the number of kills; ACTIVENOW_CRASH_SEED replays a run.
 */

const CYCLES = Number(process.env.ACTIVENOW_CRASH_CYCLES ?? 5);
const SEED = Number(process.env.ACTIVENOW_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Concurrent upload loops, each over one keep-alive connection. */
const CLIENTS = 4;
/** Requests per cycle at most: each is a distinct browser value, and an account keeps 256 before Other. */
const MAX_REQUESTS = 240;
/** Results are re-checked while well inside the default 300-second window of now.json. */
const RECHECK_WITHIN_MS = 240_000;

interface Cycle {
  readonly index: number;
  readonly account: Credentials;
  /** Users per request. */
  readonly users: number;
  readonly acknowledged: Set<number>;
  /** Sent, and then the connection failed: no answer. */
  readonly unanswered: Set<number>;
  /** Answered with something other than 200 (none is expected). */
  readonly refused: { k: number; status: number; text: string }[];
  readonly loadStartedAt: number;
  /** The now.json body settled after the first restart; later restarts must give it again. */
  settled?: unknown;
}

const { processes, dir } = cliScope('crash');

function serve(dataDir: string): Promise<ServerProcess> {
  return processes.serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
}

function uploadBody(cycle: number, k: number, users: number): unknown {
  return {
    d: Array.from({ length: users }, (_, i) => ({
      identity: `crash-${SEED}-c${cycle}-r${k}-u${i}`,
      type: 'event',
      evtName: 'Crash Test',
      session: { browser: `b${k}` },
    })),
  };
}

/**
 * Runs CLIENTS upload loops against the server and SIGKILLs it after `killAfterMs` (or as soon as
 * MAX_REQUESTS were sent). Each loop stops at its first failed connection.
 */
async function loadAndKill(server: ServerProcess, cycle: Cycle, killAfterMs: number): Promise<void> {
  let next = 0;
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    server.child.kill('SIGKILL');
  };
  const timer = setTimeout(kill, killAfterMs);
  const loop = async () => {
    while (!killed) {
      const k = next++;
      if (k >= MAX_REQUESTS) {
        kill();
        return;
      }
      let answer: Answer;
      try {
        answer = await postJson(
          `${server.url}/1/upload`,
          cycle.account,
          uploadBody(cycle.index, k, cycle.users),
        );
      } catch {
        // Connection reset, or refused once the server is gone: no answer.
        cycle.unanswered.add(k);
        return;
      }
      if (answer.status !== 200) {
        cycle.refused.push({ k, status: answer.status, text: answer.text });
        continue;
      }
      expect(answer.body, answer.text).toEqual({
        status: 'success',
        processed: cycle.users,
        unprocessed: [],
      });
      cycle.acknowledged.add(k);
    }
  };
  try {
    await Promise.all(Array.from({ length: CLIENTS }, loop));
  } finally {
    clearTimeout(timer);
    kill();
  }
  const exit = await server.exited;
  // It died of the kill, not of anything before it.
  expect(exit.signal, server.stderr()).toBe('SIGKILL');
}

async function now(server: ServerProcess, account: Credentials) {
  const answer = await postJson(`${server.url}/1/now.json`, account, { browser: true, user_type: true });
  expect(answer.status, answer.text).toBe(200);
  return answer.body as {
    status: string;
    count: number;
    browser: Record<string, number>;
    user_type: { new: number; returning: number };
    new: { browser: Record<string, number> };
  };
}

/** Checks what the server kept of a cycle's requests; returns the body to compare later restarts with. */
async function verify(server: ServerProcess, cycle: Cycle): Promise<unknown> {
  const body = await now(server, cycle.account);
  const context = `seed ${SEED}, cycle ${cycle.index}, ${cycle.users} users per request, acknowledged ${[
    ...cycle.acknowledged,
  ].sort(
    (a, b) => a - b,
  )}, unanswered ${[...cycle.unanswered].sort((a, b) => a - b)}: ${JSON.stringify(body)}`;
  expect(body.status, context).toBe('success');
  for (const k of cycle.acknowledged)
    expect(body.browser[`b${k}`], `b${k} (acknowledged), ${context}`).toBe(cycle.users);
  for (const k of cycle.unanswered) {
    expect([undefined, cycle.users], `b${k} (unanswered), ${context}`).toContain(body.browser[`b${k}`]);
  }
  const sent = new Set([...cycle.acknowledged, ...cycle.unanswered].map((k) => `b${k}`));
  for (const value of Object.keys(body.browser))
    expect(sent, `${value} was never sent, ${context}`).toContain(value);
  const sum = Object.values(body.browser).reduce((a, b) => a + b, 0);
  expect(body.count, context).toBe(sum);
  expect(body.user_type, context).toEqual({ new: body.count, returning: 0 });
  expect(body.new.browser, context).toEqual(body.browser);
  return body;
}

describe('kill -9 under concurrent uploads', () => {
  it(`keeps every acknowledged batch and never half a batch, over ${CYCLES} kills`, {
    timeout: 60_000 + CYCLES * 10_000,
  }, async () => {
    console.log(
      `crash-recovery: seed ${SEED}, ${CYCLES} cycles (replay with ACTIVENOW_CRASH_SEED=${SEED} ACTIVENOW_CRASH_CYCLES=${CYCLES})`,
    );
    const random = seededRandom(SEED);
    const dataDir = join(dir(), 'data');
    let server = await serve(dataDir);
    const first = server.created;
    expect(first, server.stdout()).toBeDefined();
    if (first === undefined) return;
    const cycles: Cycle[] = [];
    let madeWhileDown: Credentials | undefined;
    let totals = { acknowledged: 0, unanswered: 0, kept: 0 };

    for (let index = 0; index < CYCLES; index++) {
      const account = madeWhileDown ?? (await createAccount(processes, dataDir, `crash-${index}`));
      madeWhileDown = undefined;
      const cycle: Cycle = {
        index,
        account,
        users: 10 + Math.floor(random() * 71),
        acknowledged: new Set(),
        unanswered: new Set(),
        refused: [],
        loadStartedAt: Date.now(),
      };
      cycles.push(cycle);
      await loadAndKill(server, cycle, 5 + Math.floor(random() * 300));
      expect(cycle.refused, `seed ${SEED}, cycle ${index}`).toEqual([]);

      // Every other account is made while no server runs.
      if (index % 2 === 0 && index + 1 < CYCLES)
        madeWhileDown = await createAccount(processes, dataDir, `crash-${index + 1}`);
      server = await serve(dataDir);
      expect(server.created, 'a restart makes no new account').toBeUndefined();

      cycle.settled = await verify(server, cycle);
      const kept = (cycle.settled as { count: number }).count / cycle.users;
      totals = {
        acknowledged: totals.acknowledged + cycle.acknowledged.size,
        unanswered: totals.unanswered + cycle.unanswered.size,
        kept: totals.kept + kept,
      };
      // What earlier kills left must not change with later ones; earlier accounts still work.
      for (const earlier of cycles.slice(0, -1)) {
        if (Date.now() - earlier.loadStartedAt < RECHECK_WITHIN_MS) {
          expect(
            await now(server, earlier.account),
            `seed ${SEED}, cycle ${earlier.index} after kill ${index}`,
          ).toEqual(earlier.settled);
        } else {
          await now(server, earlier.account);
        }
      }
      expect((await postJson(`${server.url}/1/now.json`, first, {})).status).toBe(200);
    }

    console.log(
      `crash-recovery: ${totals.acknowledged} requests acknowledged, ${totals.unanswered} unanswered, ${totals.kept} kept`,
    );
    // The kills did land during load: some requests were acknowledged before them.
    expect(totals.acknowledged).toBeGreaterThan(0);

    const list = await processes.run(['accounts', 'list', '--json', '--data-dir', dataDir]);
    expect(list.code, list.stderr).toBe(0);
    const ids = (JSON.parse(list.stdout) as { id: string }[]).map((a) => a.id);
    expect(ids.sort()).toEqual([first.id, ...cycles.map((c) => c.account.id)].sort());
  });
});
