import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdKeys } from '../../src/engine/id-key.js';
import { IdTable, PAYLOAD, PREPARE_LIMIT } from '../../src/engine/id-table.js';

/**
 * IdTable against a Map: every id's presence and payload, after every operation, whatever the ids
 * (short, long, narrow, wide, surrogates), the order of adds and removals, the hash (a forced bad
 * one makes every id collide) and the table's growing and shrinking.
 */

/** Code units ids are made of: few of each kind, so that generated ids repeat and share prefixes. */
const UNITS = [
  'a',
  'b',
  '0',
  '\u0000',
  '\u00e9',
  '\u00ff',
  '\u0100',
  '\u4e2d',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
];

const idArb = fc
  .oneof(
    { weight: 6, arbitrary: fc.array(fc.constantFrom(...UNITS.slice(0, 3)), { minLength: 1, maxLength: 5 }) },
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...UNITS), { minLength: 1, maxLength: 12 }) },
    // Around the inline limits (20 narrow, 10 wide code units) and well beyond: long keys.
    {
      weight: 2,
      arbitrary: fc.array(fc.constantFrom(...UNITS.slice(0, 3)), { minLength: 18, maxLength: 130 }),
    },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...UNITS), { minLength: 8, maxLength: 70 }) },
  )
  .map((units) => units.join(''));

type Op =
  | { readonly kind: 'add'; readonly id: string }
  | { readonly kind: 'batch'; readonly ids: readonly string[] }
  | { readonly kind: 'remove'; readonly ids: readonly string[] }
  | { readonly kind: 'sweep'; readonly budget: number; readonly removeOdd: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), id: idArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('batch' as const), ids: fc.array(idArb, { maxLength: 40 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('remove' as const), ids: fc.array(idArb, { maxLength: 10 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('sweep' as const),
      budget: fc.integer({ min: 0, max: 30 }),
      removeOdd: fc.boolean(),
    }),
  },
);

/** An IdTable with two payload words per id, and a Map that should hold the same. */
class CheckedTable {
  readonly table: IdTable;
  readonly oracle = new Map<string, number>();
  private readonly idByValue = new Map<number, string>();
  private nextValue = 1;

  constructor(keys?: IdKeys) {
    this.table = new IdTable(2, keys);
  }

  indexOf(id: string): number {
    this.table.prepareOne(id);
    return this.table.indexOfPrepared(0);
  }

  /** The value stored with the id at `index`; the second payload word must agree with the first. */
  valueAt(index: number): number {
    const at = index * this.table.recordWords + PAYLOAD;
    const value = this.table.words[at];
    expect(this.table.words[at + 1]).toBe(~value >>> 0);
    return value;
  }

  add(id: string): void {
    this.table.prepareOne(id);
    this.addOrCheck(id, 0);
  }

  /** Looks up `ids` in one batch, adding the ones missing as it goes, as the engine does. */
  batch(ids: readonly string[]): void {
    for (let from = 0; from < ids.length; from += PREPARE_LIMIT) {
      const count = Math.min(PREPARE_LIMIT, ids.length - from);
      this.table.prepare(ids, from, count);
      for (let k = 0; k < count; k++) this.addOrCheck(ids[from + k], k);
    }
  }

  /** Removes every id of `ids` the table holds, by a sweep that looks at all of them. */
  remove(ids: readonly string[]): void {
    const doomed = new Set(ids);
    const removed = this.table.sweep(2 * this.table.size + 1, (index) =>
      doomed.has(this.idByValue.get(this.valueAt(index)) as string),
    );
    let expected = 0;
    for (const id of doomed) if (this.forget(id)) expected++;
    expect(removed).toBe(expected);
  }

  /** A sweep of `budget` that removes the ids whose value has the given parity. */
  sweep(budget: number, removeOdd: boolean): void {
    let looked = 0;
    const removed = this.table.sweep(budget, (index) => {
      looked++;
      const value = this.valueAt(index);
      if ((value % 2 === 1) !== removeOdd) return false;
      this.forget(this.idByValue.get(value) as string);
      return true;
    });
    expect(looked).toBeLessThanOrEqual(budget);
    expect(removed).toBeLessThanOrEqual(looked);
  }

  verify(absent: readonly string[] = []): void {
    expect(this.table.size).toBe(this.oracle.size);
    for (const [id, value] of this.oracle) {
      const index = this.indexOf(id);
      expect(index, JSON.stringify(id)).toBeGreaterThanOrEqual(0);
      expect(this.valueAt(index)).toBe(value);
    }
    for (const id of absent) if (!this.oracle.has(id)) expect(this.indexOf(id)).toBe(-1);
  }

  private addOrCheck(id: string, k: number): void {
    const index = this.table.indexOfPrepared(k);
    const known = this.oracle.get(id);
    if (known !== undefined) {
      expect(index, JSON.stringify(id)).toBeGreaterThanOrEqual(0);
      expect(this.valueAt(index)).toBe(known);
      return;
    }
    expect(index, JSON.stringify(id)).toBe(-1);
    const added = this.table.addPrepared(k);
    const at = added * this.table.recordWords + PAYLOAD;
    expect(this.table.words[at]).toBe(0);
    const value = this.nextValue++;
    this.table.words[at] = value;
    this.table.words[at + 1] = ~value >>> 0;
    this.oracle.set(id, value);
    this.idByValue.set(value, id);
  }

  private forget(id: string): boolean {
    const value = this.oracle.get(id);
    if (value === undefined) return false;
    this.oracle.delete(id);
    this.idByValue.delete(value);
    return true;
  }
}

function run(ops: readonly Op[], keys?: IdKeys): void {
  const checked = new CheckedTable(keys);
  const seen: string[] = [];
  for (const op of ops) {
    if (op.kind === 'add') {
      checked.add(op.id);
      seen.push(op.id);
    } else if (op.kind === 'batch') {
      checked.batch(op.ids);
      seen.push(...op.ids);
    } else if (op.kind === 'remove') {
      checked.remove(op.ids);
    } else {
      checked.sweep(op.budget, op.removeOdd);
    }
    checked.verify(seen);
  }
}

/** `count` distinct ids of assorted lengths and widths. */
function manyIds(count: number, tag: string): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = `${tag}${i.toString(36)}`;
    if (i % 7 === 0) ids.push(`${base}-${'x'.repeat(i % 100)}`);
    else if (i % 5 === 0) ids.push(`${base}\u4e2d\ud83d\ude00`);
    else ids.push(base);
  }
  return ids;
}

describe('IdTable', () => {
  it('matches a Map through adds, batched lookups, removals and partial sweeps', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60, size: 'max' }), (ops) => run(ops)),
      { numRuns: 300 },
    );
  });

  it('matches a Map when every id has the same hash', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30, size: 'max' }), (ops) => run(ops, new IdKeys(0))),
      { numRuns: 150 },
    );
  });

  it('matches a Map when hashes take only a few values', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30, size: 'max' }), (ops) => run(ops, new IdKeys(0x7))),
      { numRuns: 150 },
    );
  });

  it('tells apart ids whose code units or lengths differ only at the end', () => {
    const checked = new CheckedTable();
    const ids = [
      'a',
      'a\u0000',
      'a\u0000\u0000',
      '\u0000',
      '\u00e9',
      '\u0100',
      '\u00e9\u0000',
      'abcd',
      'abcd\u0000',
      'x'.repeat(20),
      'x'.repeat(21),
      `${'x'.repeat(19)}y`,
      '\u4e2d'.repeat(10),
      '\u4e2d'.repeat(11),
      `${'\u4e2d'.repeat(9)}\u4e2e`,
      `${'y'.repeat(119)}z`,
      `${'y'.repeat(119)}Z`,
      '\ud83d\ude00',
      '\ud83d',
      '\ude00\ud83d',
      '\ud800\udfff'.repeat(60),
    ];
    checked.batch(ids);
    checked.batch(ids);
    checked.verify(['b', 'a\u0001', '\u00e8', 'x'.repeat(22), `${'y'.repeat(119)}y`, '\ude00']);
  });

  it('looks up a batch holding the same new id twice as the same id', () => {
    const checked = new CheckedTable();
    checked.batch(['new', 'other', 'new', 'x'.repeat(50), 'x'.repeat(50)]);
    expect(checked.table.size).toBe(3);
    checked.verify();
  });

  it('refuses a batch larger than PREPARE_LIMIT', () => {
    const table = new IdTable(1);
    const ids = manyIds(PREPARE_LIMIT + 1, 'p');
    expect(() => table.prepare(ids, 0, PREPARE_LIMIT + 1)).toThrow(RangeError);
  });

  it('grows while a batch is being added, and keeps every id and payload', () => {
    const checked = new CheckedTable();
    const ids = manyIds(30_000, 'g');
    checked.batch(ids);
    checked.verify(manyIds(100, 'h'));
    expect(checked.table.size).toBe(30_000);
  });

  it('finds the ids of a batch after the table grew in the middle of it', () => {
    const checked = new CheckedTable();
    const held = manyIds(384, 'm');
    checked.batch(held);
    // 384 ids fill the first 512 slots to 3/4: the first new id makes the table grow.
    checked.batch([...manyIds(3, 'n'), ...held.slice(0, 200), ...manyIds(50, 'o'), ...held.slice(200)]);
    checked.verify();
  });

  it('shrinks when most ids are removed, and keeps the others', () => {
    const checked = new CheckedTable();
    const ids = manyIds(20_000, 's');
    checked.batch(ids);
    const grown = checked.table.words.length;
    checked.remove(ids.slice(100));
    expect(checked.table.words.length).toBeLessThan(grown / 20);
    checked.verify(ids.slice(100, 200));
  });

  it('keeps long ids findable when removals move their records and their store compacts', () => {
    const checked = new CheckedTable();
    const long = (tag: string, count: number, length: number) =>
      manyIds(count, tag).map((id) => `${id}-`.padEnd(length, 'l'));
    const first = long('a', 1000, 30);
    checked.batch(first);
    checked.remove(first.filter((_, i) => i % 2 === 0));
    // Few ids (the table does not grow, which would re-own every entry) but long enough to fill the
    // store of long keys, which compacts and must tell each entry's current owner where it went.
    checked.batch(long('b', 600, 120));
    checked.verify(first);
  });

  it('stays bounded while many distinct ids come and go', () => {
    const checked = new CheckedTable();
    let largest = 0;
    for (let round = 0; round < 40; round++) {
      const ids = manyIds(2000, `r${round}-`);
      checked.batch(ids);
      checked.remove(ids);
      checked.batch(ids.slice(0, 500));
      checked.remove(ids.slice(0, 500));
      largest = Math.max(largest, checked.table.words.length);
    }
    expect(checked.table.size).toBe(0);
    // 2000 ids of 8 words need at most 2000 / 0.75 × 1.5 slots; nothing accumulates across rounds.
    expect(largest).toBeLessThanOrEqual(4000 * checked.table.recordWords);
    checked.verify(manyIds(10, 'r0-'));
  });

  it('sweeps in steps, resuming where it stopped, and removes every expired id once', () => {
    const checked = new CheckedTable();
    const ids = manyIds(3000, 'w');
    checked.batch(ids);
    let removed = 0;
    const expired = (index: number) => checked.valueAt(index) % 3 === 0;
    for (let step = 0; step < 100 && removed < 1000; step++) removed += checked.table.sweep(50, expired);
    expect(removed).toBe(1000);
    for (const id of ids) if ((checked.oracle.get(id) as number) % 3 === 0) checked.oracle.delete(id);
    checked.verify(ids);
  });

  it('hashes the same id alike within a table and differently in another', () => {
    const a = new IdKeys();
    const b = new IdKeys();
    const out = new Uint32Array(64);
    const ids = manyIds(2000, 'k');
    let sameAcrossTables = 0;
    const hashes = new Set<number>();
    for (const id of ids) {
      const hash = a.encode(id, out, 0);
      expect(a.encode(`${id}`, out, 0)).toBe(hash);
      hashes.add(hash);
      if (b.encode(id, out, 0) === hash) sameAcrossTables++;
    }
    expect(hashes.size).toBeGreaterThan(1995);
    expect(sameAcrossTables).toBeLessThan(5);
  });
});
