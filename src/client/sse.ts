/** One dispatched Server-Sent Event. */
export interface SseEvent {
  /** `message` unless an `event:` field named another type. */
  readonly type: string;
  readonly data: string;
  readonly id: string | undefined;
}

/**
 * An incremental text/event-stream parser, after the WHATWG HTML "event stream interpretation":
 * lines end with CRLF, LF or CR; `:` starts a comment; `data` lines join with LF; an empty line
 * dispatches (nothing when no data came). `retry` is reported as `retryMs`.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private type = '';
  private lastId: string | undefined;
  private started = false;
  /** A CR ended the last chunk: an LF starting the next one belongs to it. */
  private pendingCr = false;
  /** The last valid `retry:` field, milliseconds. */
  retryMs: number | undefined;
  /** Comment lines seen (keep-alives). */
  comments = 0;

  /** Feeds decoded text; returns the events it completes. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.buffer.slice(0, end);
      let next = end + 1;
      if (this.buffer[end] === '\r') {
        if (end + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[end + 1] === '\n') next++;
      }
      this.buffer = this.buffer.slice(next);
      const event = this.line(line);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments++;
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const type = this.type;
    this.data = [];
    this.type = '';
    if (data.length === 0) return undefined;
    return { type: type === '' ? 'message' : type, data: data.join('\n'), id: this.lastId };
  }
}
