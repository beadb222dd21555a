import { MAX_JSON_DEPTH } from '../defaults.js';
import type { AsciiStringCache } from './ascii-string-cache.js';

/**
 * A cursor over the bytes of a JSON text, for the upload fast path (upload-fast-path.ts). It checks
 * RFC 8259's grammar strictly as it goes, reads the scalars the record rules need as JSON.parse
 * would give them, and steps over everything else without building it. When it is not sure to
 * agree with the reference path (json-body-parser.ts: UTF-8 check, nesting depth, secure-json-parse)
 * — a syntax error, a `__proto__` or `constructor` key, nesting deeper than
 * MAX_JSON_DEPTH — it throws NOT_HANDLED, and the caller hands the body to the reference path,
 * whose answer (an error or a result) is then the exact one.
 *
 * The bytes must be valid UTF-8 (the caller checks first): a string then decodes on its own, since
 * its quotes never fall inside a multi-byte sequence.
 */

/** Thrown when the reference path must decide; preallocated, so throwing it costs no stack trace. */
export const NOT_HANDLED = new Error('not handled by the upload fast path');

/** Stands for an object value whose members no rule reads: a plain object, as JSON.parse's would be. */
export const OBJECT_VALUE: object = Object.freeze({});
/** Stands for an array value: an array, as JSON.parse's would be. */
export const ARRAY_VALUE: object = Object.freeze([]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;

/**
 * The bytes a string holds as they are (not `"`, not `\`, not a control character): ASCII ones and
 * the others (of multi-byte characters); 0 for the rest.
 */
const ASCII_CHARACTER = 1;
const MULTI_BYTE_PART = 2;
const CHARACTER_BYTES = new Uint8Array(256);
for (let b = 0x20; b < 0x100; b++) {
  if (b !== QUOTE && b !== BACKSLASH) CHARACTER_BYTES[b] = b < 0x80 ? ASCII_CHARACTER : MULTI_BYTE_PART;
}

/** The character of each one-character escape (`\n` …), by the byte after the backslash. */
const ESCAPED: readonly (string | undefined)[] = Array.from(
  { length: 128 },
  (_, b) =>
    ({ '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' })[String.fromCharCode(b)],
);

/**
 * Keys left to the reference path: secure-json-parse refuses `__proto__` anywhere, and `constructor`
 * when its value is an object with a `prototype`; any `constructor` is left to it, whatever its value.
 */
const PROTOTYPE_KEYS = ['__proto__', 'constructor'];

/** 0–15 for a hexadecimal digit's byte, -1 for any other. */
function hexValue(b: number): number {
  if (b >= ZERO && b <= NINE) return b - ZERO;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function isDigit(b: number): boolean {
  return b >= ZERO && b <= NINE;
}

/**
 * Member names to recognize. A name found is given as the table's own string (so a `switch` on it
 * compares constants); the prototype keys are recognized in every table, and throw NOT_HANDLED.
 */
export class KeyTable<Name extends string> {
  /**
   * Names by their first byte: each as its bytes and the closing quote, and as the name given
   * (undefined: a prototype key). Written plainly, a name is found with one comparison.
   */
  private readonly byFirstByte: (readonly [Uint8Array, Name | undefined][] | undefined)[] = [];
  private readonly byText = new Map<string, Name | undefined>();

  constructor(names: readonly Name[]) {
    const entries: [string, Name | undefined][] = [
      ...names.map((name): [string, Name] => [name, name]),
      ...PROTOTYPE_KEYS.map((key): [string, undefined] => [key, undefined]),
    ];
    const byFirstByte: [Uint8Array, Name | undefined][][] = [];
    for (const [text, name] of entries) {
      const quoted = Buffer.from(`${text}"`, 'latin1');
      byFirstByte[quoted[0]] ??= [];
      byFirstByte[quoted[0]].push([quoted, name]);
      this.byText.set(text, name);
    }
    this.byFirstByte = byFirstByte;
  }

  /**
   * The name written plainly from `start` (just after the opening quote) as its bytes with the
   * closing quote, and the name; undefined if none of the table's is.
   */
  match(bytes: Buffer, start: number): readonly [Uint8Array, Name | undefined] | undefined {
    const candidates = this.byFirstByte[bytes[start]];
    if (candidates === undefined) return undefined;
    next: for (let c = 0; c < candidates.length; c++) {
      const candidate = candidates[c];
      const quoted = candidate[0];
      for (let i = 1; i < quoted.length; i++) if (bytes[start + i] !== quoted[i]) continue next;
      if (candidate[1] === undefined) throw NOT_HANDLED;
      return candidate;
    }
    return undefined;
  }

  /** The name a member name read with its escapes decoded is, or undefined if it is not in the table. */
  findText(text: string): Name | undefined {
    if (!this.byText.has(text)) return undefined;
    const name = this.byText.get(text);
    if (name === undefined) throw NOT_HANDLED;
    return name;
  }
}

/** Objects whose members no rule reads: only the prototype keys are looked for. */
const NO_KEYS = new KeyTable<never>([]);

/** The cursor: one per parse at a time (`reset` starts the next). */
export class JsonByteScanner {
  private bytes: Buffer = Buffer.alloc(0);
  /** The index of the next byte to read. */
  pos = 0;
  /** Set by scanString: whether the string has escapes, bytes outside ASCII. */
  private escaped = false;
  private wide = false;

  reset(bytes: Buffer): void {
    this.bytes = bytes;
    this.pos = 0;
  }

  /** Skips white space; the byte then at the cursor, not consumed, or -1 at the end. */
  private peek(): number {
    const bytes = this.bytes;
    let i = this.pos;
    let b = bytes[i];
    if (b > 0x20) return b; // white space is all below: most often there is none
    while (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) b = bytes[++i];
    this.pos = i;
    return b === undefined ? -1 : b;
  }

  /** Skips white space; whether an object begins at the cursor. */
  atObject(): boolean {
    return this.peek() === OPEN_OBJECT;
  }

  /** Throws NOT_HANDLED unless only white space is left. */
  end(): void {
    if (this.peek() !== -1) throw NOT_HANDLED;
  }

  /**
   * Enters the object at the cursor (anything else throws NOT_HANDLED), at nesting level `depth`
   * (the top value's is 1): false if it is empty, and then consumed whole.
   */
  beginObject(depth: number): boolean {
    return this.begin(OPEN_OBJECT, CLOSE_OBJECT, depth);
  }

  /** After a member: true if another follows, false at the end of the object (consumed). */
  nextMember(): boolean {
    return this.next(CLOSE_OBJECT);
  }

  /** Enters the array at the cursor, as beginObject. */
  beginArray(depth: number): boolean {
    return this.begin(OPEN_ARRAY, CLOSE_ARRAY, depth);
  }

  /** After an element: true if another follows, false at the end of the array (consumed). */
  nextElement(): boolean {
    return this.next(CLOSE_ARRAY);
  }

  /** A member's name and the `:` after it: the name if it is in `keys`, else undefined. */
  key<Name extends string>(keys: KeyTable<Name>): Name | undefined {
    if (this.peek() !== QUOTE) throw NOT_HANDLED;
    const start = this.pos + 1;
    let name: Name | undefined;
    const known = keys.match(this.bytes, start);
    if (known !== undefined) {
      name = known[1];
      this.pos = start + known[0].length;
    } else {
      const end = this.scanString();
      this.pos = end + 1;
      name = this.escaped ? keys.findText(this.unescape(start, end)) : undefined;
    }
    this.expect(COLON);
    return name;
  }

  /**
   * The value at the cursor as JSON.parse would give it when it is a string, number, boolean or
   * null; an object or array (at nesting level `depth`) is stepped over and given as OBJECT_VALUE
   * or ARRAY_VALUE. With `cache`, an ASCII string without escapes is taken from it.
   */
  value(depth: number, cache?: AsciiStringCache): unknown {
    const b = this.peek();
    if (b === QUOTE) return this.string(cache);
    if (b === MINUS || isDigit(b)) return this.number();
    if (b === OPEN_OBJECT) {
      this.skipObject(depth);
      return OBJECT_VALUE;
    }
    if (b === OPEN_ARRAY) {
      this.skipArray(depth);
      return ARRAY_VALUE;
    }
    return this.literal(b);
  }

  /** Steps over the value at the cursor (at nesting level `depth`), checking it. */
  skip(depth: number): void {
    const b = this.peek();
    if (b === QUOTE) this.pos = this.scanString() + 1;
    else if (b === MINUS || isDigit(b)) this.scanNumber();
    else if (b === OPEN_OBJECT) this.skipObject(depth);
    else if (b === OPEN_ARRAY) this.skipArray(depth);
    else this.literal(b);
  }

  /** The text of `bytes[start, end)`. */
  text(start: number, end: number): string {
    return this.bytes.toString('utf8', start, end);
  }

  private skipObject(depth: number): void {
    if (!this.beginObject(depth)) return;
    do {
      this.key(NO_KEYS);
      this.skip(depth + 1);
    } while (this.nextMember());
  }

  private skipArray(depth: number): void {
    if (!this.beginArray(depth)) return;
    do this.skip(depth + 1);
    while (this.nextElement());
  }

  private begin(open: number, close: number, depth: number): boolean {
    if (this.peek() !== open || depth > MAX_JSON_DEPTH) throw NOT_HANDLED;
    this.pos++;
    if (this.peek() !== close) return true;
    this.pos++;
    return false;
  }

  private next(close: number): boolean {
    const b = this.peek();
    this.pos++;
    if (b === COMMA) return true;
    if (b === close) return false;
    throw NOT_HANDLED;
  }

  private expect(byte: number): void {
    if (this.peek() !== byte) throw NOT_HANDLED;
    this.pos++;
  }

  /** `true`, `false` or `null` starting with byte `b`; anything else throws NOT_HANDLED. */
  private literal(b: number): boolean | null {
    if (b === 0x74 && this.follows('true')) return true;
    if (b === 0x66 && this.follows('false')) return false;
    if (b === 0x6e && this.follows('null')) return null;
    throw NOT_HANDLED;
  }

  /** Consumes `word` if the bytes at the cursor spell it. */
  private follows(word: string): boolean {
    const bytes = this.bytes;
    const at = this.pos;
    for (let i = 0; i < word.length; i++) if (bytes[at + i] !== word.charCodeAt(i)) return false;
    this.pos = at + word.length;
    return true;
  }

  private string(cache: AsciiStringCache | undefined): string {
    const start = this.pos + 1;
    const cached = cache?.find(this.bytes, start);
    if (cached !== undefined) {
      this.pos = start + cached.length + 1;
      return cached;
    }
    const end = this.scanString();
    this.pos = end + 1;
    if (this.escaped) return this.unescape(start, end);
    if (this.wide) return this.bytes.toString('utf8', start, end);
    const text = this.bytes.toString('latin1', start, end);
    cache?.add(text, this.bytes, start);
    return text;
  }

  /**
   * From the opening quote at the cursor, checks the string (no raw control characters, valid
   * escapes) and returns the index of its closing quote; sets `escaped` and `wide`.
   */
  private scanString(): number {
    const bytes = this.bytes;
    let i = this.pos + 1;
    let escaped = false;
    let wide = false;
    for (;;) {
      let kind = CHARACTER_BYTES[bytes[i]];
      while (kind === ASCII_CHARACTER) kind = CHARACTER_BYTES[bytes[++i]];
      if (kind === MULTI_BYTE_PART) {
        wide = true;
        i++;
        continue;
      }
      const b = bytes[i];
      if (b === QUOTE) break;
      if (b !== BACKSLASH) throw NOT_HANDLED; // a control character, or the end of the bytes
      escaped = true;
      const c = bytes[i + 1];
      if (c === LOWER_U) {
        for (let h = i + 2; h < i + 6; h++) if (hexValue(bytes[h]) < 0) throw NOT_HANDLED;
        i += 6;
      } else if (c < 0x80 && ESCAPED[c] !== undefined) i += 2;
      else throw NOT_HANDLED;
    }
    this.escaped = escaped;
    this.wide = wide;
    return i;
  }

  /** The characters of a checked string's bytes `[start, end)` with escapes, decoded as JSON.parse does. */
  private unescape(start: number, end: number): string {
    const bytes = this.bytes;
    let text = '';
    let from = start;
    for (let i = start; i < end; ) {
      if (bytes[i] !== BACKSLASH) {
        i++;
        continue;
      }
      text += bytes.toString('utf8', from, i);
      const c = bytes[i + 1];
      if (c === LOWER_U) {
        // One UTF-16 code unit, a lone surrogate included, as JSON.parse gives it.
        let unit = 0;
        for (let h = i + 2; h < i + 6; h++) unit = unit * 16 + hexValue(bytes[h]);
        text += String.fromCharCode(unit);
        i += 6;
      } else {
        text += ESCAPED[c] as string;
        i += 2;
      }
      from = i;
    }
    return text + bytes.toString('utf8', from, end);
  }

  /** A number at the cursor, the double JSON.parse gives. */
  private number(): number {
    const start = this.pos;
    const integerDigits = this.scanNumber();
    // Up to 15 digits, an integer is exact in a double: summed here, no text to convert.
    if (integerDigits > 0 && integerDigits <= 15) {
      const bytes = this.bytes;
      const negative = bytes[start] === MINUS;
      let value = 0;
      for (let i = negative ? start + 1 : start; i < this.pos; i++) value = value * 10 + bytes[i] - ZERO;
      return negative ? -value : value;
    }
    return Number(this.bytes.toString('latin1', start, this.pos));
  }

  /**
   * Steps over a number checking its grammar (`-`, then `0` or a digit 1–9 and more digits, then
   * optionally a fraction and an exponent); returns its count of digits if it is an integer
   * without fraction or exponent, else 0.
   */
  private scanNumber(): number {
    const bytes = this.bytes;
    let i = this.pos;
    if (bytes[i] === MINUS) i++;
    const first = i;
    if (bytes[i] === ZERO) i++;
    else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i++;
    else throw NOT_HANDLED;
    let integerDigits = i - first;
    if (bytes[i] === DOT) {
      i = this.digits(i + 1);
      integerDigits = 0;
    }
    if (bytes[i] === LOWER_E || bytes[i] === UPPER_E) {
      i++;
      if (bytes[i] === PLUS || bytes[i] === MINUS) i++;
      i = this.digits(i);
      integerDigits = 0;
    }
    this.pos = i;
    return integerDigits;
  }

  /** The index after one or more digits from `i`; throws NOT_HANDLED if there is none. */
  private digits(i: number): number {
    const bytes = this.bytes;
    if (!isDigit(bytes[i])) throw NOT_HANDLED;
    while (isDigit(bytes[i])) i++;
    return i;
  }
}
