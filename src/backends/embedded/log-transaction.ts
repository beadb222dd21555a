import type Database from 'better-sqlite3';
import type { LogChanges } from './activity-database.js';

/** Log rows deleted per commit at most, so retention never makes one commit slow. */
const RETENTION_ROWS_PER_COMMIT = 500;

/**
 * The write transaction of `activity.db` on connection `db`: the same on the main thread (commits
 * without batches) and on the writer thread (commits of batches), so that either can make any
 * commit. Returns the ids of the appended batches.
 */
export function logTransaction(db: Database.Database): (changes: LogChanges) => number[] {
  const insertBatch = db.prepare<[string, number, Uint8Array]>(
    'INSERT INTO activity_batch (account, at, payload) VALUES (?, ?, ?)',
  );
  const upsertFirstSeen = db.prepare<[string, string, number]>(
    'INSERT INTO first_seen (account, user, ts) VALUES (?, ?, ?) ON CONFLICT (account, user) DO UPDATE SET ts = min(ts, excluded.ts)',
  );
  const deleteExpired = db.prepare<[number, number]>(
    'DELETE FROM activity_batch WHERE id IN (SELECT id FROM activity_batch WHERE at <= ? ORDER BY at LIMIT ?)',
  );
  const rewriteBatch = db.prepare<[Uint8Array, number]>('UPDATE activity_batch SET payload = ? WHERE id = ?');
  const retimeBatch = db.prepare<[number, number]>('UPDATE activity_batch SET at = ? WHERE id = ?');
  return db.transaction((changes: LogChanges) => {
    // Rewrites first: retention in this same transaction may delete the rows they depended on.
    for (const r of changes.rewrites) rewriteBatch.run(asBuffer(r.payload), r.id);
    for (const r of changes.retimes) retimeBatch.run(r.at, r.id);
    const ids = changes.batches.map((b) =>
      Number(insertBatch.run(b.account, b.at, asBuffer(b.payload)).lastInsertRowid),
    );
    for (const f of changes.firstSeen) upsertFirstSeen.run(f.account, f.user, f.ts);
    deleteExpired.run(changes.expireUpTo, RETENTION_ROWS_PER_COMMIT);
    return ids;
  });
}

/** A Buffer sent to the writer thread arrives as a plain Uint8Array; better-sqlite3 binds Buffers. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
