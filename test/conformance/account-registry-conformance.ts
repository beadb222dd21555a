import { afterEach, describe, expect, it } from 'vitest';
import type { Account, AccountCredentials, AccountRegistry } from '../../src/accounts/account-registry.js';

/**
 * The account registry conformance suite: every `AccountRegistry` must pass it unchanged. It talks
 * to registries only through the interface, over fresh storage, with a clock it controls.
 *
 * Two registries over the same storage (the CLI next to a running server, or two nodes) must see
 * each other's changes. A backend may let a registry answer from what it read up to `staleMs`
 * earlier (Redis nodes cache accounts for `cacheMs`); the suite moves the shared clock by that much
 * before it looks at another registry's change, and by nothing before it looks at a registry's own.
 *
 * A backend plugs in with a harness file beside this one (see sqlite-account-registry.test.ts).
 */

export interface OpenedRegistry {
  /** A registry over fresh, empty storage, reading the clock it was given. */
  readonly registry: AccountRegistry;
  /**
   * Another registry over the same storage, open alongside the first, on the same clock: the CLI
   * next to a running server, or another node.
   */
  openAnother(): Promise<AccountRegistry>;
  /** Closes `registry` (the one opened first) and opens a new one over the same storage. */
  reopen(): Promise<AccountRegistry>;
  /** Closes every registry it opened (each once) and removes the storage. */
  cleanup(): Promise<void>;
}

export interface AccountRegistryHarness {
  /**
   * How long (on the injected clock) a registry may keep answering from what it read before
   * another registry changed the storage: 0 when the change shows on the next call.
   */
  readonly staleMs: number;
  /** Fresh, empty storage and a registry over it whose clock (createdAt, any cache) is `now`. */
  open(now: () => number): Promise<OpenedRegistry>;
}

/** 2025-11-26T08:20:00Z. */
const T0 = 1_764_145_200_000;
const ID_SHAPE =
  /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{3}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{3}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}$/;
const PASSCODE_SHAPE = /^[A-Za-z0-9_-]{24}$/;
const TOKEN_SHAPE = /^pt_[A-Za-z0-9_-]{24}$/;
/** Well-formed ids no registry made (the alphabet has no 0, 1, I, L, O). */
const UNKNOWN_ID = 'ZZZ-ZZZ-ZZZZ';
/** Ids no registry makes, some with characters a key format or a query might trip on. */
const ODD_IDS = [
  '',
  'zzz-zzz-zzzz',
  '*',
  '%',
  '?',
  "' OR 1=1 --",
  '{accounts}',
  'a:b',
  'é-用户',
  'x'.repeat(300),
];

/** The shared clock of one test: every registry the test opens reads it. */
class Clock {
  constructor(public at = T0) {}
  readonly now = (): number => this.at;
  advance(ms: number): void {
    this.at += ms;
  }
}

const ids = (accounts: readonly Account[]) => accounts.map((account) => account.id);

export function describeAccountRegistryConformance(name: string, harness: AccountRegistryHarness): void {
  describe(`account registry conformance: ${name}`, () => {
    const opened: OpenedRegistry[] = [];

    async function open(): Promise<{ registry: AccountRegistry; clock: Clock; storage: OpenedRegistry }> {
      const clock = new Clock();
      const storage = await harness.open(clock.now);
      opened.push(storage);
      return { registry: storage.registry, clock, storage };
    }

    /** Lets `staleMs` pass, after which another registry's changes must show. */
    const propagate = (clock: Clock) => clock.advance(harness.staleMs);

    afterEach(async () => {
      for (const storage of opened.splice(0)) await storage.cleanup();
    });

    describe('one registry', () => {
      it('lists nothing in new storage', async () => {
        const { registry } = await open();
        expect(await registry.list()).toEqual([]);
        expect(await registry.get(UNKNOWN_ID)).toBeUndefined();
      });

      it('creates, lists and gets accounts', async () => {
        const { registry, clock } = await open();
        const a = await registry.create({ name: '  Shop  ', region: 'eu1' });
        clock.advance(1);
        const b = await registry.create({ name: 'Blog', region: 'in1' });

        expect(a.id).toMatch(ID_SHAPE);
        expect(b.id).toMatch(ID_SHAPE);
        expect(a.id).not.toBe(b.id);
        expect(a).toEqual({ id: a.id, name: 'Shop', region: 'eu1', passcode: a.passcode, token: a.token });
        expect(a.passcode).toMatch(PASSCODE_SHAPE);
        expect(a.token).toMatch(TOKEN_SHAPE);
        expect(a.passcode).not.toBe(b.passcode);
        expect(a.token).not.toBe(b.token);

        const wantA: Account = { id: a.id, name: 'Shop', region: 'eu1', createdAt: T0, passcodes: 1 };
        const wantB: Account = { id: b.id, name: 'Blog', region: 'in1', createdAt: T0 + 1, passcodes: 1 };
        expect(await registry.get(a.id)).toEqual(wantA);
        expect(await registry.get(b.id)).toEqual(wantB);
        expect(await registry.list()).toEqual([wantA, wantB]);
        expect(await registry.get(UNKNOWN_ID)).toBeUndefined();
      });

      it('lists by creation time, then by id', async () => {
        const { registry, clock } = await open();
        // The clock may step back (NTP): the order is by createdAt, not by order of creation.
        clock.at = T0 + 2000;
        const last = await registry.create({ name: 'Last', region: 'eu1' });
        clock.at = T0 + 1000;
        const first = await registry.create({ name: 'First', region: 'eu1' });
        clock.at = T0 + 1500;
        const tied = [];
        for (let i = 0; i < 6; i++) tied.push(await registry.create({ name: `Tied ${i}`, region: 'eu1' }));

        const want = [first.id, ...tied.map((account) => account.id).sort(), last.id];
        expect(ids(await registry.list())).toEqual(want);
        expect((await registry.list()).map((account) => account.createdAt)).toEqual([
          T0 + 1000,
          ...tied.map(() => T0 + 1500),
          T0 + 2000,
        ]);
      });

      it('rejects bad names and regions with a clear error, creating nothing', async () => {
        const { registry } = await open();
        const bad = (name: unknown, region: unknown) =>
          registry.create({ name, region } as unknown as { name: string; region: string });
        await expect(bad('   ', 'eu1')).rejects.toThrow(/name must be 1 to 100 characters \(got 0\)/);
        await expect(bad('', 'eu1')).rejects.toThrow(/name must be 1 to 100 characters/);
        await expect(bad('x'.repeat(101), 'eu1')).rejects.toThrow(
          /name must be 1 to 100 characters \(got 101\)/,
        );
        await expect(bad('a\u0000b', 'eu1')).rejects.toThrow(/name must not contain control characters/);
        await expect(bad('a\nb', 'eu1')).rejects.toThrow(/control/);
        await expect(bad(undefined, 'eu1')).rejects.toThrow(/name is required/);
        await expect(bad(42, 'eu1')).rejects.toThrow(/name is required/);
        await expect(bad('Shop', 'EU1')).rejects.toThrow(/region must be 1 to 32 characters.*\(got "EU1"\)/);
        await expect(bad('Shop', '')).rejects.toThrow(/region.*\(got ""\)/);
        await expect(bad('Shop', 'a'.repeat(33))).rejects.toThrow(/region/);
        await expect(bad('Shop', 'eu 1')).rejects.toThrow(/region/);
        await expect(bad('Shop', 'eu_1')).rejects.toThrow(/region/);
        await expect(bad('Shop', undefined)).rejects.toThrow(/region.*\(got undefined\)/);
        await expect(
          registry.create(undefined as unknown as { name: string; region: string }),
        ).rejects.toThrow(/name is required/);
        expect(await registry.list()).toEqual([]);
      });

      it('accepts names and regions at the limits, kept exactly as given (trimmed)', async () => {
        const { registry } = await open();
        // Limits are inclusive, and count code points: 100 astral characters are 200 UTF-16 units.
        const longest = await registry.create({ name: 'é'.repeat(100), region: 'a'.repeat(32) });
        const astral = await registry.create({ name: '😀'.repeat(100), region: 'x' });
        const odd = await registry.create({ name: ` 007 "it's" {a}:b * % 用户 \t`, region: 'us-east-1' });
        expect(longest).toMatchObject({ name: 'é'.repeat(100), region: 'a'.repeat(32) });
        expect(await registry.get(longest.id)).toMatchObject({
          name: 'é'.repeat(100),
          region: 'a'.repeat(32),
        });
        expect(await registry.get(astral.id)).toMatchObject({ name: '😀'.repeat(100), region: 'x' });
        expect(odd.name).toBe(`007 "it's" {a}:b * % 用户`);
        expect(await registry.get(odd.id)).toMatchObject({ name: odd.name, region: 'us-east-1' });
        await expect(registry.create({ name: '😀'.repeat(101), region: 'x' })).rejects.toThrow(/got 101/);
      });

      it('gives the account for its own passcode only, rotated and revoked ones included', async () => {
        const { registry } = await open();
        const a = await registry.create({ name: 'A', region: 'eu1' });
        const b = await registry.create({ name: 'B', region: 'us1' });

        expect(await registry.accountForPasscode(a.id, a.passcode)).toEqual(await registry.get(a.id));
        expect(await registry.accountForPasscode(b.id, b.passcode)).toMatchObject({
          id: b.id,
          region: 'us1',
        });
        expect(await registry.accountForPasscode(a.id, b.passcode)).toBeUndefined();
        expect(await registry.accountForPasscode('NOT-AN-ID', a.passcode)).toBeUndefined();
        expect(await registry.accountForPasscode(a.id, `${a.passcode}x`)).toBeUndefined();

        const rotated = await registry.rotatePasscode(a.id);
        expect((await registry.accountForPasscode(a.id, rotated?.passcode ?? ''))?.id).toBe(a.id);
        await registry.revokePasscode(a.id, a.passcode);
        expect(await registry.accountForPasscode(a.id, a.passcode)).toBeUndefined();
        expect((await registry.accountForPasscode(a.id, rotated?.passcode ?? ''))?.id).toBe(a.id);
      });

      it('verifies the right passcode only, and only for its own account', async () => {
        const { registry } = await open();
        const a = await registry.create({ name: 'A', region: 'eu1' });
        const b = await registry.create({ name: 'B', region: 'eu1' });

        expect(await registry.verifyPasscode(a.id, a.passcode)).toBe(true);
        expect(await registry.verifyPasscode(b.id, b.passcode)).toBe(true);
        expect(await registry.verifyPasscode(a.id, b.passcode)).toBe(false);
        expect(await registry.verifyPasscode(b.id, a.passcode)).toBe(false);
        expect(await registry.verifyPasscode(a.id, `${a.passcode}x`)).toBe(false);
        expect(await registry.verifyPasscode(a.id, a.passcode.slice(1))).toBe(false);
        expect(await registry.verifyPasscode(a.id, ` ${a.passcode}`)).toBe(false);
        expect(await registry.verifyPasscode(a.id, a.passcode.toLowerCase())).toBe(false);
        expect(await registry.verifyPasscode(a.id, '')).toBe(false);
        expect(await registry.verifyPasscode(a.id, 'x'.repeat(100_000))).toBe(false);
        expect(await registry.verifyPasscode(a.id, undefined as unknown as string)).toBe(false);
        expect(await registry.verifyPasscode(a.id, a.token)).toBe(false);
        expect(await registry.verifyPasscode(a.id.toLowerCase(), a.passcode)).toBe(false);
        expect(await registry.verifyPasscode(UNKNOWN_ID, a.passcode)).toBe(false);
        for (const id of ODD_IDS) expect(await registry.verifyPasscode(id, a.passcode), id).toBe(false);
      });

      it('verifies the public token only, and only for its own account', async () => {
        const { registry } = await open();
        const a = await registry.create({ name: 'A', region: 'eu1' });
        const b = await registry.create({ name: 'B', region: 'eu1' });
        expect(await registry.verifyToken(a.id, a.token)).toBe(true);
        expect(await registry.verifyToken(b.id, b.token)).toBe(true);
        expect(await registry.verifyToken(a.id, b.token)).toBe(false);
        expect(await registry.verifyToken(a.id, a.passcode)).toBe(false);
        expect(await registry.verifyToken(a.id, a.token.slice(3))).toBe(false);
        expect(await registry.verifyToken(a.id, `${a.token}x`)).toBe(false);
        expect(await registry.verifyToken(a.id, '')).toBe(false);
        expect(await registry.verifyToken(a.id, undefined as unknown as string)).toBe(false);
        expect(await registry.verifyToken(UNKNOWN_ID, a.token)).toBe(false);
        for (const id of ODD_IDS) expect(await registry.verifyToken(id, a.token), id).toBe(false);
      });

      it('rotation adds a passcode, keeps the old one, and replaces the token', async () => {
        const { registry, clock } = await open();
        const created = await registry.create({ name: 'Shop', region: 'eu1' });
        clock.advance(1);
        const other = await registry.create({ name: 'Other', region: 'in1' });
        clock.advance(60_000);
        const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;

        expect(rotated).toEqual({
          id: created.id,
          name: 'Shop',
          region: 'eu1',
          passcode: rotated.passcode,
          token: rotated.token,
        });
        expect(rotated.passcode).toMatch(PASSCODE_SHAPE);
        expect(rotated.token).toMatch(TOKEN_SHAPE);
        expect(rotated.passcode).not.toBe(created.passcode);
        expect(rotated.token).not.toBe(created.token);
        expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(true);
        expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect(await registry.verifyToken(created.id, rotated.token)).toBe(true);
        expect(await registry.verifyToken(created.id, created.token)).toBe(false);
        // Rotation changes neither the account's other fields nor any other account.
        expect(await registry.get(created.id)).toEqual({
          id: created.id,
          name: 'Shop',
          region: 'eu1',
          createdAt: T0,
          passcodes: 2,
        });
        expect(await registry.get(other.id)).toMatchObject({ passcodes: 1 });
        expect(await registry.verifyPasscode(other.id, rotated.passcode)).toBe(false);
        expect(await registry.verifyToken(other.id, other.token)).toBe(true);

        const again = (await registry.rotatePasscode(created.id)) as AccountCredentials;
        for (const passcode of [created.passcode, rotated.passcode, again.passcode]) {
          expect(await registry.verifyPasscode(created.id, passcode)).toBe(true);
        }
        expect(await registry.verifyToken(created.id, rotated.token)).toBe(false);
        expect(await registry.verifyToken(created.id, again.token)).toBe(true);
        expect((await registry.get(created.id))?.passcodes).toBe(3);

        expect(await registry.rotatePasscode(UNKNOWN_ID)).toBeUndefined();
        for (const id of ODD_IDS) expect(await registry.rotatePasscode(id), id).toBeUndefined();
        expect(ids(await registry.list())).toEqual([created.id, other.id]);
      });

      it('revokes one passcode and leaves the others working', async () => {
        const { registry } = await open();
        const created = await registry.create({ name: 'Shop', region: 'eu1' });
        const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;

        expect(await registry.revokePasscode(created.id, created.passcode)).toBe(true);
        expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(false);
        expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect(await registry.verifyToken(created.id, rotated.token)).toBe(true);
        expect((await registry.get(created.id))?.passcodes).toBe(1);

        expect(await registry.revokePasscode(created.id, created.passcode)).toBe(false);
        expect(await registry.revokePasscode(created.id, 'not-a-passcode')).toBe(false);
        expect(await registry.revokePasscode(created.id, '')).toBe(false);
        expect(await registry.revokePasscode(created.id, rotated.token)).toBe(false);
        expect(await registry.revokePasscode(created.id, undefined as unknown as string)).toBe(false);
        expect(await registry.revokePasscode(UNKNOWN_ID, rotated.passcode)).toBe(false);
        for (const id of ODD_IDS) expect(await registry.revokePasscode(id, rotated.passcode), id).toBe(false);

        // A passcode cannot be revoked through another account.
        const other = await registry.create({ name: 'Other', region: 'eu1' });
        expect(await registry.revokePasscode(other.id, rotated.passcode)).toBe(false);
        expect(await registry.revokePasscode(created.id, other.passcode)).toBe(false);
        expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect(await registry.verifyPasscode(other.id, other.passcode)).toBe(true);
        expect((await registry.get(created.id))?.passcodes).toBe(1);
        expect((await registry.get(other.id))?.passcodes).toBe(1);
      });

      it('revoking the last passcode locks the account but keeps it', async () => {
        const { registry } = await open();
        const created = await registry.create({ name: 'Shop', region: 'eu1' });
        expect(await registry.revokePasscode(created.id, created.passcode)).toBe(true);
        expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(false);
        expect(await registry.get(created.id)).toEqual({
          id: created.id,
          name: 'Shop',
          region: 'eu1',
          createdAt: T0,
          passcodes: 0,
        });
        expect(ids(await registry.list())).toEqual([created.id]);
        // The token still works, and rotation opens it again.
        expect(await registry.verifyToken(created.id, created.token)).toBe(true);
        const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;
        expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect((await registry.get(created.id))?.passcodes).toBe(1);
      });

      it('deletes an account with its passcodes, and only that account', async () => {
        const { registry } = await open();
        const a = await registry.create({ name: 'A', region: 'eu1' });
        const b = await registry.create({ name: 'B', region: 'eu1' });
        const rotated = (await registry.rotatePasscode(a.id)) as AccountCredentials;

        expect(await registry.delete(a.id)).toBe(true);
        expect(await registry.get(a.id)).toBeUndefined();
        expect(await registry.verifyPasscode(a.id, a.passcode)).toBe(false);
        expect(await registry.verifyPasscode(a.id, rotated.passcode)).toBe(false);
        expect(await registry.verifyToken(a.id, rotated.token)).toBe(false);
        expect(await registry.rotatePasscode(a.id)).toBeUndefined();
        expect(await registry.revokePasscode(a.id, rotated.passcode)).toBe(false);
        expect(ids(await registry.list())).toEqual([b.id]);
        expect(await registry.verifyPasscode(b.id, b.passcode)).toBe(true);
        expect(await registry.verifyToken(b.id, b.token)).toBe(true);
        expect(await registry.delete(a.id)).toBe(false);
        expect(await registry.delete(UNKNOWN_ID)).toBe(false);
        for (const id of ODD_IDS) expect(await registry.delete(id), id).toBe(false);
        expect(await registry.get(b.id)).toMatchObject({ id: b.id, passcodes: 1 });

        expect(await registry.delete(b.id)).toBe(true);
        expect(await registry.list()).toEqual([]);
      });

      it('sees its own changes at once, even with a warm cache', async () => {
        const { registry } = await open();
        // The clock stands still throughout: no cache may expire.
        expect(await registry.list()).toEqual([]);
        const created = await registry.create({ name: 'Shop', region: 'eu1' });
        expect(ids(await registry.list())).toEqual([created.id]);
        expect(await registry.get(created.id)).toMatchObject({ passcodes: 1 });
        expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(true);
        expect(await registry.verifyToken(created.id, created.token)).toBe(true);

        const rotated = (await registry.rotatePasscode(created.id)) as AccountCredentials;
        expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect(await registry.verifyToken(created.id, rotated.token)).toBe(true);
        expect(await registry.verifyToken(created.id, created.token)).toBe(false);
        expect(await registry.get(created.id)).toMatchObject({ passcodes: 2 });
        expect((await registry.list())[0]).toMatchObject({ passcodes: 2 });

        expect(await registry.revokePasscode(created.id, rotated.passcode)).toBe(true);
        expect(await registry.verifyPasscode(created.id, rotated.passcode)).toBe(false);
        expect(await registry.get(created.id)).toMatchObject({ passcodes: 1 });

        expect(await registry.delete(created.id)).toBe(true);
        expect(await registry.get(created.id)).toBeUndefined();
        expect(await registry.verifyPasscode(created.id, created.passcode)).toBe(false);
        expect(await registry.verifyToken(created.id, rotated.token)).toBe(false);
        expect(await registry.list()).toEqual([]);
      });

      it('keeps concurrent calls apart', async () => {
        const { registry } = await open();
        const created = await Promise.all(
          Array.from({ length: 20 }, (_, i) => registry.create({ name: `Shop ${i}`, region: 'eu1' })),
        );
        expect(new Set(created.map((account) => account.id)).size).toBe(20);
        expect(ids(await registry.list()).sort()).toEqual(created.map((account) => account.id).sort());

        const target = created[0];
        const rotations = (await Promise.all(
          Array.from({ length: 5 }, () => registry.rotatePasscode(target.id)),
        )) as AccountCredentials[];
        expect((await registry.get(target.id))?.passcodes).toBe(6);
        for (const passcode of [target.passcode, ...rotations.map((rotation) => rotation.passcode)]) {
          expect(await registry.verifyPasscode(target.id, passcode)).toBe(true);
        }
        // One of the new tokens won; the others and the first are gone.
        const tokens = await Promise.all(
          [target.token, ...rotations.map((rotation) => rotation.token)].map((token) =>
            registry.verifyToken(target.id, token),
          ),
        );
        expect(tokens.filter(Boolean)).toHaveLength(1);
        expect(tokens[0]).toBe(false);

        const deleted = await Promise.all(created.slice(0, 10).map((account) => registry.delete(account.id)));
        expect(deleted.every(Boolean)).toBe(true);
        expect(ids(await registry.list()).sort()).toEqual(
          created
            .slice(10)
            .map((account) => account.id)
            .sort(),
        );
      });

      it('persists across reopening', async () => {
        const { registry: first, clock, storage } = await open();
        const created = await first.create({ name: 'Shop', region: 'eu1' });
        const rotated = (await first.rotatePasscode(created.id)) as AccountCredentials;
        const other = await first.create({ name: 'Other', region: 'in1' });
        expect(await first.revokePasscode(other.id, other.passcode)).toBe(true);
        const gone = await first.create({ name: 'Gone', region: 'eu1' });
        expect(await first.delete(gone.id)).toBe(true);
        const before = await first.list();

        clock.advance(3_600_000);
        const second = await storage.reopen();
        expect(await second.list()).toEqual(before);
        expect(await second.get(created.id)).toEqual({
          id: created.id,
          name: 'Shop',
          region: 'eu1',
          createdAt: T0,
          passcodes: 2,
        });
        expect(await second.verifyPasscode(created.id, created.passcode)).toBe(true);
        expect(await second.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect(await second.verifyToken(created.id, rotated.token)).toBe(true);
        expect(await second.verifyToken(created.id, created.token)).toBe(false);
        expect(await second.verifyPasscode(other.id, other.passcode)).toBe(false);
        expect(await second.verifyToken(other.id, other.token)).toBe(true);
        expect(await second.get(gone.id)).toBeUndefined();
        expect(await second.verifyPasscode(gone.id, gone.passcode)).toBe(false);

        // And it keeps working on what it found.
        expect(await second.revokePasscode(created.id, created.passcode)).toBe(true);
        expect(await second.verifyPasscode(created.id, created.passcode)).toBe(false);
      });
    });

    describe('two registries on the same storage (the CLI next to a running server, or two nodes)', () => {
      it('sees every kind of change made by the other', async () => {
        const { registry: server, clock, storage } = await open();
        const cli = await storage.openAnother();
        // Warm the server's cache first, so staleness would show.
        expect(await server.list()).toEqual([]);
        expect(await server.get(UNKNOWN_ID)).toBeUndefined();

        const created = await cli.create({ name: 'Shop', region: 'eu1' });
        propagate(clock);
        expect(await server.get(created.id)).toEqual({
          id: created.id,
          name: 'Shop',
          region: 'eu1',
          createdAt: T0,
          passcodes: 1,
        });
        expect(ids(await server.list())).toEqual([created.id]);
        expect(await server.verifyPasscode(created.id, created.passcode)).toBe(true);
        expect(await server.verifyToken(created.id, created.token)).toBe(true);

        const rotated = (await cli.rotatePasscode(created.id)) as AccountCredentials;
        propagate(clock);
        expect(await server.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect(await server.verifyPasscode(created.id, created.passcode)).toBe(true);
        expect(await server.verifyToken(created.id, rotated.token)).toBe(true);
        expect(await server.verifyToken(created.id, created.token)).toBe(false);
        expect((await server.get(created.id))?.passcodes).toBe(2);

        expect(await cli.revokePasscode(created.id, created.passcode)).toBe(true);
        propagate(clock);
        expect(await server.verifyPasscode(created.id, created.passcode)).toBe(false);
        expect(await server.verifyPasscode(created.id, rotated.passcode)).toBe(true);
        expect((await server.get(created.id))?.passcodes).toBe(1);

        expect(await cli.delete(created.id)).toBe(true);
        propagate(clock);
        expect(await server.get(created.id)).toBeUndefined();
        expect(await server.verifyPasscode(created.id, rotated.passcode)).toBe(false);
        expect(await server.verifyToken(created.id, rotated.token)).toBe(false);
        expect(await server.list()).toEqual([]);
      });

      it('changes go both ways, and writes through either act on the same accounts', async () => {
        const { registry: one, clock, storage } = await open();
        const two = await storage.openAnother();
        const a = await one.create({ name: 'A', region: 'eu1' });
        propagate(clock);
        expect(await two.verifyPasscode(a.id, a.passcode)).toBe(true);
        clock.advance(1);
        const b = await two.create({ name: 'B', region: 'eu1' });
        propagate(clock);
        expect(ids(await one.list())).toEqual([a.id, b.id]);
        expect(await one.list()).toEqual(await two.list());
        expect(await one.verifyPasscode(b.id, b.passcode)).toBe(true);

        // A passcode made through one is revoked through the other; an account made through one is
        // deleted through the other.
        const rotated = (await one.rotatePasscode(b.id)) as AccountCredentials;
        expect(await two.revokePasscode(b.id, rotated.passcode)).toBe(true);
        expect(await two.revokePasscode(b.id, rotated.passcode)).toBe(false);
        expect(await one.delete(b.id)).toBe(true);
        expect(await two.delete(b.id)).toBe(false);
        expect(await two.rotatePasscode(b.id)).toBeUndefined();
        propagate(clock);
        expect(ids(await two.list())).toEqual([a.id]);
        expect(await two.get(b.id)).toBeUndefined();
        expect(await one.get(b.id)).toBeUndefined();
      });

      it('share one read-token key, created once and kept', async () => {
        const { registry: one, storage } = await open();
        const two = await storage.openAnother();
        // Both ask at once, before any key exists: they must still agree.
        const [a, b] = await Promise.all([one.readTokenKey(), two.readTokenKey()]);
        expect(a).toBeInstanceOf(Buffer);
        expect(a).toHaveLength(32);
        expect(b.equals(a)).toBe(true);
        expect((await one.readTokenKey()).equals(a)).toBe(true);
        const later = await storage.openAnother();
        expect((await later.readTokenKey()).equals(a)).toBe(true);
        const reopened = await storage.reopen();
        expect((await reopened.readTokenKey()).equals(a)).toBe(true);

        // Other storage, other key.
        const { registry: elsewhere } = await open();
        expect((await elsewhere.readTokenKey()).equals(a)).toBe(false);
      });

      it('a registry opened later finds everything at once', async () => {
        const { registry, storage } = await open();
        const a = await registry.create({ name: 'A', region: 'eu1' });
        const rotated = (await registry.rotatePasscode(a.id)) as AccountCredentials;
        const later = await storage.openAnother();
        expect(await later.list()).toEqual(await registry.list());
        expect(await later.verifyPasscode(a.id, a.passcode)).toBe(true);
        expect(await later.verifyPasscode(a.id, rotated.passcode)).toBe(true);
        expect(await later.verifyToken(a.id, rotated.token)).toBe(true);
        expect(await later.verifyToken(a.id, a.token)).toBe(false);
      });
    });
  });
}
