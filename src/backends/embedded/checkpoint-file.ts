import { readFileSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { HOST_LITTLE_ENDIAN } from '../../engine/state-stream.js';

/**
 * The framing of a checkpoint file: a header (magic, format version, byte order, payload length,
 * CRC-32 of the payload) and the payload, written to a temporary name, fsynced, then renamed over
 * the previous file, so that the file at `path` is always a whole checkpoint or none. What the
 * payload holds is the caller's (checkpoints.ts).
 */

const MAGIC = Buffer.from('ACTVNOW\u0001', 'latin1');
/** Bump on any change of the payload's layout: a file of another version is not read. */
export const CHECKPOINT_FORMAT_VERSION = 3;
const HEADER_BYTES = 32;
const LITTLE = 1;
const BIG = 2;
/** Bytes checksummed per turn of the event loop while a checkpoint is written. */
const CHECKSUM_SLICE = 4 * 1024 * 1024;

/** A checkpoint file that exists but cannot be used, with the reason. */
export class UnusableCheckpoint extends Error {}

/** Where a checkpoint is written before it replaces the one at `path`. */
function temporaryPath(path: string): string {
  return `${path}.tmp`;
}

/**
 * Writes `parts` as the checkpoint at `path`, replacing any previous one only once every byte is
 * on disk. Checksums a slice per turn of the event loop, so that a checkpoint of a hundred
 * megabytes never holds requests up for long; the writes themselves run off the event loop.
 */
export async function writeCheckpointFile(path: string, parts: readonly Uint8Array[]): Promise<void> {
  let checksum = 0;
  let length = 0;
  for (const part of parts) {
    for (let from = 0; from < part.length; from += CHECKSUM_SLICE) {
      checksum = crc32(part.subarray(from, from + CHECKSUM_SLICE), checksum);
      await new Promise((resolve) => setImmediate(resolve));
    }
    length += part.length;
  }
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(CHECKPOINT_FORMAT_VERSION, 8);
  header.writeUInt32LE(HOST_LITTLE_ENDIAN ? LITTLE : BIG, 12);
  header.writeDoubleLE(length, 16);
  header.writeUInt32LE(checksum >>> 0, 24);
  const temporary = temporaryPath(path);
  try {
    const file = await open(temporary, 'w');
    try {
      for (const part of [header, ...parts]) {
        for (let written = 0; written < part.length; ) {
          written += (await file.write(part, written, part.length - written)).bytesWritten;
        }
      }
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    // A full disk must not stay full of half a checkpoint.
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename is durable once the directory is.
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The payload of the checkpoint at `path`, checked whole; undefined when there is none. Throws
 * UnusableCheckpoint, saying why, for a file that cannot be read, is truncated, of another format
 * version or byte order, or whose checksum does not match. Removes a temporary file left by a
 * write that was interrupted.
 */
export function readCheckpointFile(path: string): Uint8Array | undefined {
  rmSync(temporaryPath(path), { force: true });
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UnusableCheckpoint(`cannot read it: ${(error as Error).message}`);
  }
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    throw new UnusableCheckpoint('not a checkpoint file (no header)');
  const version = bytes.readUInt32LE(8);
  if (version !== CHECKPOINT_FORMAT_VERSION)
    throw new UnusableCheckpoint(
      `format version ${version}, this version reads ${CHECKPOINT_FORMAT_VERSION}`,
    );
  if (bytes.readUInt32LE(12) !== (HOST_LITTLE_ENDIAN ? LITTLE : BIG))
    throw new UnusableCheckpoint('written by a machine of the other byte order');
  const length = bytes.readDoubleLE(16);
  if (length !== bytes.length - HEADER_BYTES)
    throw new UnusableCheckpoint(
      `truncated or extended: ${bytes.length - HEADER_BYTES} bytes of payload, the header says ${length}`,
    );
  const payload = bytes.subarray(HEADER_BYTES);
  if (crc32(payload) >>> 0 !== bytes.readUInt32LE(24)) throw new UnusableCheckpoint('checksum mismatch');
  return payload;
}
