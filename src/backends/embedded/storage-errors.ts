import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../store/store.js';

/** Runs `work`; a failure of SQLite or of the file system surfaces as StoreUnavailableError. */
export function attempt<T>(what: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw asStoreUnavailable(what, error);
  }
}

/** `error` as StoreUnavailableError saying `what` failed, if storage caused it; else `error`. */
export function asStoreUnavailable(what: string, error: unknown): unknown {
  if (!(error instanceof Database.SqliteError || isFileSystemError(error))) return error;
  return new StoreUnavailableError(`${what}: ${error.code}: ${error.message}`, { cause: error });
}

/** Errors of opening a file (missing directory, permissions) come from Node, not SQLite. */
function isFileSystemError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}
