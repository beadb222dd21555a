/**
 * `activenow/client`: a typed client of the activenow HTTP API (docs/client.md). Runs wherever a
 * global `fetch` does (Node 20+, browsers); no dependency, no Node built-in.
 */
export { MAX_RECORDS_PER_UPLOAD } from '../protocol/upload-limits.js';
export {
  ActiveNowClient,
  type ActiveNowClientOptions,
  type ReadToken,
  type RequestOptions,
  type UploadOptions,
} from './client.js';
export { ActiveNowError, ActiveNowNetworkError, ERROR_CATALOGUE, type ErrorKind } from './errors.js';
export { parseRetryAfter } from './retry.js';
export type { NowStream, StreamErrorInfo, StreamOptions } from './stream.js';
export type { FetchLike } from './transport.js';
export {
  type NowFilter,
  type NowRequest,
  type NowResult,
  type Split,
  type SplitName,
  STREAM_REQUEST,
  type StreamUpdate,
  type TimelinePoint,
  type UnprocessedRecord,
  type UploadRecord,
  type UploadResult,
  type UploadSession,
  type UserTypeSplit,
} from './types.js';
