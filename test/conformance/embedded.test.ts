import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AccountRegistry } from '../../src/accounts/account-registry.js';
import { ACCOUNTS_FILE, embeddedBackend } from '../../src/backends/embedded/embedded-backend.js';
import { SqliteAccountRegistry } from '../../src/backends/embedded/sqlite-account-registry.js';
import { describeAccountRegistryConformance, type OpenedRegistry } from './account-registry-conformance.js';
import { backendStoreHarness } from './backend-store-harness.js';
import { describeStoreConformance } from './store-conformance.js';

/** The embedded backend's conformance: its store and its account registry, over real SQLite files. */

async function temporaryDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'activenow-conformance-'));
}

describe("the embedded backend's --store forms", () => {
  it('takes `embedded` and nothing else', () => {
    expect(embeddedBackend.parseStore('embedded')).toEqual({ kind: 'embedded' });
    for (const other of ['Embedded', 'embedded ', '', 'sqlite', 'redis://127.0.0.1:6379']) {
      expect(embeddedBackend.parseStore(other), other).toBeUndefined();
    }
  });
});

describeStoreConformance(
  'embedded (SQLite)',
  backendStoreHarness(
    embeddedBackend,
    async () => {
      const dir = await temporaryDir();
      return {
        target: { kind: 'embedded' },
        dataDir: dir,
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
    'answer',
  ),
);

/**
 * The registry on its own clock, in a fresh directory per opening. Other registries on the file see
 * a change on their next call (PRAGMA data_version), so nothing may be stale.
 */
async function openSqlite(now: () => number): Promise<OpenedRegistry> {
  const dir = await temporaryDir();
  const file = join(dir, ACCOUNTS_FILE);
  const open: AccountRegistry[] = [];
  const start = (): AccountRegistry => {
    const registry = new SqliteAccountRegistry(file, { now });
    open.push(registry);
    return registry;
  };
  const registry = start();
  let first = registry;
  return {
    registry,
    async openAnother() {
      return start();
    },
    async reopen() {
      await first.close();
      open.splice(open.indexOf(first), 1);
      first = start();
      return first;
    },
    async cleanup() {
      for (const each of open.splice(0)) await each.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeAccountRegistryConformance('SQLite', { staleMs: 0, open: openSqlite });
