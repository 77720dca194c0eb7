// POST /v1/rank: best-of-N. One question, N candidate responses, ranked by shaped reward.
import type { FastifyInstance } from 'fastify';
import type { ExtractionMode } from '../../extract/fences.ts';
import { rankIndices } from '../../shape/rank.ts';
import type { Shaping } from '../../shape/shaping.ts';
import { documentedBody, timingHeaders } from '../openapi.ts';
import { extractionSchema, ignoredModelField, itemResultSchema, scoringErrorResponses, shapingSchema } from '../schemas.ts';
import { checkClientBatch, checkTexts, clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';

interface RankBody {
  question: string;
  responses: string[];
  extraction: ExtractionMode;
  shaping: Shaping;
  model?: string;
}

const rankBodySchema = {
  type: 'object',
  required: ['question', 'responses'],
  additionalProperties: false,
  properties: {
    question: { type: 'string' },
    responses: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'At most MAX_CLIENT_BATCH responses (422 above).' },
    extraction: extractionSchema,
    shaping: shapingSchema,
    model: ignoredModelField,
  },
} as const;

const rankResponseSchema = {
  type: 'object',
  required: ['model', 'best', 'ranking', 'results'],
  description: 'The ranking and one result per response, in input order.',
  headers: timingHeaders,
  properties: {
    model: { type: 'string' },
    best: { type: 'integer', description: 'Index of the highest reward (the first in input order among equals).' },
    ranking: { type: 'array', items: { type: 'integer' }, description: 'Indices of the responses, highest reward first; equal rewards keep input order.' },
    results: { type: 'array', items: itemResultSchema, description: 'One per response, in input order, as /v1/score answers.' },
  },
} as const;

const docs = {
  operationId: 'rank',
  summary: 'Best-of-N: one question, N candidate responses, ranked by shaped reward (highest first, ties in input order).',
  example: {
    question: 'Add two numbers.',
    responses: ['```python\ndef add(a, b):\n    return a - b\n```', '```python\ndef add(a, b):\n    return a + b\n```', 'I would rather not.'],
  },
};

export default async function rankRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  app.post<{ Body: RankBody }>('/v1/rank', {
    schema: { ...documentedBody(docs, rankBodySchema), response: { 200: rankResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => {
    const { question, responses, extraction, shaping } = request.body;
    checkClientBatch(ctx.config, 'responses', responses.length);
    checkTexts(ctx.config, 'question', question);
    checkTexts(ctx.config, 'responses', responses);
    const items = responses.map((response) => ({ question, response }));
    const outcome = await ctx.scorer.score(items, extraction, shaping, clientSignal(request, reply));
    setTimingHeaders(reply, outcome.timing);
    const ranking = rankIndices(outcome.results.map((r) => r.reward));
    return { model: ctx.modelName, best: ranking[0], ranking, results: outcome.results };
  });
}
