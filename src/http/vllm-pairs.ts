// vLLM's score and rerank bodies, read as (question, response) pairs for the reward model: the first
// text (text_1, queries, query) is the question, the second (text_2, documents) the response, scored
// as /v1/score scores with its defaults. What comes back as vLLM's `score` / `relevance_score` is the
// reward itself (softplus of the logit, exactly 0 for invalid code): the same number /v1/score calls
// `reward`, ordered as vLLM's sigmoid would order it, since both rise with the logit.
import { randomUUID } from 'node:crypto';
import { InvalidRequestError } from '../errors.ts';
import type { ScoreItem } from '../scorer.ts';

/** vLLM's ScoreInputs for text: one string or a non-empty list of them. */
export const vllmTextsSchema = {
  anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }],
  description: "vLLM's text inputs: one string or a list of them. The first text of a pair is the question, the second the response.",
} as const;

/** Fields vLLM's pooling requests carry that change nothing in a reward (accepted so that its clients' bodies pass). */
export const vllmPassiveFields = {
  user: { type: ['string', 'null'] },
  priority: { type: 'integer' },
  request_id: { type: 'string' },
  softmax: { type: ['boolean', 'null'], description: 'Accepted; the score is the reward either way.' },
  activation: { type: ['boolean', 'null'], description: 'Accepted; the score is the reward either way.' },
  use_activation: { type: ['boolean', 'null'], description: 'Accepted; the score is the reward either way.' },
  truncate_prompt_tokens: {
    type: ['integer', 'null'],
    description: 'null or -1 (MAX_LENGTH) only: a pair is one templated prompt, right-truncated at MAX_LENGTH as the reward model was trained; a positive count is refused with 400.',
  },
} as const;

export interface VllmPassive {
  truncate_prompt_tokens?: number | null;
}

/** Refuses what would silently change meaning: a prompt cut to a count the reward model was not scored at. */
export function checkPairTruncation(body: VllmPassive): void {
  const k = body.truncate_prompt_tokens;
  if (k === undefined || k === null || k === -1) return;
  throw new InvalidRequestError(`body/truncate_prompt_tokens: ${k} is not supported for scored pairs (only null or -1, which mean MAX_LENGTH); the templated prompt is right-truncated at MAX_LENGTH`);
}

const asList = (v: string | string[]): string[] => (typeof v === 'string' ? [v] : v);

/**
 * vLLM's pairing: 1 to 1, 1 to N (the one first text broadcast to every second text), or N to N in
 * order; anything else is vLLM's 400 too.
 */
export function pairTexts(first: string | string[], second: string | string[], names: [string, string]): ScoreItem[] {
  const questions = asList(first);
  const responses = asList(second);
  if (questions.length !== 1 && questions.length !== responses.length) {
    throw new InvalidRequestError(`body/${names[0]}: ${questions.length} texts for ${responses.length} in ${names[1]}; send 1 (paired with each) or as many as ${names[1]}`);
  }
  return responses.map((response, i) => ({ question: questions.length === 1 ? questions[0] : questions[i], response }));
}

/** An id in vLLM's style for a response of the given kind. */
export const vllmId = (kind: string): string => `${kind}-${randomUUID().replaceAll('-', '')}`;

/** vLLM's usage of a pooling answer: every token is a prompt token. */
const vllmUsageSchema = {
  type: 'object',
  required: ['prompt_tokens', 'total_tokens', 'completion_tokens'],
  properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' } },
} as const;

/** vLLM's list answer (classify, score, pooling): one entry of `item`'s schema per input, in input order. */
export function vllmListSchema<Item extends object>(item: Item) {
  return {
    type: 'object',
    required: ['id', 'object', 'created', 'model', 'data', 'usage'],
    properties: {
      id: { type: 'string' },
      object: { type: 'string' },
      created: { type: 'integer' },
      model: { type: 'string' },
      data: { type: 'array', items: item },
      usage: vllmUsageSchema,
    },
  } as const;
}

/** The list answer itself, with its id of the given kind. */
export function vllmList<Entry>(kind: string, model: string, data: Entry[], promptTokens: number) {
  return {
    id: vllmId(kind),
    object: 'list',
    created: Math.floor(Date.now() / 1000),
    model,
    data,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 },
  };
}
