// POST /rerank as text-embeddings-inference serves it: the query is the question, each text a
// candidate response, scored as /v1/score scores it (extraction included) and sorted best first.
// Invalid code keeps its floor: its score is 0, which is below every valid candidate's sigmoid and
// softplus, so it ranks last whatever raw_scores says.
// The same handler serves /v1/rerank and /v2/rerank, and takes vLLM's (Jina's, Cohere's) body,
// {model, query, documents, top_n}: called with `documents` it answers in vLLM's rerank shape, whose
// relevance_score is the reward (see vllm-pairs.ts); called with `texts` it answers as TEI.
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, ServiceError } from '../../errors.ts';
import type { ExtractionMode } from '../../extract/fences.ts';
import { rankIndices } from '../../shape/rank.ts';
import { sigmoid } from '../../shape/shaping.ts';
import { documentedBody, timingHeaders } from '../openapi.ts';
import { extractionSchema, promptUsageSchema, scoringErrorResponses, TOO_MANY_ITEMS } from '../schemas.ts';
import { checkClientBatch, checkTexts, clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';
import { checkPairTruncation, vllmId, vllmPassiveFields, type VllmPassive } from '../vllm-pairs.ts';

interface RerankBody extends VllmPassive {
  query: string;
  texts?: string[];
  documents?: string[];
  top_n?: number;
  raw_scores: boolean;
  truncate: boolean | null;
  return_text: boolean;
  extraction: ExtractionMode;
}

// Open to unknown fields, as TEI is (it ignores what it does not know).
const rerankBodySchema = {
  type: 'object',
  required: ['query'],
  description: 'Exactly one of texts (TEI) or documents (vLLM, Jina, Cohere). Unknown fields are ignored, as TEI does.',
  properties: {
    query: { type: 'string', description: 'The question.' },
    texts: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'TEI: candidate responses, at most MAX_CLIENT_BATCH (422 above); the code is extracted from each.' },
    documents: { type: 'array', minItems: 1, items: { type: 'string' }, description: "vLLM, Jina, Cohere: candidate responses, as texts; answered in vLLM's rerank shape." },
    top_n: { type: 'integer', description: 'With documents: the best top_n only; 0, negative or absent for all, as vLLM.' },
    ...vllmPassiveFields,
    raw_scores: { type: 'boolean', default: false, description: 'true: the reward itself (softplus of the logit, 0 for invalid code); false: sigmoid of the logit, 0 for invalid code.' },
    truncate: { type: ['boolean', 'null'], default: true, description: 'false: a prompt longer than MAX_LENGTH is refused with 422 instead of right-truncated (TEI auto-truncates by default).' },
    truncation_direction: { type: 'string', enum: ['Right', 'right'], default: 'Right', description: 'Only right truncation, as the reward model was trained.' },
    return_text: { type: 'boolean', default: false },
    extraction: { ...extractionSchema, description: 'Not in TEI: how code is taken from each text (single_block by default, as /v1/score; none for bare code).' },
  },
} as const;

const teiRerankResponseSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['index', 'score'],
    properties: { index: { type: 'integer' }, score: { type: 'number' }, text: { type: 'string', description: 'Present with return_text.' } },
  },
} as const;

const vllmRerankResponseSchema = {
  type: 'object',
  required: ['id', 'model', 'usage', 'results'],
  properties: {
    id: { type: 'string' },
    model: { type: 'string' },
    usage: promptUsageSchema,
    results: {
      type: 'array',
      description: 'Best first.',
      items: {
        type: 'object',
        required: ['index', 'document', 'relevance_score'],
        properties: {
          index: { type: 'integer' },
          document: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
          relevance_score: { type: 'number', description: "The reward, as /v1/score's reward for the pair." },
        },
      },
    },
  },
} as const;

const rerankResponseSchema = {
  anyOf: [teiRerankResponseSchema, vllmRerankResponseSchema],
  description: 'One entry per text, sorted by score, highest first.',
  headers: timingHeaders,
} as const;

const candidatesExample = ['```python\ndef add(a, b):\n    return a - b\n```', '```python\ndef add(a, b):\n    return a + b\n```'];
const vllmDocs = { summary: "Same handler as /rerank (the example is vLLM's shape).", example: { query: 'Add two numbers.', documents: candidatesExample, top_n: 1 } };

/** The three paths of one handler, each with an example of one shape. */
const DOCS = {
  '/rerank': {
    operationId: 'rerank',
    summary: "text-embeddings-inference's rerank: the query is the question, each text a candidate response.",
    description: [
      'Each text is scored as /v1/score scores a response (the code is extracted with `extraction`,',
      'single_block by default; send `"extraction": "none"` for bare code). The score is the sigmoid of the',
      "reward model's logit, or with raw_scores the reward itself (softplus of the logit). Invalid code (no",
      'block, several blocks, empty, syntax error) scores exactly 0 either way, below every valid candidate,',
      "and so ranks last. Sorted by score, highest first, ties in input order. Called with vLLM's (Jina's,",
      "Cohere's) `documents` instead of `texts`, it answers in vLLM's rerank shape, whose relevance_score is",
      'the reward (softplus of the logit, 0 for invalid code), best first, the best top_n when top_n > 0.',
    ].join('\n'),
    example: { query: 'Add two numbers.', texts: candidatesExample, raw_scores: false },
  },
  '/v1/rerank': { operationId: 'rerankV1', ...vllmDocs },
  '/v2/rerank': { operationId: 'rerankV2', ...vllmDocs },
} as const;

/** 422 here also covers truncate: false with a prompt over MAX_LENGTH. */
const TOO_MANY_OR_TOO_LONG = {
  ...TOO_MANY_ITEMS,
  description: 'More items than MAX_CLIENT_BATCH (too_many_items), or a prompt longer than MAX_LENGTH with truncate false (unprocessable).',
} as const;

/** The candidates and the field they came in: exactly one of TEI's texts or vLLM's documents. */
function candidates(body: RerankBody): { field: 'texts' | 'documents'; list: string[] } {
  if ((body.texts === undefined) === (body.documents === undefined)) {
    throw new InvalidRequestError("body: exactly one of texts (TEI) or documents (vLLM) is required");
  }
  if (body.documents !== undefined) {
    checkPairTruncation(body);
    return { field: 'documents', list: body.documents };
  }
  return { field: 'texts', list: body.texts! };
}

export default async function teiRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  for (const [url, docs] of Object.entries(DOCS)) app.post<{ Body: RerankBody }>(url, {
    schema: { ...documentedBody(docs, rerankBodySchema), response: { 200: rerankResponseSchema, ...scoringErrorResponses, 422: TOO_MANY_OR_TOO_LONG } },
  }, async (request, reply) => {
    const { query, raw_scores, truncate, return_text, extraction } = request.body;
    const { field, list: texts } = candidates(request.body);
    checkClientBatch(ctx.config, field, texts.length);
    checkTexts(ctx.config, 'query', query);
    checkTexts(ctx.config, field, texts);
    const outcome = await ctx.scorer.score(texts.map((text) => ({ question: query, response: text })), extraction, 'softplus', clientSignal(request, reply));
    // The length is only known once the prompt is built, so an over-long input is refused after scoring.
    const long = outcome.results.findIndex((r) => r.truncated);
    if (truncate === false && long >= 0) {
      throw new ServiceError('unprocessable', `body/${field}/${long}: the prompt is longer than MAX_LENGTH (${ctx.config.MAX_LENGTH} tokens) and truncate is false`);
    }
    setTimingHeaders(reply, outcome.timing);
    if (field === 'documents') {
      const rewards = outcome.results.map((r) => r.reward);
      const topN = request.body.top_n ?? 0;
      const top = topN > 0 ? rankIndices(rewards).slice(0, topN) : rankIndices(rewards);
      const tokens = outcome.usage.prompt_tokens;
      return {
        id: vllmId('rerank'),
        model: ctx.modelName,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
        results: top.map((index) => ({ index, document: { text: texts[index] }, relevance_score: rewards[index] })),
      };
    }
    const scores = outcome.results.map((r) => (raw_scores ? r.reward : r.valid && r.raw_score !== null ? sigmoid(r.raw_score) : 0));
    return rankIndices(scores).map((index) => ({ index, score: scores[index], ...(return_text && { text: texts[index] }) }));
  });
}
