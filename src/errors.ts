// The closed set of errors the service answers with. Each has a stable code; one table maps codes to
// HTTP statuses, and the error handler in src/http/errors.ts is the only place that writes them.
// Localization's finer codes for bad input (src/localization/errors.ts) each answer as one of these.

export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden_origin: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  body_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  too_many_items: 422,
  client_closed: 499,
  unprocessable: 422,
  overloaded: 503,
  model_unavailable: 503,
  shutting_down: 503,
  inference_failed: 500,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ServiceError extends Error {
  readonly status: number;
  /** Seconds a client should wait before retrying (sent as Retry-After on 503s). */
  readonly retryAfterS?: number;

  constructor(readonly code: ErrorCode, message: string, opts: { retryAfterS?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'ServiceError';
    this.status = ERROR_STATUS[code];
    this.retryAfterS = opts.retryAfterS;
  }
}

export class InvalidRequestError extends ServiceError {
  constructor(message: string) {
    super('invalid_request', message);
    this.name = 'InvalidRequestError';
  }
}

export class TooManyItemsError extends ServiceError {
  constructor(field: string, count: number, limit: number) {
    super('too_many_items', `${field}: ${count} items, more than the limit of ${limit} (MAX_CLIENT_BATCH)`);
    this.name = 'TooManyItemsError';
  }
}

/** One field of the body is longer than MAX_TEXT_CHARS (a 413 naming the field and the setting). */
export class TextTooLongError extends ServiceError {
  constructor(field: string, length: number, limit: number, unit = 'characters') {
    super('body_too_large', `body/${field}: ${length} ${unit}, more than the limit of ${limit} (MAX_TEXT_CHARS)`);
    this.name = 'TextTooLongError';
  }
}

export class OverloadedError extends ServiceError {
  constructor(waiting: number, limit: number, retryAfterS: number) {
    super('overloaded', `queue full: ${waiting} items waiting, limit ${limit} (MAX_QUEUE_ITEMS); retry later`, { retryAfterS });
    this.name = 'OverloadedError';
  }
}

export class ShuttingDownError extends ServiceError {
  constructor(retryAfterS: number) {
    super('shutting_down', 'the service is shutting down; retry on another replica', { retryAfterS });
    this.name = 'ShuttingDownError';
  }
}

/** The model worker died or restarted while the item was in its batch. */
export class ModelUnavailableError extends ServiceError {
  constructor(reason: string, retryAfterS: number) {
    super('model_unavailable', `model worker unavailable: ${reason}`, { retryAfterS });
    this.name = 'ModelUnavailableError';
  }
}

/** ONNX Runtime threw on the item's batch; the batch's items fail, the next batch runs. */
export class InferenceFailedError extends ServiceError {
  constructor(reason: string) {
    super('inference_failed', `inference failed for this batch: ${reason}`);
    this.name = 'InferenceFailedError';
  }
}

/** The client went away before its item ran (499, as nginx logs it); nobody reads the answer. */
export class CancelledError extends ServiceError {
  constructor() {
    super('client_closed', 'client disconnected before its items ran');
    this.name = 'CancelledError';
  }
}
