import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { LogChanges } from './activity-database.js';
import { logTransaction } from './log-transaction.js';
import type { LogWriterOptions, WriterReply } from './log-writer.js';

/**
 * The thread that commits batches to `activity.db` on a connection of its own (see log-writer.ts):
 * runs each commit in order, one transaction each, and replies to each.
 */

const options = workerData as LogWriterOptions;
const port = parentPort;
if (port === null) throw new Error('log-writer-thread.ts runs as a worker thread only');

let db: Database.Database | undefined;
let commit: (changes: LogChanges) => number[];
try {
  db = new Database(options.path);
  db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${options.pageCacheKiB}`);
  commit = logTransaction(db);
} catch (error) {
  // Every commit gets the reason, as if it had failed itself.
  commit = () => {
    throw error;
  };
}

// Ready for commits (or to answer each with the reason it cannot make them).
port.postMessage('ready');

port.on('message', (changes: LogChanges | 'close') => {
  if (changes === 'close') {
    db?.close();
    port.close();
    return;
  }
  let reply: WriterReply;
  try {
    reply = { ids: commit(changes) };
  } catch (error) {
    const { name, message, code, stack } = error as Error & { code?: unknown };
    reply = { error: { name, message, code: typeof code === 'string' ? code : undefined, stack } };
  }
  port.postMessage(reply);
});
