import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError } from '../model/api-errors.js';
import { botLaneOf } from '../model/bot-lane.js';
import type { Store } from '../store/store.js';
import { type AdmissionOptions, admit } from './admission.js';
import { envelope, JSON_UTF8, toApiError } from './error-envelope.js';
import { decodeJsonBody, JSON_CONTENT_TYPE } from './json-body-parser.js';
import { type AppMetrics, countIn } from './metrics.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import type { RouteTally } from './request-tallies.js';
import type { RouteContext } from './route.js';
import { answerNow, NOW_PATH, type NowAsk, parseNowRequest } from './routes/now.js';

/** Distinct request bodies whose query is remembered; more start over. */
const MAX_REMEMBERED_BODIES = 256;
/** Answers remembered (per account and request body); more start over. */
const MAX_REMEMBERED_ANSWERS = 1024;
const DIGITS = /^[0-9]+$/;

export interface NowFastLaneOptions {
  readonly admission: AdmissionOptions;
  readonly context: Pick<RouteContext, 'store' | 'clock' | 'horizonSeconds' | 'maxBodyBytes'>;
  readonly metrics: AppMetrics;
  /** The app's request ids, so that ids stay unique across both paths. */
  readonly requestId: (request: IncomingMessage) => string;
  /** True once the app is closing: Fastify then sheds requests with the envelope. */
  readonly closing: () => boolean;
  readonly log: FastifyBaseLogger;
}

/**
 * `POST /1/now.json` served straight from node:http: the same admission, body checks, query and
 * answer as the Fastify route (they share admit, decodeJsonBody, parseNowRequest and answerNow), the same
 * headers and envelopes, without the framework's per-request work (routing, hooks, reply objects),
 * which costs more than the answer itself. Only the plain case takes this lane: anything else (another
 * path or method, a query string, HTTP/1.0, no Host, another Content-Type, a chunked or empty or
 * too large body, the app closing) is left to Fastify, which answers it as always. A body seen before
 * skips parsing: its query is remembered by its bytes. With a store that stamps its answers
 * (`Store.answerStamp`), the answer's bytes are remembered too, per account and body, and sent again
 * while the stamp stays the same: at most until the next second or the account's next recording.
 */
export class NowFastLane {
  private readonly asks = new Map<string, NowAsk>();
  private readonly answers = new Map<string, RememberedAnswer>();
  private readonly tally: RouteTally;

  constructor(private readonly options: NowFastLaneOptions) {
    this.tally = options.metrics.requestTally('POST', NOW_PATH);
  }

  /** Serves `request` and returns true, or returns false and leaves it to Fastify. */
  take(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'POST' || request.url !== NOW_PATH) return false;
    const headers = request.headers;
    const type = headers['content-type'];
    const length = headers['content-length'];
    if (
      this.options.closing() ||
      request.httpVersion !== '1.1' ||
      headers.host === undefined ||
      type === undefined ||
      !JSON_CONTENT_TYPE.test(type) ||
      length === undefined ||
      !DIGITS.test(length) ||
      headers['transfer-encoding'] !== undefined
    ) {
      return false;
    }
    const bytes = Number(length);
    if (bytes === 0 || bytes > this.options.context.maxBodyBytes) return false;
    void this.serve(request, response, performance.now());
    return true;
  }

  private async serve(request: IncomingMessage, response: ServerResponse, started: number): Promise<void> {
    const id = this.options.requestId(request);
    response.setHeader(REQUEST_ID_HEADER, id);
    let status: number;
    // Fastify closes the connection after a body it could not parse (the client may send more).
    let bodyUnreadable = false;
    try {
      const account = await admit(this.options.admission, request.headers, response);
      const body = await bodyOf(request);
      // Latin-1 maps each byte to one character: equal keys are equal bytes.
      const key = body.toString('latin1');
      let ask = this.asks.get(key);
      if (ask === undefined) {
        bodyUnreadable = true;
        const value = decodeJsonBody(body);
        bodyUnreadable = false;
        ask = parseNowRequest(value, this.options.context.horizonSeconds);
        if (this.asks.size >= MAX_REMEMBERED_BODIES) this.asks.clear();
        this.asks.set(key, ask);
      }
      const answer = await this.answer(account, key, ask);
      this.closeIfClosing(response);
      send(response, 200, answer, {});
      status = 200;
    } catch (error) {
      // A request its client gave up on is answered to nobody, and counted nowhere, as in Fastify.
      if (response.destroyed) return;
      const apiError = toApiError(error, this.options.context.maxBodyBytes);
      if (apiError.status >= 500 && !(error instanceof ApiError)) {
        this.options.log.error({ reqId: id, err: error }, apiError.message);
      }
      this.closeIfClosing(response);
      const headers = bodyUnreadable ? { connection: 'close', ...apiError.headers } : apiError.headers;
      send(response, apiError.status, envelope(apiError), headers);
      status = apiError.status;
    }
    const seconds = (performance.now() - started) / 1000;
    countIn(this.tally, status, seconds);
    this.options.metrics.countFastLaneRequest();
  }

  /** The answer's bytes: remembered ones while the store's stamp holds, else computed. */
  private async answer(account: string, body: string, ask: NowAsk): Promise<Buffer> {
    const { store, clock } = this.options.context;
    const at = clock();
    const stamp = answerStampOf(store, account, ask, at);
    const key = `${account}\n${body}`;
    const remembered = this.answers.get(key);
    if (stamp !== undefined && remembered?.stamp === stamp) return remembered.bytes;
    const bytes = Buffer.from(await answerNow(store, account, ask, at));
    // Kept only if nothing changed while it was computed.
    if (stamp !== undefined && answerStampOf(store, account, ask, at) === stamp) {
      if (this.answers.size >= MAX_REMEMBERED_ANSWERS) this.answers.clear();
      this.answers.set(key, { stamp, bytes });
    }
    return bytes;
  }

  /**
   * A request taken before the app began to close is answered with `Connection: close`, as Fastify
   * answers those arriving after: a kept-alive connection would hold the server open until its
   * keep-alive timeout.
   */
  private closeIfClosing(response: ServerResponse): void {
    if (this.options.closing()) response.setHeader('Connection', 'close');
  }
}

/**
 * The stamp of the answer to `ask`: the account's, and when it asks for bots, the later of the
 * account's and its bot lane's (both change with the same counter); undefined when either is.
 */
function answerStampOf(store: Store, account: string, ask: NowAsk, at: number): number | undefined {
  const own = store.answerStamp?.(account, at);
  if (own === undefined || !ask.bots) return own;
  const lane = store.answerStamp?.(botLaneOf(account), at);
  return lane === undefined ? undefined : Math.max(own, lane);
}

interface RememberedAnswer {
  readonly stamp: number;
  readonly bytes: Buffer;
}

/**
 * The whole body (its length was checked against the limit from Content-Length). One given up on
 * never ends: its request is answered to nobody and counted nowhere, as in Fastify, and its place in
 * flight is given back when its response closes. Without an 'error' listener, Node emits no error
 * for it.
 */
function bodyOf(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
  });
}

function send(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Readonly<Record<string, string>>,
): void {
  response.writeHead(status, {
    ...headers,
    'content-type': JSON_UTF8,
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
  });
  response.end(body);
}
