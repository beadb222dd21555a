import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountCredentials, AccountRegistry } from '../../src/accounts/account-registry.js';
import { redisCommand } from '../../support/redis-servers.js';
import {
  connectRegistry,
  describeEachRedisDeployment,
  flushAll,
  type RedisDeployment,
} from '../support/redis-deployment.js';

/**
 * What the Redis account registry must do beyond the conformance suite (test/conformance/redis.test.ts):
 * keep only digests, share accounts between nodes, and bound how long a node may trust its cache.
 */

/** The registry's default: how long a node may answer from what it read of an account. */
const CACHE_MS = 1000;
const T0 = 1_764_145_200_000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Every key on the servers, with every string stored under it (hash fields and values, members). */
async function dump(deployment: RedisDeployment): Promise<Map<string, string[]>> {
  const entries = new Map<string, string[]>();
  for (const server of await deployment.servers()) {
    let cursor = '0';
    do {
      const [next, keys] = (await redisCommand(server, 'SCAN', cursor, 'COUNT', '1000')) as [
        string,
        string[],
      ];
      cursor = next;
      for (const key of keys) {
        const type = String(await redisCommand(server, 'TYPE', key));
        let reply: unknown;
        if (type === 'hash') reply = await redisCommand(server, 'HGETALL', key);
        else if (type === 'set') reply = await redisCommand(server, 'SMEMBERS', key);
        else if (type === 'string') reply = await redisCommand(server, 'GET', key);
        else throw new Error(`unexpected ${type} at ${key}`);
        const strings =
          reply !== null && typeof reply === 'object' && !Array.isArray(reply)
            ? Object.entries(reply).flat()
            : [reply].flat();
        entries.set(key, strings.map(String));
      }
    } while (cursor !== '0');
  }
  return entries;
}

function describeRedisSpecifics(name: string, deployment: RedisDeployment): void {
  describe(`Redis account registry: ${name}`, () => {
    const open: AccountRegistry[] = [];
    let at = T0;
    const now = () => at;

    async function registry(cacheMs?: number): Promise<AccountRegistry> {
      const opened = await connectRegistry(deployment, cacheMs === undefined ? { now } : { now, cacheMs });
      open.push(opened);
      return opened;
    }

    afterEach(async () => {
      for (const each of open.splice(0)) await each.close();
      at = T0;
    });

    it('stores only digests: no clear passcode or token in any key, field or value', async () => {
      await flushAll(deployment);
      const accounts = await registry();
      const created = await accounts.create({ name: 'Shop', region: 'eu1' });
      const rotated = (await accounts.rotatePasscode(created.id)) as AccountCredentials;
      const revoked = (await accounts.rotatePasscode(created.id)) as AccountCredentials;
      expect(await accounts.revokePasscode(created.id, revoked.passcode)).toBe(true);
      const other = await accounts.create({ name: 'Other', region: 'in1' });
      const gone = await accounts.create({ name: 'Gone', region: 'eu1' });
      expect(await accounts.delete(gone.id)).toBe(true);
      const secrets = [created, rotated, revoked, other, gone].flatMap((c) => [
        c.passcode,
        c.token,
        c.token.replace(/^pt_/, ''),
      ]);

      const entries = await dump(deployment);
      expect(entries.size).toBeGreaterThan(0);
      const everything = [...entries].flatMap(([key, strings]) => [key, ...strings]);
      for (const text of everything) {
        for (const secret of secrets) expect(text.includes(secret), `${secret} in ${text}`).toBe(false);
      }
      const joined = everything.join('\n');
      // What opens an account is there as a digest, and only while it does.
      for (const live of [created.passcode, rotated.passcode, revoked.token, other.passcode, other.token]) {
        expect(joined.includes(sha256(live)), `digest of ${live}`).toBe(true);
      }
      for (const dead of [revoked.passcode, created.token, rotated.token, gone.passcode, gone.token]) {
        expect(joined.includes(sha256(dead)), `digest of ${dead}`).toBe(false);
      }
      expect(joined.includes(gone.id), 'a deleted account leaves nothing').toBe(false);
    });

    it('shares accounts between registries on one Redis, whatever connection made them', async () => {
      await flushAll(deployment);
      const one = await registry(0);
      const two = await registry(0);
      const a = await one.create({ name: 'A', region: 'eu1' });
      at += 1;
      const b = await two.create({ name: 'B', region: 'in1' });
      expect(await one.list()).toEqual(await two.list());
      expect((await one.list()).map((account) => account.id)).toEqual([a.id, b.id]);
      expect(await two.verifyPasscode(a.id, a.passcode)).toBe(true);
      expect(await one.verifyToken(b.id, b.token)).toBe(true);

      // A third, opened after the first is gone, finds them too.
      await one.close();
      open.splice(open.indexOf(one), 1);
      const three = await registry();
      expect(await three.list()).toEqual(await two.list());
      expect(await three.verifyPasscode(b.id, b.passcode)).toBe(true);
    });

    it('a revoked passcode stops working on a caching node within its cacheMs', async () => {
      await flushAll(deployment);
      const cli = await registry(0);
      // The registry's default cache, as a server node has it.
      const node = await registry();
      const created = await cli.create({ name: 'Shop', region: 'eu1' });
      const rotated = (await cli.rotatePasscode(created.id)) as AccountCredentials;

      expect(await node.verifyPasscode(created.id, created.passcode)).toBe(true);
      const readAt = at;
      at += 100;
      expect(await cli.revokePasscode(created.id, created.passcode)).toBe(true);
      expect(await cli.verifyPasscode(created.id, created.passcode)).toBe(false);

      // Within cacheMs the node may answer from what it read (it does: the cache is in use)…
      at = readAt + CACHE_MS - 1;
      expect(await node.verifyPasscode(created.id, created.passcode)).toBe(true);
      // …and from cacheMs after its read on, it no longer accepts the revoked passcode.
      at = readAt + CACHE_MS;
      expect(await node.verifyPasscode(created.id, created.passcode)).toBe(false);
      expect(await node.verifyPasscode(created.id, rotated.passcode)).toBe(true);
      expect((await node.get(created.id))?.passcodes).toBe(1);

      // The same for a deleted account, a replaced token and an account it had found missing.
      const readAgain = at;
      expect(await node.verifyToken(created.id, rotated.token)).toBe(true);
      expect(await node.get('ZZZ-ZZZ-ZZZZ')).toBeUndefined();
      at += 1;
      const again = (await cli.rotatePasscode(created.id)) as AccountCredentials;
      at = readAgain + CACHE_MS;
      expect(await node.verifyToken(created.id, rotated.token)).toBe(false);
      expect(await node.verifyToken(created.id, again.token)).toBe(true);
      expect(await cli.delete(created.id)).toBe(true);
      at += CACHE_MS;
      expect(await node.verifyPasscode(created.id, rotated.passcode)).toBe(false);
      expect(await node.get(created.id)).toBeUndefined();
    });
  });
}

describeEachRedisDeployment('Redis account registry', (deployment, label) => {
  describeRedisSpecifics(label, deployment);
});
