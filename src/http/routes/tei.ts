// POST /rerank as text-embeddings-inference serves it: the query is the question, each text a
// candidate response, scored as /v1/score scores it (extraction included) and sorted best first.
// Invalid code keeps its floor: its score is 0, which is below every valid candidate's sigmoid and
// softplus, so it ranks last whatever raw_scores says.
import type { FastifyInstance } from 'fastify';
import { ServiceError, TooManyItemsError } from '../../errors.ts';
import type { ExtractionMode } from '../../extract/fences.ts';
import { sigmoid } from '../../shape/shaping.ts';
import { extractionSchema, scoringErrorResponses } from '../schemas.ts';
import { clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';
import { rankIndices } from './rank.ts';

interface RerankBody {
  query: string;
  texts: string[];
  raw_scores: boolean;
  truncate: boolean | null;
  return_text: boolean;
  extraction: ExtractionMode;
}

// Open to unknown fields, as TEI is (it ignores what it does not know).
const rerankBodySchema = {
  type: 'object',
  required: ['query', 'texts'],
  properties: {
    query: { type: 'string', description: 'The question.' },
    texts: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Candidate responses; the code is extracted from each.' },
    raw_scores: { type: 'boolean', default: false, description: 'true: the reward itself (softplus of the logit, 0 for invalid code); false: sigmoid of the logit, 0 for invalid code.' },
    truncate: { type: ['boolean', 'null'], default: true, description: 'false: a prompt longer than MAX_LENGTH is refused with 422 instead of right-truncated (TEI auto-truncates by default).' },
    truncation_direction: { type: 'string', enum: ['Right', 'right'], default: 'Right', description: 'Only right truncation, as the reward model was trained.' },
    return_text: { type: 'boolean', default: false },
    extraction: { ...extractionSchema, description: 'Not in TEI: how code is taken from each text (single_block by default, as /v1/score; none for bare code).' },
  },
} as const;

const rerankResponseSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['index', 'score'],
    properties: { index: { type: 'integer' }, score: { type: 'number' }, text: { type: 'string' } },
  },
} as const;

export default async function teiRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  app.post<{ Body: RerankBody }>('/rerank', {
    schema: { body: rerankBodySchema, response: { 200: rerankResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => {
    const { query, texts, raw_scores, truncate, return_text, extraction } = request.body;
    if (texts.length > ctx.config.MAX_CLIENT_BATCH) throw new TooManyItemsError('texts', texts.length, ctx.config.MAX_CLIENT_BATCH);
    const outcome = await ctx.scorer.score(texts.map((text) => ({ question: query, response: text })), extraction, 'softplus', clientSignal(request, reply));
    // The length is only known once the prompt is built, so an over-long input is refused after scoring.
    const long = outcome.results.findIndex((r) => r.truncated);
    if (truncate === false && long >= 0) {
      throw new ServiceError('unprocessable', `body/texts/${long}: the prompt is longer than MAX_LENGTH (${ctx.config.MAX_LENGTH} tokens) and truncate is false`);
    }
    setTimingHeaders(reply, outcome.timing);
    const scores = outcome.results.map((r) => (raw_scores ? r.reward : r.valid && r.raw_score !== null ? sigmoid(r.raw_score) : 0));
    return rankIndices(scores).map((index) => ({ index, score: scores[index], ...(return_text && { text: texts[index] }) }));
  });
}
