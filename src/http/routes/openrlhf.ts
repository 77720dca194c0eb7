// POST /get_reward: OpenRLHF's remote reward model protocol. Each query is split back into the
// question (last user turn of its prompt) and the response (the query after the prompt), then scored
// as /v1/score does with its defaults (single_block extraction, softplus shaping).
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.ts';
import { documentedBody, timingHeaders } from '../openapi.ts';
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
    query: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Decoded prompt+response, special tokens kept; at most MAX_CLIENT_BATCH (422 above).' },
    prompts: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'The prompt each query starts with, one per query.' },
    labels: { type: 'array', description: 'Accepted and ignored: the reward model needs no reference answer.' },
  },
} as const;

const floats = { type: 'array', items: { type: 'number' } } as const;
const getRewardResponseSchema = {
  type: 'object',
  required: ['rewards', 'scores', 'extra_logs'],
  description: 'One reward per query, in input order.',
  headers: timingHeaders,
  properties: {
    rewards: { ...floats, description: "Shaped rewards, as /v1/score's reward." },
    scores: { ...floats, description: 'The same numbers (OpenRLHF filters on scores).' },
    extra_logs: {
      type: 'object',
      description: 'Per-query values OpenRLHF logs: 1 or 0.',
      required: ['valid', 'truncated'],
      properties: { valid: floats, truncated: floats },
    },
  },
} as const;

const prompt = '<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n';
const docs = {
  operationId: 'getReward',
  summary: "OpenRLHF's remote reward model protocol (--reward.remote_url http://host:8080/get_reward).",
  description: [
    'Each query is the decoded prompt+response with special tokens kept. The question is the last user turn',
    "of the prompt (the model's own chat template, or ChatML/Qwen, Llama-3.x, DeepSeek, Gemma, Mistral, Phi",
    'markers; a prompt with none is the question as a whole); the response is the query after its prompt, or,',
    "when the prompt was cut from the front, after the prompt's tail or the last assistant header, less",
    'trailing end-of-turn tokens. Unknown keys are ignored. A request may carry up to MAX_CLIENT_BATCH queries',
    'and is admitted to the queue in parts. Scored as /v1/score with its defaults (single_block, softplus).',
  ].join('\n'),
  example: {
    query: [`${prompt}\`\`\`python\ndef add(a, b):\n    return a + b\n\`\`\`<|im_end|>`],
    prompts: [prompt],
    labels: [''],
  },
};

export default async function openrlhfRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const split = await querySplitter((q, c) => ctx.preparer.renderChat(q, c), ctx.modelDir.specialTokens, ctx.modelDir.tokenizerConfig.eos_token);

  app.post<{ Body: GetRewardBody }>('/get_reward', {
    schema: {
      ...documentedBody(docs, getRewardBodySchema),
      response: { 200: getRewardResponseSchema, ...scoringErrorResponses },
    },
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
