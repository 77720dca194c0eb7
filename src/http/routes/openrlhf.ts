// POST /get_reward: OpenRLHF's remote reward model protocol. Each query is split back into the
// question (last user turn of its prompt) and the response (the query after the prompt), then scored
// as /v1/score does with its defaults (single_block extraction, softplus shaping).
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.ts';
import { scoringErrorResponses } from '../schemas.ts';
import { checkClientBatch, checkTexts, clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';
import { querySplitter } from '../../prompt/chat-turns.ts';

interface GetRewardBody {
  query: string[];
  prompts: string[];
  labels?: unknown[];
}

const getRewardBodySchema = {
  type: 'object',
  required: ['query', 'prompts'],
  // Open: newer OpenRLHF releases add keys; what is not used here is ignored.
  properties: {
    query: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Decoded prompt+response, special tokens kept.' },
    prompts: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'The prompt each query starts with.' },
    labels: { type: 'array', description: 'Accepted and ignored: the reward model needs no reference answer.' },
  },
} as const;

const floats = { type: 'array', items: { type: 'number' } } as const;
const getRewardResponseSchema = {
  type: 'object',
  required: ['rewards', 'scores', 'extra_logs'],
  properties: {
    rewards: floats,
    scores: floats,
    extra_logs: {
      type: 'object',
      required: ['valid', 'truncated'],
      properties: { valid: floats, truncated: floats },
    },
  },
} as const;

export default async function openrlhfRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const split = await querySplitter((q, c) => ctx.preparer.renderChat(q, c), ctx.modelDir.specialTokens, ctx.modelDir.tokenizerConfig.eos_token);

  app.post<{ Body: GetRewardBody }>('/get_reward', {
    schema: { body: getRewardBodySchema, response: { 200: getRewardResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => {
    const { query, prompts } = request.body;
    if (query.length !== prompts.length) throw new InvalidRequestError(`body/prompts: ${prompts.length} prompts for ${query.length} queries; they must pair up`);
    checkClientBatch(ctx.config, 'query', query.length);
    checkTexts(ctx.config, 'query', query);
    checkTexts(ctx.config, 'prompts', prompts);
    const items = query.map((q, i) => {
      const { question, response } = split(q, prompts[i]);
      if (response === undefined) throw new InvalidRequestError(`body/query/${i}: neither starts with body/prompts/${i} nor holds its tail or an assistant turn`);
      return { question, response };
    });
    const outcome = await ctx.scorer.score(items, 'single_block', 'softplus', clientSignal(request, reply));
    setTimingHeaders(reply, outcome.timing);
    const rewards = outcome.results.map((r) => r.reward);
    return {
      rewards,
      scores: rewards,
      extra_logs: {
        valid: outcome.results.map((r) => (r.valid ? 1 : 0)),
        truncated: outcome.results.map((r) => (r.truncated ? 1 : 0)),
      },
    };
  });
}
