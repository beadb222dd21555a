/**
 * The catalogue of request-level errors: every failure of every route is one of these, answered as
 * `{"status":"fail","error":<message>,"code":<status>}` with HTTP status = code. Messages are
 * stable; `{name}` placeholders are filled from the error's parameters. docs/api.md lists exactly
 * this catalogue (a test checks it). Shared with the typed client, so it imports nothing.
 */
export const API_ERRORS = {
  invalidJson: { status: 400, message: 'Request body is not valid JSON' },
  invalidEncoding: { status: 400, message: 'Request body is not valid UTF-8' },
  invalidContentType: { status: 400, message: 'Content-Type must be application/json' },
  invalidHitContentType: { status: 400, message: 'Content-Type must be text/plain or application/json' },
  bodyNotObject: { status: 400, message: 'Request body must be a JSON object' },
  unknownParameter: { status: 400, message: 'Unknown parameter: {name}' },
  invalidParameter: { status: 400, message: 'Invalid parameter {name}: {reason}' },
  recordsMissing: { status: 400, message: 'Parameter d must be an array of records' },
  tooManyRecords: { status: 400, message: 'Too many records: at most {max} per request' },
  invalidHeaders: { status: 400, message: 'Request headers are not valid' },
  credentialsMissing: { status: 401, message: 'Account ID and passcode are required' },
  invalidAccount: { status: 401, message: 'Account ID is not valid' },
  invalidPasscode: { status: 401, message: 'Passcode is not valid' },
  wrongRegion: { status: 401, message: 'Account belongs to region {region}; use that region' },
  invalidToken: { status: 401, message: 'Account ID or public token is not valid' },
  invalidReadToken: { status: 401, message: 'Read token is not valid or has expired' },
  invalidMetricsToken: { status: 401, message: 'Metrics token is missing or not valid' },
  routeNotFound: { status: 404, message: 'Route not found' },
  methodNotAllowed: { status: 405, message: 'Method not allowed; use {allow}' },
  requestTimeout: { status: 408, message: 'Request was not received in time' },
  bodyTooLarge: { status: 413, message: 'Request body is too large: at most {max} bytes' },
  tooManyConcurrent: { status: 429, message: 'Too many concurrent requests' },
  tooManyRequests: { status: 429, message: 'Too many requests for this account; retry later' },
  tooManyHits: { status: 429, message: 'Too many hits for this account; retry later' },
  tooManyStreams: { status: 429, message: 'Too many open streams for this account: at most {max}' },
  internal: { status: 500, message: 'Internal server error' },
  unsupportedParameter: {
    status: 501,
    message: 'Parameter {name} is not available on this server: {reason}',
  },
  storeUnavailable: { status: 503, message: 'Storage is unavailable; retry later' },
  notReady: { status: 503, message: 'Server is starting; retry later' },
  shuttingDown: { status: 503, message: 'Server is shutting down; retry later' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorName = keyof typeof API_ERRORS;
