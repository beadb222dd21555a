import { describe, expect, it } from 'vitest';
import { LongKeyStore } from '../../src/engine/long-key-store.js';

describe('LongKeyStore', () => {
  /** A store whose owners are numbers, remembering where each owner's entry is. */
  function tracked() {
    const at = new Map<number, number>();
    const store = new LongKeyStore((owner, moved) => at.set(owner, moved));
    const add = (owner: number, key: Uint32Array) => at.set(owner, store.add(owner, key, 0, key.length));
    return { store, at, add };
  }
  const keyOf = (owner: number, length: number) => Uint32Array.from({ length }, (_, i) => owner * 1000 + i);

  it('finds every live entry where it says, across compactions', () => {
    const { store, at, add } = tracked();
    for (let owner = 0; owner < 500; owner++) add(owner, keyOf(owner, 6 + (owner % 50)));
    for (let owner = 0; owner < 500; owner += 2) {
      store.release(at.get(owner) as number);
      at.delete(owner);
    }
    for (let owner = 500; owner < 800; owner++) add(owner, keyOf(owner, 6 + (owner % 50)));
    for (const [owner, where] of at) {
      expect(store.matches(where, keyOf(owner, 6 + (owner % 50)), 0, 6 + (owner % 50))).toBe(true);
      expect(store.matches(where, keyOf(owner + 1, 6 + (owner % 50)), 0, 6 + (owner % 50))).toBe(false);
    }
  });

  it('follows an entry handed to another owner', () => {
    const { store, at, add } = tracked();
    add(1, keyOf(1, 30));
    store.reassign(at.get(1) as number, 7);
    at.delete(1);
    for (let owner = 100; owner < 400; owner++) {
      add(owner, keyOf(owner, 30));
      store.release(at.get(owner) as number);
      at.delete(owner);
    }
    expect(store.matches(at.get(7) as number, keyOf(1, 30), 0, 30)).toBe(true);
  });

  it('stays bounded while entries come and go, and shrinks once most are released', () => {
    const { store, at, add } = tracked();
    let largest = 0;
    for (let round = 0; round < 200; round++) {
      for (let owner = 0; owner < 50; owner++) add(owner, keyOf(round, 60));
      for (let owner = 0; owner < 50; owner++) store.release(at.get(owner) as number);
      largest = Math.max(largest, store.words.length);
    }
    // 50 live entries of 62 words at most, twice over, plus the one being added.
    expect(largest).toBeLessThanOrEqual(2 * (50 * 62 + 62));
    store.shrink();
    expect(store.words.length).toBeLessThanOrEqual(256);
  });
});
