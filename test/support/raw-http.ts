/**
 * A minimal HTTP/1.1 client over a raw socket, for requests fetch cannot express: exact header
 * spellings, stray bytes, broken framing. Responses are read in order off one connection.
 */
import { connect, type Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

export interface Answer {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

/** Parses one response off the front of `buffer`; undefined while incomplete. */
export function parseResponse(
  buffer: Buffer,
  ended: boolean,
): { answer: Answer; consumed: number } | undefined {
  const headerEnd = buffer.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const lines = buffer.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (statusLine === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const status = Number(statusLine[1]);
  let offset = headerEnd + 4;
  if (status >= 100 && status < 200) {
    const rest = parseResponse(buffer.subarray(offset), ended);
    return rest && { answer: rest.answer, consumed: offset + rest.consumed };
  }
  let body: Buffer;
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buffer.length < offset + length) return undefined;
    body = buffer.subarray(offset, offset + length);
    offset += length;
  } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    for (;;) {
      const sizeEnd = buffer.indexOf('\r\n', offset);
      if (sizeEnd < 0) return undefined;
      const size = Number.parseInt(buffer.subarray(offset, sizeEnd).toString('latin1'), 16);
      if (buffer.length < sizeEnd + 2 + size + 2) return undefined;
      chunks.push(buffer.subarray(sizeEnd + 2, sizeEnd + 2 + size));
      offset = sizeEnd + 2 + size + 2;
      if (size === 0) break;
    }
    body = Buffer.concat(chunks);
  } else {
    if (!ended) return undefined;
    body = buffer.subarray(offset);
    offset = buffer.length;
  }
  // Python requests and Ruby net/http would decode these; do as they do.
  if (headers['content-encoding'] === 'gzip') body = gunzipSync(body);
  else if (headers['content-encoding'] === 'deflate') body = inflateSync(body);
  return { answer: { status, headers, text: body.toString('utf8') }, consumed: offset };
}

export class RawConnection {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;
  /** Resolves when the server has closed the connection (or it failed). */
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => {
      const end = () => {
        this.ended = true;
        this.wake?.();
        resolve();
      };
      socket.on('end', end);
      socket.on('close', end);
      // A reset after the answer was read is the server's business; the test looks at the answer.
      socket.on('error', end);
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Bytes received and not yet read as a response. */
  get pending(): number {
    return this.buffer.length;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async response(): Promise<Answer> {
    for (;;) {
      const parsed = parseResponse(this.buffer, this.ended);
      if (parsed !== undefined) {
        this.buffer = this.buffer.subarray(parsed.consumed);
        return parsed.answer;
      }
      if (this.ended) {
        throw new Error(`connection closed without a complete response: ${this.buffer.toString('latin1')}`);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
