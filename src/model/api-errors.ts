import { API_ERRORS, type ApiErrorName } from '../protocol/error-catalogue.js';

export type ErrorParams = Readonly<Record<string, string | number>>;

/** A failure to be answered with the error envelope. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly kind: ApiErrorName,
    readonly params: ErrorParams = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(formatMessage(API_ERRORS[kind].message, params));
    this.name = 'ApiError';
    this.status = API_ERRORS[kind].status;
  }
}

function formatMessage(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(params[key] ?? `{${key}}`));
}
