import { createClient } from 'redis';
import { type Activity, VALUE_KEY_OF } from '../src/model/activity.js';
import { UNKNOWN } from '../src/model/dimensions.js';
import { type NowQuery, type NowResult, orderSplit, type Splits } from '../src/model/now-query.js';
import { DIMENSIONS, type Dimension, isDimension } from '../src/protocol/dimensions.js';

function newClient(url: string) {
  return createClient({ url });
}

type Client = ReturnType<typeof newClient>;

/** Key name of each dimension's sorted sets, as analytics tools commonly spell them. */
const KEY_NAMES: Readonly<Record<Dimension, string>> = {
  session_source: 'source',
  browser: 'browser',
  os: 'os',
  device: 'device',
  page: 'page',
  country: 'country',
  app_version: 'app_version',
};

function dimensionValue(activity: Activity, d: number): string {
  const value = activity[VALUE_KEY_OF[DIMENSIONS[d]]];
  return value === undefined || value === '' ? UNKNOWN : value;
}

/**
 * Baseline for bench/redis.ts: the "active users in Redis" pattern of popular analytics tools, with
 * the same record/now shape as RedisStore. Per event, from the client: `ZADD key ts user` into
 * `{acct}:active` and into one sorted set per dimension value (`{acct}:browser:Chrome`, …), and
 * `HSETNX {acct}:first user ts`; a user HSETNX did set also goes into `{acct}:new` (scored by that
 * first-seen time), in a second round trip since it needs HSETNX's reply. The values seen are
 * SADDed to `{acct}:values:<dimension>` (once per batch and dimension, not per event, which favours
 * the baseline) so that queries know the keys. All commands of a batch go out as one pipeline.
 *
 * A query is one `ZCOUNT key (now-window +inf` per key (after SMEMBERS of the value sets). It
 * cannot answer new users per value (`newSplits`) without intersecting sets, and its splits are not
 * exact: a user seen with two values of a dimension within the window is counted under both.
 * Nothing is ever trimmed (ZREMRANGEBYSCORE would be a separate job), which is fine for a run
 * shorter than the window.
 */
export class NaiveRedisZsets {
  private constructor(private readonly client: Client) {}

  static async connect(url: string): Promise<NaiveRedisZsets> {
    const client = newClient(url);
    client.on('error', () => {});
    await client.connect();
    return new NaiveRedisZsets(client);
  }

  /** Pre-loads first-seen times, as the hash would hold them for returning users. */
  async seedFirstSeen(
    account: string,
    entries: readonly (readonly [user: string, ts: number])[],
  ): Promise<void> {
    const args = [`{${account}}:first`];
    for (const [user, ts] of entries) args.push(user, String(ts));
    await this.client.sendCommand(['HSET', ...args]);
  }

  async record(account: string, activities: readonly Activity[], _at: number): Promise<void> {
    const prefix = `{${account}}:`;
    const active = `${prefix}active`;
    const first = `${prefix}first`;
    const dimensionPrefix = DIMENSIONS.map((dimension) => `${prefix}${KEY_NAMES[dimension]}:`);
    const seen = DIMENSIONS.map(() => new Set<string>());
    const pipeline = this.client.multi();
    // Copied out, so that the caller may reuse the activity objects once this call has returned.
    const users: string[] = [];
    const stamps: string[] = [];
    for (const activity of activities) {
      const ts = String(activity.ts);
      const user = activity.user;
      users.push(user);
      stamps.push(ts);
      pipeline.addCommand(['ZADD', active, ts, user]);
      for (let d = 0; d < DIMENSIONS.length; d++) {
        const value = dimensionValue(activity, d);
        seen[d].add(value);
        pipeline.addCommand(['ZADD', dimensionPrefix[d] + value, ts, user]);
      }
      pipeline.addCommand(['HSETNX', first, user, ts]);
    }
    for (let d = 0; d < DIMENSIONS.length; d++) {
      pipeline.addCommand(['SADD', `${prefix}values:${DIMENSIONS[d]}`, ...seen[d]]);
    }
    const replies = (await pipeline.execAsPipeline()) as unknown[];
    const perActivity = 2 + DIMENSIONS.length;
    const fresh: string[] = [];
    for (let k = 0; k < users.length; k++) {
      if (Number(replies[k * perActivity + perActivity - 1]) === 1) fresh.push(stamps[k], users[k]);
    }
    if (fresh.length > 0) await this.client.sendCommand(['ZADD', `${prefix}new`, ...fresh]);
  }

  async now(account: string, query: NowQuery, at: number): Promise<NowResult> {
    const prefix = `{${account}}:`;
    const dimensions = query.splits.filter(isDimension);
    const after = `(${at - query.window}`;
    // Two round trips: the value sets, then one ZCOUNT per key (each batch of commands pipelined).
    const values = (await Promise.all(
      dimensions.map((dimension) => this.client.sendCommand(['SMEMBERS', `${prefix}values:${dimension}`])),
    )) as unknown as string[][];
    const pipeline = this.client.multi();
    pipeline.addCommand(['ZCOUNT', `${prefix}active`, after, '+inf']);
    if (query.userType) pipeline.addCommand(['ZCOUNT', `${prefix}new`, after, '+inf']);
    dimensions.forEach((dimension, k) => {
      for (const value of values[k]) {
        pipeline.addCommand(['ZCOUNT', `${prefix}${KEY_NAMES[dimension]}:${value}`, after, '+inf']);
      }
    });
    const counts = ((await pipeline.execAsPipeline()) as unknown[]).map(Number);
    const count = counts[0];
    let next = 1;
    const result: { -readonly [K in keyof NowResult]: NowResult[K] } = { count, splits: {} };
    if (query.userType) {
      const fresh = counts[next++];
      result.userType = { new: fresh, returning: count - fresh };
    }
    const splits: Splits = {};
    dimensions.forEach((dimension, k) => {
      const entries: [string, number][] = [];
      for (const value of values[k]) {
        const users = counts[next++];
        if (users > 0) entries.push([value, users]);
      }
      splits[dimension] = orderSplit(entries);
    });
    result.splits = splits;
    return result;
  }

  /**
   * New users per value the only way this layout allows: ZINTERCARD of `{acct}:new` with each value
   * set. Exact only while both sets hold nothing older than the window (ZINTERCARD ignores scores),
   * i.e. with a trimming job; in this benchmark nothing is older than the window yet.
   */
  async newSplits(account: string, query: NowQuery): Promise<Splits> {
    const prefix = `{${account}}:`;
    const splits: Splits = {};
    for (const dimension of query.splits.filter(isDimension)) {
      const values = (await this.client.sendCommand([
        'SMEMBERS',
        `${prefix}values:${dimension}`,
      ])) as string[];
      const counts = await Promise.all(
        values.map((value) =>
          this.client.sendCommand([
            'ZINTERCARD',
            '2',
            `${prefix}new`,
            `${prefix}${KEY_NAMES[dimension]}:${value}`,
          ]),
        ),
      );
      splits[dimension] = orderSplit(
        values.map((value, k): [string, number] => [value, Number(counts[k])]).filter(([, n]) => n > 0),
      );
    }
    return splits;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
