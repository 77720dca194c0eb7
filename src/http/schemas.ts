// JSON schemas shared by routes: Fastify compiles them once into validators and serializers, and
// the OpenAPI contract test compares them with openapi.yaml. Enums come from the const arrays the
// types derive from, so a value is added in one place.
import type { RouteOptions } from 'fastify';
import { EXTRACTION_MODES } from '../extract/fences.ts';
import { ITEM_STATUSES } from '../prep/prepare.ts';
import { SHAPINGS } from '../shape/shaping.ts';

export const errorSchema = {
  type: 'object',
  required: ['error', 'code'],
  properties: { error: { type: 'string' }, code: { type: 'string' } },
} as const;

/**
 * The answers every route can give, added to each route's schema as it is registered so the contract
 * lists them: 403 for a request from a web page CORS_ORIGINS does not list, and on routes that take a
 * body, 415 for a body that is not JSON.
 */
export function addCommonResponses(route: RouteOptions): void {
  const takesBody = [route.method].flat().some((m) => m === 'POST');
  route.schema = {
    ...route.schema,
    response: { ...(route.schema?.response as object), 403: errorSchema, ...(takesBody && { 415: errorSchema }) },
  };
}

/** `model` in a request body: OpenAI-style clients always send one. */
export const ignoredModelField = { type: 'string', description: 'Accepted and ignored: the service serves one model.' } as const;

/** OpenAI-style usage of an answer that generates nothing. */
export const promptUsageSchema = {
  type: 'object',
  required: ['prompt_tokens', 'total_tokens'],
  properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
} as const;

export const extractionSchema = { type: 'string', enum: EXTRACTION_MODES, default: 'single_block' } as const;
export const shapingSchema = { type: 'string', enum: SHAPINGS, default: 'softplus' } as const;

export const itemResultSchema = {
  type: 'object',
  required: ['reward', 'raw_score', 'valid', 'status', 'truncated', 'prompt_tokens'],
  properties: {
    reward: { type: 'number' },
    raw_score: { type: ['number', 'null'] },
    valid: { type: 'boolean' },
    status: { type: 'string', enum: ITEM_STATUSES },
    truncated: { type: 'boolean' },
    prompt_tokens: { type: 'integer' },
    detail: {
      type: 'object',
      required: ['line', 'message'],
      properties: { line: { type: 'integer' }, message: { type: 'string' } },
    },
  },
} as const;

/** Error answers every scoring route can give. */
export const scoringErrorResponses = {
  400: errorSchema,
  401: errorSchema,
  413: errorSchema,
  422: errorSchema,
  500: errorSchema,
  503: errorSchema,
} as const;
