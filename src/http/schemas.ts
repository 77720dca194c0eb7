// JSON schemas shared by routes: Fastify compiles them once into validators and serializers, and
// @fastify/swagger writes them into the OpenAPI document (openapi.ts), descriptions included. Enums come from the const arrays the
// types derive from, so a value is added in one place.
import type { RouteOptions } from 'fastify';
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import { EXTRACTION_MODES } from '../extract/fences.ts';
import { ITEM_STATUSES } from '../prep/prepare.ts';
import { SHAPINGS } from '../shape/shaping.ts';

export const errorSchema = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'What went wrong, naming the field where a field is at fault.' },
    code: { type: 'string', enum: Object.keys(ERROR_STATUS) as ErrorCode[] },
  },
} as const;

/** `model` in a request body: OpenAI-style clients always send one. */
export const ignoredModelField = { type: 'string', description: 'Accepted and ignored: the service serves one model.' } as const;

/** OpenAI-style usage of an answer that generates nothing. */
export const promptUsageSchema = {
  type: 'object',
  required: ['prompt_tokens', 'total_tokens'],
  properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
} as const;

export const extractionSchema = {
  type: 'string',
  enum: EXTRACTION_MODES,
  default: 'single_block',
  description: 'single_block: exactly one fenced block (RL training); last_block: the last fenced block (evaluation); none: the whole response, stripped, is the code.',
} as const;
export const shapingSchema = {
  type: 'string',
  enum: SHAPINGS,
  default: 'softplus',
  description: 'softplus: softplus(raw) for valid code and exactly 0 for invalid code (which skips the model); none: the raw logit.',
} as const;

export const itemResultSchema = {
  type: 'object',
  required: ['reward', 'raw_score', 'valid', 'status', 'truncated', 'prompt_tokens'],
  properties: {
    reward: { type: 'number' },
    raw_score: { type: ['number', 'null'], description: "The model's logit; null when the item skipped the model." },
    valid: { type: 'boolean' },
    status: { type: 'string', enum: ITEM_STATUSES },
    truncated: { type: 'boolean', description: 'The prompt was right-truncated at MAX_LENGTH.' },
    prompt_tokens: { type: 'integer' },
    detail: {
      type: 'object',
      description: 'Present on syntax_error.',
      required: ['line', 'message'],
      properties: { line: { type: 'integer' }, message: { type: 'string' } },
    },
  },
} as const;

const described = (description: string) => ({ ...errorSchema, description }) as const;

export const INVALID_REQUEST = described('Malformed JSON, wrong types or empty items; the message names the field.');
export const UNAUTHORIZED = described('API_KEY is set and the bearer token is missing or wrong.');
export const BODY_TOO_LARGE = described('Body over BODY_LIMIT, or one text field over MAX_TEXT_CHARS (the error names the field and the setting).');
export const TOO_MANY_ITEMS = described('More items than MAX_CLIENT_BATCH.');
export const INFERENCE_FAILED = described('ONNX Runtime failed on the batch the items ran in.');
export const UNAVAILABLE = {
  ...described('Overloaded (no room in the queue within ADMISSION_TIMEOUT_MS), model worker restarting, or shutting down; retry after Retry-After seconds.'),
  headers: { 'retry-after': { type: 'integer', description: 'Seconds to wait before retrying.' } },
} as const;

const FORBIDDEN_ORIGIN = described('The request carries an Origin (it comes from a web page) that CORS_ORIGINS does not list.');
const UNSUPPORTED_MEDIA_TYPE = described('The body is not sent as JSON (Content-Type: application/json), a body without a Content-Type included, or its Content-Encoding is neither gzip nor deflate.');

/**
 * The answers every route can give, added to each route's schema as it is registered so the document
 * lists them: 403 for a request from a web page CORS_ORIGINS does not list, and on routes that take a
 * body, 415 for a body that is not JSON.
 */
export function addCommonResponses(route: RouteOptions): void {
  const takesBody = [route.method].flat().includes('POST');
  route.schema = {
    ...route.schema,
    response: { ...(route.schema?.response as object), 403: FORBIDDEN_ORIGIN, ...(takesBody && { 415: UNSUPPORTED_MEDIA_TYPE }) },
  };
}

/** Error answers every scoring route can give. */
export const scoringErrorResponses = {
  400: INVALID_REQUEST,
  401: UNAUTHORIZED,
  413: BODY_TOO_LARGE,
  422: TOO_MANY_ITEMS,
  500: INFERENCE_FAILED,
  503: UNAVAILABLE,
} as const;
