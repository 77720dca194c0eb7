// The one error handler: every error becomes `{"error": message, "code": CODE}` with the status of
// its code. 5xx bodies never carry internals; the log has them.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, ServiceError, type ErrorCode } from '../errors.ts';
import type { Metrics } from '../metrics.ts';

/** Fastify's own error codes that reach the handler, mapped into the closed set. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request',
  // A gzip or deflate request body that does not inflate.
  Z_DATA_ERROR: 'invalid_request',
  Z_BUF_ERROR: 'invalid_request',
};

const EXPECTED_503: ReadonlySet<ErrorCode> = new Set(['overloaded', 'shutting_down']);

export interface ErrorBody {
  error: string;
  code: ErrorCode;
}

export function toErrorBody(err: unknown): { status: number; body: ErrorBody; retryAfterS?: number } {
  if (err instanceof ServiceError) {
    const body = { error: err.message, code: err.code };
    return { status: err.status, body, retryAfterS: err.retryAfterS };
  }
  const fe = err as FastifyError;
  if (fe?.validation) {
    return { status: 400, body: { error: fe.message, code: 'invalid_request' } };
  }
  const mapped = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return { status: ERROR_STATUS[mapped], body: { error: fe.message, code: mapped } };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: 400, body: { error: fe.message, code: 'invalid_request' } };
  }
  return { status: 500, body: { error: 'internal error', code: 'internal' } };
}

export function sendError(reply: FastifyReply, metrics: Metrics, err: unknown): FastifyReply {
  const { status, body, retryAfterS } = toErrorBody(err);
  metrics.errors.inc({ code: body.code });
  if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

export function registerErrorHandling(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((err, request: FastifyRequest, reply) => {
    const { status } = toErrorBody(err);
    // Overload and drain are the service working as designed: one line, no stack, for each.
    if (err instanceof ServiceError && EXPECTED_503.has(err.code)) request.log.warn({ code: err.code, url: request.url }, err.message);
    else if (status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, metrics, err);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, metrics, new ServiceError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
