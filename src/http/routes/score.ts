// POST /score and /v1/score: a batch of (question, response) pairs in, rewards out, input order.
// The same paths take vLLM's score bodies ({text_1, text_2} or {queries, documents}), told apart by
// their fields: a body with `items` is this service's; vLLM's are answered in vLLM's score shape.
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.ts';
import type { ExtractionMode } from '../../extract/fences.ts';
import type { ScoreItem } from '../../scorer.ts';
import type { Shaping } from '../../shape/shaping.ts';
import { documentedBody, timingHeaders } from '../openapi.ts';
import { extractionSchema, ignoredModelField, itemResultSchema, scoringErrorResponses, shapingSchema } from '../schemas.ts';
import { checkClientBatch, checkTextLength, checkTexts, clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';
import { checkPairTruncation, pairTexts, vllmList, vllmListSchema, vllmPassiveFields, vllmTextsSchema, type VllmPassive } from '../vllm-pairs.ts';

export interface ScoreBody extends VllmPassive {
  items?: ScoreItem[];
  extraction: ExtractionMode;
  shaping: Shaping;
  model?: string;
  text_1?: string | string[];
  text_2?: string | string[];
  queries?: string | string[];
  documents?: string | string[];
}

/** The vLLM pair fields, in the two spellings vLLM accepts. */
const VLLM_SHAPES: [string, string][] = [['text_1', 'text_2'], ['queries', 'documents']];

// One object schema for both shapes, so a wrong field is named by the validator; which shape a body
// is, and that it is exactly one, is checked in the handler.
export const scoreBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: "Exactly one of items (this service's shape), text_1 with text_2, or queries with documents (vLLM's).",
  properties: {
    items: {
      type: 'array',
      minItems: 1,
      description: 'At most MAX_CLIENT_BATCH items (422 above).',
      items: {
        type: 'object',
        required: ['question', 'response'],
        properties: { question: { type: 'string' }, response: { type: 'string', description: "The model's answer; the code is extracted from it." } },
      },
    },
    extraction: extractionSchema,
    shaping: shapingSchema,
    model: ignoredModelField,
    text_1: { ...vllmTextsSchema, description: "vLLM: the question(s)." },
    text_2: { ...vllmTextsSchema, description: "vLLM: the response(s); the code is extracted from each." },
    queries: { ...vllmTextsSchema, description: "vLLM (newer spelling of text_1): the question(s)." },
    documents: { ...vllmTextsSchema, description: "vLLM (newer spelling of text_2): the response(s)." },
    ...vllmPassiveFields,
  },
} as const;

const serviceScoreResponseSchema = {
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

const vllmScoreResponseSchema = vllmListSchema({
  type: 'object',
  required: ['index', 'object', 'score'],
  properties: { index: { type: 'integer' }, object: { type: 'string' }, score: { type: 'number', description: "The reward, as /v1/score's reward for the pair." } },
} as const);

export const scoreResponseSchema = {
  anyOf: [serviceScoreResponseSchema, vllmScoreResponseSchema],
  description: 'One result per item, in input order.',
  headers: timingHeaders,
} as const;

const add = (a: string) => `\`\`\`python\ndef add(a, b)${a}\n    return a + b\n\`\`\``;

/** What the two paths say in the document: the same handler, each with an example of one shape. */
const DOCS = {
  '/score': {
    operationId: 'score',
    summary: 'Rewards for a batch of (question, response) pairs, in input order.',
    description: [
      "Also takes vLLM's score bodies, told apart by their fields: `text_1`/`text_2` or `queries`/`documents`,",
      'each a string or a list (1 to 1, 1 to N with the one first text paired with each second text, or N to N',
      'in order). The first text is the question, the second the response; they are scored as `items` are',
      "(extraction and shaping apply, with the same defaults) and answered in vLLM's score shape, whose `score`",
      'is the reward (softplus of the logit, exactly 0 for invalid code). use_activation, activation and softmax',
      'are accepted and change nothing; truncate_prompt_tokens may be null or -1 (MAX_LENGTH), a positive count',
      'is a 400.',
    ].join('\n'),
    example: { items: [{ question: 'Add two numbers.', response: add(':') }, { question: 'Add two numbers.', response: add('') }] },
  },
  '/v1/score': {
    operationId: 'scoreV1',
    summary: "Same handler as /score (the example is vLLM's shape).",
    example: { model: 'code-reward', text_1: 'Add two numbers.', text_2: [add(':'), add('')] },
  },
} as const;

/** The body's pairs and whether it came in vLLM's shape; exactly one shape, complete, or a 400 naming the fields. */
function bodyPairs(body: ScoreBody): { items: ScoreItem[]; vllm: boolean } {
  const given = VLLM_SHAPES.filter(([a, b]) => body[a as keyof ScoreBody] !== undefined || body[b as keyof ScoreBody] !== undefined);
  if (body.items !== undefined) {
    if (given.length > 0) throw new InvalidRequestError(`body: items (this service's shape) or ${given[0].join('/')} (vLLM's), not both`);
    return { items: body.items, vllm: false };
  }
  if (given.length === 0) throw new InvalidRequestError("body: items is required (or vLLM's text_1 and text_2, or queries and documents)");
  if (given.length > 1) throw new InvalidRequestError('body: text_1/text_2 or queries/documents, not both');
  const [first, second] = given[0] as [keyof ScoreBody, keyof ScoreBody];
  for (const name of [first, second]) if (body[name] === undefined) throw new InvalidRequestError(`body: ${name} is required with ${name === first ? second : first}`);
  checkPairTruncation(body);
  return { items: pairTexts(body[first] as string | string[], body[second] as string | string[], [first, second]), vllm: true };
}

export default async function scoreRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  for (const [url, docs] of Object.entries(DOCS)) {
    app.post<{ Body: ScoreBody }>(url, {
      schema: { ...documentedBody(docs, scoreBodySchema), response: { 200: scoreResponseSchema, ...scoringErrorResponses } },
    }, async (request, reply) => {
      const { items, vllm } = bodyPairs(request.body);
      const field = vllm ? (request.body.text_2 !== undefined ? 'text_2' : 'documents') : 'items';
      checkClientBatch(ctx.config, field, items.length);
      if (vllm) {
        const [first, second] = VLLM_SHAPES.find(([a]) => request.body[a as keyof ScoreBody] !== undefined)!;
        checkTexts(ctx.config, first, request.body[first as keyof ScoreBody] as string | string[]);
        checkTexts(ctx.config, second, request.body[second as keyof ScoreBody] as string | string[]);
      } else {
        items.forEach((item, i) => {
          checkTextLength(ctx.config, `items/${i}/question`, item.question);
          checkTextLength(ctx.config, `items/${i}/response`, item.response);
        });
      }
      // vLLM's shape takes extraction and shaping too: a vLLM client sends neither and gets the defaults.
      const { extraction, shaping } = request.body;
      const outcome = await ctx.scorer.score(items, extraction, shaping, clientSignal(request, reply));
      setTimingHeaders(reply, outcome.timing);
      if (!vllm) return { model: ctx.modelName, results: outcome.results, usage: outcome.usage };
      const data = outcome.results.map((r, index) => ({ index, object: 'score', score: r.reward }));
      return vllmList('score', ctx.modelName, data, outcome.usage.prompt_tokens);
    });
  }
}
