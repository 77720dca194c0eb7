// POST /score and /v1/score: a batch of (question, response) pairs in, rewards out, input order.
import type { FastifyInstance } from 'fastify';
import { TooManyItemsError } from '../../errors.ts';
import type { ExtractionMode } from '../../extract/fences.ts';
import type { ScoreItem } from '../../scorer.ts';
import type { Shaping } from '../../shape/shaping.ts';
import { extractionSchema, itemResultSchema, scoringErrorResponses, shapingSchema } from '../schemas.ts';
import { clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';

export interface ScoreBody {
  items: ScoreItem[];
  extraction: ExtractionMode;
  shaping: Shaping;
  model?: string;
}

export const scoreBodySchema = {
  type: 'object',
  required: ['items'],
  additionalProperties: false,
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['question', 'response'],
        properties: { question: { type: 'string' }, response: { type: 'string' } },
      },
    },
    extraction: extractionSchema,
    shaping: shapingSchema,
    model: { type: 'string', description: 'Accepted and ignored: the service serves one model.' },
  },
} as const;

export const scoreResponseSchema = {
  type: 'object',
  required: ['model', 'results', 'usage'],
  properties: {
    model: { type: 'string' },
    results: { type: 'array', items: itemResultSchema },
    usage: {
      type: 'object',
      required: ['prompt_tokens', 'scored_items', 'skipped_items'],
      properties: { prompt_tokens: { type: 'integer' }, scored_items: { type: 'integer' }, skipped_items: { type: 'integer' } },
    },
  },
} as const;

export default async function scoreRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  for (const url of ['/score', '/v1/score']) {
    app.post<{ Body: ScoreBody }>(url, {
      schema: { body: scoreBodySchema, response: { 200: scoreResponseSchema, ...scoringErrorResponses } },
    }, async (request, reply) => {
      const { items, extraction, shaping } = request.body;
      if (items.length > ctx.config.MAX_CLIENT_BATCH) throw new TooManyItemsError('items', items.length, ctx.config.MAX_CLIENT_BATCH);
      const outcome = await ctx.scorer.score(items, extraction, shaping, clientSignal(request, reply));
      setTimingHeaders(reply, outcome.timing);
      return { model: ctx.modelName, results: outcome.results, usage: outcome.usage };
    });
  }
}
