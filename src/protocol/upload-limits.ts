/** Records one `/1/upload` request may carry, as CleverTap. Shared with the typed client. */
export const MAX_RECORDS_PER_UPLOAD = 1000;

/** The server's default request body limit (`--max-body-bytes`); the client's batches stay below it. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
