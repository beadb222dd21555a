/**
 * activenow against what teams build first: the same five minutes of activity in an events table,
 * answered with `COUNT(DISTINCT user)` and `GROUP BY` per split, in SQLite (better-sqlite3, a file)
 * and in PostgreSQL (a throwaway server started here, when its binaries are installed); then the
 * same restricted to one country (now.json's `filter`), with an index made for it.
 *
 *   npm run bench:sql
 *
 * activenow's side is the engine answering the same question in process (the store's own cost,
 * without HTTP, like the SQL side's). Env: BENCH_SQL_USERS shrinks the run (results left alone).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ActiveUsersEngine } from '../src/engine/active-users-engine.js';
import { InMemoryFirstSeenRegistry } from '../src/engine/in-memory-first-seen-registry.js';
import { UNKNOWN } from '../src/model/dimensions.js';
import type { NowQuery, NowResult } from '../src/model/now-query.js';
import { CLEVERTAP_DIMENSIONS } from '../src/protocol/dimensions.js';
import { startPostgres } from '../support/postgres-server.js';
import { pinToOneCore } from './support/pin-to-core.js';
import { formatInt, markdownTable, publishResults } from './support/results.js';
import { Workload } from './support/workload.js';

const COMMAND = 'npm run bench:sql';
const FULL_USERS = 1_000_000;
const USERS = Number(process.env.BENCH_SQL_USERS ?? FULL_USERS);
const FULL_RUN = USERS === FULL_USERS;
const WINDOW = 300;
const SQL_RUNS = 3;
const ENGINE_QUERIES = 2000;
const FILTERED_ENGINE_QUERIES = 100;
/** The filter of the filtered comparison: the workload's largest country. */
const COUNTRY = 'US';
const QUERY: NowQuery = {
  window: WINDOW,
  userType: true,
  splits: [...CLEVERTAP_DIMENSIONS],
  timeline: false,
};
const FILTERED_QUERY: NowQuery = { ...QUERY, filter: { country: [COUNTRY] } };
const COLUMNS = ['session_source', 'browser', 'os', 'device'] as const;

const pinnedCore = pinToOneCore(['--max-old-space-size=4096']);

function log(message: string): void {
  process.stderr.write(`[bench:sql] ${message}\n`);
}

/** One row per activity, as an events table holds them. */
interface Rows {
  readonly user: string[];
  readonly ts: number[];
  readonly dims: string[][];
  /** The country of each activity (the workload gives a user one country throughout). */
  readonly country: string[];
  /** Per user (same order as `userIds`): first-seen epoch second. */
  readonly userIds: string[];
  readonly firstSeen: number[];
}

function rowsOf(workload: Workload): Rows {
  const rows: Rows = {
    user: [],
    ts: [],
    dims: COLUMNS.map(() => []),
    country: [],
    userIds: [],
    firstSeen: [],
  };
  const firstSeen = new Map<string, number>();
  const batch = workload.newBatch();
  for (let b = 0; b < workload.batches; b++) {
    for (const activity of workload.fillBatch(b, batch, undefined, true)) {
      rows.user.push(activity.user);
      rows.ts.push(activity.ts);
      rows.country.push(activity.country ?? UNKNOWN);
      const values = [activity.sessionSource, activity.browser, activity.os, activity.device];
      for (let d = 0; d < values.length; d++) rows.dims[d].push(values[d] ?? UNKNOWN);
      if (!firstSeen.has(activity.user) || (firstSeen.get(activity.user) as number) > activity.ts)
        firstSeen.set(activity.user, activity.ts);
    }
  }
  for (let u = 0; u < workload.shape.users; u++) {
    const id = workload.userId(u);
    const past = workload.pastFirstSeen(u);
    rows.userIds.push(id);
    rows.firstSeen.push(past !== 0 ? past : (firstSeen.get(id) as number));
  }
  return rows;
}

/**
 * The statements of one now.json answer: count, user type, each split, each split of new users;
 * with `filtered`, of the users of one country. `param` names the parameters: the window's start,
 * and the country.
 */
function sqlQueries(param: (name: 'since' | 'country') => string, filtered = false): string[] {
  const country = filtered ? ` AND country = ${param('country')}` : '';
  const recent = `FROM events WHERE ts > ${param('since')}${country}`;
  const newcomers = `FROM events JOIN users USING (user_id) WHERE ts > ${param('since')} AND first_seen > ${param('since')}${country}`;
  return [
    `SELECT COUNT(DISTINCT user_id) ${recent}`,
    `SELECT COUNT(DISTINCT user_id) ${newcomers}`,
    ...COLUMNS.map((c) => `SELECT ${c}, COUNT(DISTINCT user_id) ${recent} GROUP BY ${c}`),
    ...COLUMNS.map((c) => `SELECT ${c}, COUNT(DISTINCT user_id) ${newcomers} GROUP BY ${c}`),
  ];
}

const SCHEMA = [
  'CREATE TABLE events (user_id TEXT NOT NULL, ts INTEGER NOT NULL, session_source TEXT, browser TEXT, os TEXT, device TEXT, country TEXT)',
  'CREATE INDEX events_ts ON events (ts)',
  'CREATE INDEX events_ts_user ON events (ts, user_id)',
  'CREATE INDEX events_country_ts_user ON events (country, ts, user_id)',
  'CREATE TABLE users (user_id TEXT PRIMARY KEY, first_seen INTEGER NOT NULL)',
];

/** Median over the runs of the time to answer every statement, ms, and the counts answered. */
interface Answered {
  readonly answerMs: number;
  readonly count: number;
  readonly newUsers: number;
}

interface PeerFigures extends Answered {
  readonly name: string;
  readonly filtered: Answered;
  readonly loadSeconds: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function sqlite(rows: Rows, dir: string, since: number): PeerFigures {
  const db = new Database(join(dir, 'events.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -1048576');
  const loadStarted = process.hrtime.bigint();
  for (const statement of SCHEMA) db.exec(statement);
  const insertEvent = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertUser = db.prepare('INSERT INTO users VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < rows.user.length; i++)
      insertEvent.run(
        rows.user[i],
        rows.ts[i],
        rows.dims[0][i],
        rows.dims[1][i],
        rows.dims[2][i],
        rows.dims[3][i],
        rows.country[i],
      );
    for (let u = 0; u < rows.userIds.length; u++) insertUser.run(rows.userIds[u], rows.firstSeen[u]);
  })();
  db.exec('ANALYZE');
  const loadSeconds = Number(process.hrtime.bigint() - loadStarted) / 1e9;
  const answer = (filtered: boolean): Answered => {
    const statements = sqlQueries((name) => `@${name}`, filtered).map((sql) => db.prepare(sql));
    const times: number[] = [];
    let answers: unknown[][][] = [];
    for (let run = 0; run < SQL_RUNS; run++) {
      const started = process.hrtime.bigint();
      answers = statements.map((statement) => {
        const parameters = { since, ...(statement.source.includes('@country') ? { country: COUNTRY } : {}) };
        return statement.raw().all(parameters) as unknown[][];
      });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return { answerMs: median(times), count: Number(answers[0][0][0]), newUsers: Number(answers[1][0][0]) };
  };
  const all = answer(false);
  const filtered = answer(true);
  db.close();
  return { name: `SQLite ${sqliteVersion()}`, ...all, filtered, loadSeconds };
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  const version = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return version;
}

async function postgres(rows: Rows, since: number): Promise<PeerFigures | undefined> {
  const server = await startPostgres();
  if (server === undefined) return undefined;
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user: 'postgres',
    database: 'postgres',
  });
  try {
    await client.connect();
    const loadStarted = process.hrtime.bigint();
    for (const statement of SCHEMA) await client.query(statement);
    const chunk = 50_000;
    for (let from = 0; from < rows.user.length; from += chunk) {
      const to = Math.min(from + chunk, rows.user.length);
      await client.query(
        'INSERT INTO events SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])',
        [
          rows.user.slice(from, to),
          rows.ts.slice(from, to),
          ...rows.dims.map((d) => d.slice(from, to)),
          rows.country.slice(from, to),
        ],
      );
    }
    for (let from = 0; from < rows.userIds.length; from += chunk) {
      const to = Math.min(from + chunk, rows.userIds.length);
      await client.query('INSERT INTO users SELECT * FROM unnest($1::text[], $2::int[])', [
        rows.userIds.slice(from, to),
        rows.firstSeen.slice(from, to),
      ]);
    }
    await client.query('VACUUM ANALYZE');
    const loadSeconds = Number(process.hrtime.bigint() - loadStarted) / 1e9;
    const answer = async (filtered: boolean): Promise<Answered> => {
      const statements = sqlQueries((name) => (name === 'since' ? '$1' : '$2'), filtered);
      const times: number[] = [];
      let answers: pg.QueryArrayResult[] = [];
      for (let run = 0; run < SQL_RUNS; run++) {
        const started = process.hrtime.bigint();
        answers = [];
        for (const text of statements)
          answers.push(
            await client.query({ text, values: filtered ? [since, COUNTRY] : [since], rowMode: 'array' }),
          );
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return {
        answerMs: median(times),
        count: Number(answers[0].rows[0][0]),
        newUsers: Number(answers[1].rows[0][0]),
      };
    };
    const all = await answer(false);
    const filtered = await answer(true);
    return { name: server.version, ...all, filtered, loadSeconds };
  } finally {
    await client.end().catch(() => {});
    server.stop();
  }
}

interface EngineAnswer {
  /** Median time of one query, µs. */
  readonly micros: number;
  readonly result: NowResult;
}

/** The engine fed the same activities; the median of `n` runs of `query`. */
function engineAnswers(workload: Workload, at: number): { all: EngineAnswer; filtered: EngineAnswer } {
  const registry = new InMemoryFirstSeenRegistry();
  for (let u = 0; u < workload.shape.users; u++) {
    const past = workload.pastFirstSeen(u);
    if (past !== 0) registry.observe(workload.userId(u), past);
  }
  const engine = new ActiveUsersEngine({ registry });
  const batch = workload.newBatch();
  for (let b = 0; b < workload.batches; b++)
    engine.record(workload.fillBatch(b, batch, undefined, true), workload.batchNow(b));
  const measure = (query: NowQuery, n: number): EngineAnswer => {
    let result = engine.query(query, at);
    const micros: number[] = [];
    for (let q = 0; q < n; q++) {
      const started = process.hrtime.bigint();
      result = engine.query(query, at);
      micros.push(Number(process.hrtime.bigint() - started) / 1e3);
    }
    return { micros: median(micros), result };
  };
  return { all: measure(QUERY, ENGINE_QUERIES), filtered: measure(FILTERED_QUERY, FILTERED_ENGINE_QUERIES) };
}

async function main(): Promise<void> {
  const workload = new Workload({
    users: USERS,
    activities: 2 * USERS,
    batchSize: 1000,
    spanSeconds: 288,
    seed: 0x5eed2024,
  });
  const at = workload.batchNow(workload.batches - 1);
  const since = at - WINDOW;
  log('activenow engine');
  const { all: ours, filtered: oursFiltered } = engineAnswers(workload, at);
  const rows = rowsOf(workload);
  const dir = mkdtempSync(join(tmpdir(), 'activenow-bench-sql-'));
  const peers: PeerFigures[] = [];
  try {
    log('SQLite');
    peers.push(sqlite(rows, dir, since));
    log('PostgreSQL');
    const pgFigures = await postgres(rows, since);
    if (pgFigures === undefined) log('PostgreSQL binaries not found: skipped');
    else peers.push(pgFigures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const newUsers = ours.result.userType?.new;
  for (const peer of peers) {
    // The peers answer the same question: the totals must agree exactly, filtered or not.
    for (const [theirs, mine, what] of [
      [peer, ours.result, 'all users'],
      [peer.filtered, oursFiltered.result, `country ${COUNTRY}`],
    ] as const) {
      if (theirs.count !== mine.count || theirs.newUsers !== mine.userType?.new)
        throw new Error(
          `${peer.name}, ${what}: counted ${theirs.count} (${theirs.newUsers} new), activenow ${mine.count} (${mine.userType?.new} new)`,
        );
    }
  }
  const table = markdownTable(
    [
      ['Figure', 'Value', 'activenow engine', 'activenow faster by'],
      ...peers.map((peer) => [
        `${peer.name}: now.json equivalent (10 statements), ms`,
        peer.answerMs.toFixed(1),
        `${(ours.micros / 1000).toFixed(4)}`,
        `${formatInt(peer.answerMs / (ours.micros / 1000))}×`,
      ]),
      ...peers.map((peer) => [
        `${peer.name}: the same, filtered by country ${COUNTRY} (\`filter\`), ms`,
        peer.filtered.answerMs.toFixed(1),
        `${(oursFiltered.micros / 1000).toFixed(2)}`,
        `${formatInt(peer.filtered.answerMs / (oursFiltered.micros / 1000))}×`,
      ]),
    ],
    [false, true, true, true],
  );
  const notes = [
    `Measured ${new Date().toISOString()} with \`${COMMAND}\`, Node ${process.version}${pinnedCore === undefined ? '' : `, this process pinned to core ${pinnedCore}`}; 2 cores shared with other work.`,
    `Data: ${workload.describe()}. All ${formatInt(ours.result.count)} users are active at the end (${formatInt(newUsers ?? 0)} new); every peer's count and new-user count are checked equal to activenow's.`,
    `Filtered: the ${formatInt(oursFiltered.result.count)} users in ${COUNTRY} (${formatInt(oursFiltered.result.userType?.new ?? 0)} new), the same ten statements with \`AND country = ?\` (an index on \`(country, ts, user_id)\` for them), against \`query\` with \`filter: {country: ['${COUNTRY}']}\`, which passes over every user the engine holds (median of ${FILTERED_ENGINE_QUERIES}). A user keeps one country in this workload, so both count the same users; checked.`,
    `Schema: \`events(user_id, ts, session_source, browser, os, device, country)\` with indexes on \`(ts)\`, \`(ts, user_id)\` and \`(country, ts, user_id)\`, \`users(user_id PRIMARY KEY, first_seen)\`, ANALYZEd after loading. The statements: \`COUNT(DISTINCT user_id)\` over the last ${WINDOW} s, the same joined to users with \`first_seen\` in the window, and \`GROUP BY\` each of the four dimensions, for all users and for new users. The median of ${SQL_RUNS} runs of all ten. Loading took ${peers.map((p) => `${p.loadSeconds.toFixed(1)} s (${p.name})`).join(', ')}.`,
    `The GROUP BY answer is not even the same: it counts a user under every value the user had in the window, where activenow counts each user once, under the latest value (so splits sum to the count).`,
    "SQLite: a file in a temporary directory, WAL, 1 GiB page cache. PostgreSQL: a throwaway server started by the benchmark (initdb into a temporary directory, fsync off, shared_buffers 512MB, work_mem 256MB), queried over loopback TCP with node-postgres; the machine's own PostgreSQL service is never touched.",
    `activenow: \`ActiveUsersEngine.query\` with every split, the user type and the new-user breakdown (what \`/1/now.json\` answers), median of ${ENGINE_QUERIES} in process.`,
  ];
  publishResults({
    title: 'SQL peers (bench:sql)',
    table,
    notes,
    fullRun: FULL_RUN,
    results: {
      sqlPeer: {
        engineMicros: ours.micros,
        engineFilteredMicros: oursFiltered.micros,
        peers: peers.map((peer) => ({
          name: peer.name,
          answerMs: Number(peer.answerMs.toFixed(1)),
          filteredAnswerMs: Number(peer.filtered.answerMs.toFixed(1)),
        })),
        measuredAt: new Date().toISOString(),
        command: COMMAND,
      },
    },
  });
}

await main();
