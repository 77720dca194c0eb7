// The one error handler: every error becomes `{"error": message, "code": CODE}` with the status of
// its code. 5xx bodies never carry internals; the log has them. Messages are written for the person
// who sent the request: they name the field, the allowed values, the limit and its setting.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { ERROR_STATUS, ServiceError, type ErrorCode } from '../errors.ts';
import { LocalizationInputError } from '../localization/errors.ts';
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

/** Methods a 405 may list in Allow. */
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const EXPECTED_503: ReadonlySet<ErrorCode> = new Set(['overloaded', 'shutting_down']);

/**
 * What every other 5xx answers: its own message comes from an exception (a worker's, ONNX Runtime's)
 * and goes to the log only. The expected 503s' messages are composed from settings and go out as they are.
 */
const PUBLIC_5XX: Partial<Record<ErrorCode, string>> = {
  model_unavailable: 'the model worker is restarting; retry after Retry-After seconds',
  inference_failed: 'inference failed for this batch; the service log has the cause',
};
const INTERNAL_MESSAGE = 'internal error; the service log has the cause';

export interface ErrorBody {
  error: string;
  code: ErrorCode;
}

/** What the handler knows of the app's limits, for messages that name them. */
export interface ErrorContext {
  bodyLimit?: number;
  requestTimeoutMs?: number;
}

/** One Ajv error as a sentence: enums list their values, unknown fields are named. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0] as { instancePath?: string; keyword?: string; params?: Record<string, unknown>; message?: string } | undefined;
  if (!first) return err.message;
  const at = `${err.validationContext ?? 'body'}${first.instancePath ?? ''}`;
  if (first.keyword === 'enum' && Array.isArray(first.params?.allowedValues)) {
    return `${at} must be one of ${first.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (first.keyword === 'additionalProperties' && typeof first.params?.additionalProperty === 'string') {
    return `${at} has an unknown field ${JSON.stringify(first.params.additionalProperty)}`;
  }
  return err.message;
}

function fastifyMessage(fe: FastifyError, code: ErrorCode, ctx: ErrorContext): string {
  if (code === 'unsupported_media_type') {
    return 'request bodies are read only as JSON: send Content-Type: application/json (a body of another type, or of none, is refused)';
  }
  if (code === 'body_too_large' && ctx.bodyLimit !== undefined) {
    return `request body is larger than BODY_LIMIT (${ctx.bodyLimit} bytes); send fewer items per request or raise BODY_LIMIT`;
  }
  return fe.message;
}

export function toErrorBody(err: unknown, ctx: ErrorContext = {}): { status: number; body: ErrorBody; retryAfterS?: number } {
  if (err instanceof ServiceError) {
    const message = err.status < 500 || EXPECTED_503.has(err.code) ? err.message : (PUBLIC_5XX[err.code] ?? INTERNAL_MESSAGE);
    return { status: err.status, body: { error: message, code: err.code }, retryAfterS: err.retryAfterS };
  }
  if (err instanceof LocalizationInputError) {
    // Into the closed set; the localization code stays in the message for humans.
    return { status: err.status, body: { error: `body/${err.message} (${err.code})`, code: err.serviceCode } };
  }
  const fe = err as FastifyError;
  if (fe?.validation) {
    return { status: 400, body: { error: validationMessage(fe), code: 'invalid_request' } };
  }
  const mapped = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return { status: ERROR_STATUS[mapped], body: { error: fastifyMessage(fe, mapped, ctx), code: mapped } };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: 400, body: { error: fe.message, code: 'invalid_request' } };
  }
  return { status: 500, body: { error: INTERNAL_MESSAGE, code: 'internal' } };
}

/** Node's parser errors, raised before there is a request to answer (no route, no hooks). */
function clientError(err: NodeJS.ErrnoException, ctx: ErrorContext): ServiceError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ServiceError('request_timeout', `the request was not received within REQUEST_TIMEOUT_MS (${ctx.requestTimeoutMs} ms); the connection is closed`);
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return new ServiceError('headers_too_large', 'request headers are larger than the server reads (16 KiB)');
  return new ServiceError('invalid_request', 'malformed HTTP request');
}

/**
 * Fastify's clientErrorHandler: the same JSON shape as every other error, written on the socket,
 * which is then closed (what it held is freed with it).
 */
export function clientErrorHandler(ctx: ErrorContext, metrics: () => Metrics | undefined): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, body } = toErrorBody(clientError(err, ctx), ctx);
    metrics()?.errors.inc({ code: body.code });
    if (socket.writable) {
      const json = JSON.stringify(body);
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
    }
    socket.destroy();
  };
}

/** `metrics` is undefined only for an error that precedes the engine (none reaches a route before it). */
export function sendError(reply: FastifyReply, metrics: Metrics | undefined, err: unknown, ctx: ErrorContext = {}): FastifyReply {
  const { status, body, retryAfterS } = toErrorBody(err, ctx);
  metrics?.errors.inc({ code: body.code });
  if (retryAfterS !== undefined) reply.header('retry-after', String(retryAfterS));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

export function registerErrorHandling(app: FastifyInstance, metrics: Metrics, ctx: ErrorContext): void {
  app.setErrorHandler((err, request: FastifyRequest, reply) => {
    const { status } = toErrorBody(err, ctx);
    // Overload and drain are the service working as designed: one line, no stack, for each.
    if (err instanceof ServiceError && EXPECTED_503.has(err.code)) request.log.warn({ code: err.code, url: request.url }, err.message);
    else if (status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, metrics, err, ctx);
  });
  // A path that exists under other methods is a 405 naming them (GET /score: the route is POST).
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = METHODS.filter((method) => app.hasRoute({ method, url: path }));
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(reply, metrics, new ServiceError('method_not_allowed', `${request.method} ${path} is not served; use ${allowed.filter((m) => m !== 'HEAD').join(' or ')} (the routes and their bodies: GET /docs)`));
    }
    return sendError(reply, metrics, new ServiceError('not_found', `no route ${request.method} ${path}; the routes and their bodies: GET /docs`));
  });
}
