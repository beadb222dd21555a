import { isUtf8 } from 'node:buffer';
import { MAX_RECORDS_PER_UPLOAD } from '../protocol/upload-limits.js';
import { AsciiStringCache } from './ascii-string-cache.js';
import {
  type ParsedUpload,
  type ParseRecordsOptions,
  RECORD_FIELDS,
  RecordChecker,
  type RecordFields,
  SESSION_FIELDS,
  type SessionFields,
} from './clevertap-records.js';
import { JsonByteScanner, KeyTable, NOT_HANDLED } from './upload-body-scanner.js';

/**
 * The `/1/upload` body read from its bytes straight into the route's result, without building the
 * body as objects: the fields the record rules read are decoded into one reused view per record,
 * and the rules themselves are clevertap-records.ts's (RecordChecker), as on the reference path
 * (decode, JSON.parse with the body checks, then parseRecords).
 *
 * It answers only when it is sure to give what the reference path gives; otherwise undefined, and
 * the caller takes the reference path, which then also gives the exact error. Undefined for: bytes
 * that are not UTF-8; anything the scanner is not sure of (upload-body-scanner.ts: syntax, prototype
 * keys, nesting); a body that is not an object; `d` absent, twice, not an array, or with more than
 * MAX_RECORDS_PER_UPLOAD records.
 */
export function parseUploadFast(
  body: Buffer,
  receivedAt: number,
  options: ParseRecordsOptions,
): ParsedUpload | undefined {
  const read = UploadRead.begin(body, receivedAt, options);
  if (read === undefined) return undefined;
  while (read.step() === 'more');
  return read.result();
}

/**
 * The same, read RECORDS_PER_SLICE records at a time with a turn of the event loop in between, so
 * that other requests are answered while a large upload is read (1000 records take about a
 * millisecond). Uploads read this way may interleave: each has its own scanner.
 */
export async function parseUploadFastInSlices(
  body: Buffer,
  receivedAt: number,
  options: ParseRecordsOptions,
): Promise<ParsedUpload | undefined> {
  const read = UploadRead.begin(body, receivedAt, options);
  if (read === undefined) return undefined;
  while (read.step() === 'more') await new Promise((resolve) => setImmediate(resolve));
  return read.result();
}

/** Records read between two pauses of parseUploadFastInSlices: about 0.1 ms of work. */
export const RECORDS_PER_SLICE = 128;

/** One upload being read: its scanner, its checker, and where the reading stopped. */
class UploadRead {
  private readonly scanner = new JsonByteScanner();
  private readonly steps: Generator<void, void>;
  private outcome: 'more' | 'done' | 'not handled' = 'more';

  private constructor(
    body: Buffer,
    private readonly checker: RecordChecker,
  ) {
    this.scanner.reset(body);
    this.steps = readBody(checker);
  }

  static begin(body: Buffer, receivedAt: number, options: ParseRecordsOptions): UploadRead | undefined {
    return isUtf8(body) ? new UploadRead(body, new RecordChecker(receivedAt, options)) : undefined;
  }

  /** Reads on to the next pause or the end. */
  step(): 'more' | 'done' | 'not handled' {
    scanner = this.scanner;
    try {
      if (this.steps.next().done === true) this.outcome = 'done';
    } catch (error) {
      if (error !== NOT_HANDLED) throw error;
      this.outcome = 'not handled';
    }
    return this.outcome;
  }

  /** What was read, or undefined for a body the reference path must read. */
  result(): ParsedUpload | undefined {
    // The scanner would otherwise keep the body (up to the body limit) alive as long as the result.
    this.scanner.reset(NO_BYTES);
    return this.outcome === 'done' ? this.checker.result() : undefined;
  }
}

/** Nesting levels of the upload's parts, as the reference path counts them. */
const BODY = 1;
/** `d`'s array, or the value of another key of the body. */
const BODY_MEMBER = 2;
const RECORD = 3;
const RECORD_FIELD = 4;
const SESSION_FIELD = 5;

const BODY_KEYS = new KeyTable(['d']);
const RECORD_KEYS = new KeyTable(RECORD_FIELDS);
const SESSION_KEYS = new KeyTable(SESSION_FIELDS);

const NO_BYTES = Buffer.alloc(0);
/** The scanner of the upload being read: set by UploadRead.step, which reads synchronously. */
let scanner: JsonByteScanner;
// One of each, reused: a record is read whole within a step, and the checker keeps no view.
/** For the fields whose values repeat from record to record. */
const repeated = new AsciiStringCache();
const record: RecordFields = {};
const session: SessionFields = {};

function* readBody(checker: RecordChecker): Generator<void, void> {
  let read = false;
  if (scanner.beginObject(BODY)) {
    do {
      if (scanner.key(BODY_KEYS) === undefined) {
        scanner.skip(BODY_MEMBER);
        continue;
      }
      // JSON.parse keeps the last `d`: rare enough to leave to the reference path.
      if (read) throw NOT_HANDLED;
      yield* readRecords(checker);
      read = true;
    } while (scanner.nextMember());
  }
  scanner.end();
  if (!read) throw NOT_HANDLED;
}

function* readRecords(checker: RecordChecker): Generator<void, void> {
  if (!scanner.beginArray(BODY_MEMBER)) return;
  let index = 0;
  do {
    if (index === MAX_RECORDS_PER_UPLOAD) throw NOT_HANDLED;
    if (index > 0 && index % RECORDS_PER_SLICE === 0) yield;
    const isObject = scanner.atObject();
    const start = scanner.pos;
    const error = checker.check(isObject ? readRecord() : scanner.value(RECORD));
    // A refused record is given as JSON.stringify gives the reference path's record: its own text
    // parsed and written again gives the same keys in the same order, the last duplicate winning.
    if (error !== undefined) {
      checker.refuse(error, index, JSON.stringify(JSON.parse(scanner.text(start, scanner.pos))));
    }
    index++;
  } while (scanner.nextElement());
}

/**
 * The record at the cursor as RecordFields, the last of duplicate keys winning as in JSON.parse.
 * One case per field, and below per session field: named stores keep the views' shape and calls
 * plain (a table-driven loop of keyed stores cost 30% more per event, measured).
 */
function readRecord(): RecordFields {
  record.type = undefined;
  record.identity = undefined;
  record.objectId = undefined;
  record.FBID = undefined;
  record.GPID = undefined;
  record.ts = undefined;
  record.evtName = undefined;
  record.evtData = undefined;
  record.profileData = undefined;
  record.session = undefined;
  if (!scanner.beginObject(RECORD)) return record;
  do {
    switch (scanner.key(RECORD_KEYS)) {
      case 'type':
        record.type = scanner.value(RECORD_FIELD, repeated);
        break;
      case 'identity':
        record.identity = scanner.value(RECORD_FIELD);
        break;
      case 'objectId':
        record.objectId = scanner.value(RECORD_FIELD);
        break;
      case 'FBID':
        record.FBID = scanner.value(RECORD_FIELD);
        break;
      case 'GPID':
        record.GPID = scanner.value(RECORD_FIELD);
        break;
      case 'ts':
        record.ts = scanner.value(RECORD_FIELD);
        break;
      case 'evtName':
        record.evtName = scanner.value(RECORD_FIELD, repeated);
        break;
      case 'evtData':
        record.evtData = scanner.value(RECORD_FIELD);
        break;
      case 'profileData':
        record.profileData = scanner.value(RECORD_FIELD);
        break;
      case 'session':
        record.session = scanner.atObject() ? readSession() : scanner.value(RECORD_FIELD);
        break;
      default:
        scanner.skip(RECORD_FIELD);
    }
  } while (scanner.nextMember());
  return record;
}

function readSession(): SessionFields {
  session.source = undefined;
  session.browser = undefined;
  session.os = undefined;
  session.device = undefined;
  session.page = undefined;
  session.country = undefined;
  session.app_version = undefined;
  session.ua = undefined;
  session.referrer = undefined;
  session.url = undefined;
  session.ip = undefined;
  if (!scanner.beginObject(RECORD_FIELD)) return session;
  do {
    switch (scanner.key(SESSION_KEYS)) {
      case 'source':
        session.source = scanner.value(SESSION_FIELD, repeated);
        break;
      case 'browser':
        session.browser = scanner.value(SESSION_FIELD, repeated);
        break;
      case 'os':
        session.os = scanner.value(SESSION_FIELD, repeated);
        break;
      case 'device':
        session.device = scanner.value(SESSION_FIELD, repeated);
        break;
      case 'page':
        session.page = scanner.value(SESSION_FIELD, repeated);
        break;
      case 'country':
        session.country = scanner.value(SESSION_FIELD, repeated);
        break;
      case 'app_version':
        session.app_version = scanner.value(SESSION_FIELD, repeated);
        break;
      case 'ua':
        session.ua = scanner.value(SESSION_FIELD);
        break;
      case 'referrer':
        session.referrer = scanner.value(SESSION_FIELD);
        break;
      case 'url':
        session.url = scanner.value(SESSION_FIELD);
        break;
      case 'ip':
        session.ip = scanner.value(SESSION_FIELD);
        break;
      default:
        scanner.skip(SESSION_FIELD);
    }
  } while (scanner.nextMember());
  return session;
}
