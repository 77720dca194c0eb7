// POST /classify as vLLM and SGLang serve it for sequence classifiers: the text arrives already
// templated (veRL's reward loop renders the chat itself), so it is tokenized as given, with no
// extraction and no shaping, and the raw logit comes back.
//   vLLM:   {"model", "input": str | [str], "activation" | "use_activation": bool} → {"data": [{"probs": [score]}]}
//   SGLang: {"model", "text": str | [str]}                                          → [{"embedding": [score]}]
// POST /v1/embeddings, OpenAI's shape as SGLang serves a reward model through it (veRL's SGLang
// path): {"model", "input": str | [str]} → {"data": [{"embedding": [score]}]}, the same raw logit.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, TooManyItemsError } from '../../errors.ts';
import { sigmoid } from '../../shape/shaping.ts';
import { errorSchema, scoringErrorResponses } from '../schemas.ts';
import { clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';

interface ClassifyBody {
  model?: string;
  input?: string | string[];
  text?: string | string[];
  activation?: boolean | null;
  use_activation?: boolean | null;
  add_special_tokens?: boolean | null;
}

const texts = { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }] } as const;

// Open to unknown fields: both servers accept more options (user, priority, truncate_prompt_tokens...)
// that clients may send and that change nothing here.
const classifyBodySchema = {
  type: 'object',
  properties: {
    model: { type: 'string', description: 'Accepted and ignored: the service serves one model.' },
    input: { ...texts, description: 'vLLM: templated text(s), tokenized as given.' },
    text: { ...texts, description: 'SGLang: templated text(s), tokenized as given.' },
    activation: { type: ['boolean', 'null'], description: 'vLLM before 0.11.2: true applies sigmoid; false or absent gives the raw logit.' },
    use_activation: { type: ['boolean', 'null'], description: 'vLLM 0.11.2 and later: as activation.' },
    add_special_tokens: {
      type: ['boolean', 'null'],
      description: "vLLM form only: add the tokenizer's special tokens (Llama 3: a leading BOS) as vLLM does; default true. The SGLang form is tokenized as given.",
    },
  },
} as const;

const vllmResponseSchema = {
  type: 'object',
  required: ['id', 'object', 'created', 'model', 'data', 'usage'],
  properties: {
    id: { type: 'string' },
    object: { type: 'string' },
    created: { type: 'integer' },
    model: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'label', 'probs', 'num_classes'],
        properties: {
          index: { type: 'integer' },
          label: { type: 'string' },
          probs: { type: 'array', items: { type: 'number' } },
          num_classes: { type: 'integer' },
        },
      },
    },
    usage: {
      type: 'object',
      required: ['prompt_tokens', 'total_tokens', 'completion_tokens'],
      properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' } },
    },
  },
} as const;

const sglangItemSchema = {
  type: 'object',
  required: ['embedding', 'meta_info'],
  properties: {
    embedding: { type: 'array', items: { type: 'number' } },
    meta_info: { type: 'object', required: ['prompt_tokens'], properties: { prompt_tokens: { type: 'integer' } } },
  },
} as const;

const classifyResponseSchema = {
  anyOf: [vllmResponseSchema, { type: 'array', items: sglangItemSchema }, sglangItemSchema],
} as const;

/** The texts of the request and the field they came in, with the empty-text and both/neither checks. */
function requestTexts(body: ClassifyBody): { field: 'input' | 'text'; list: string[]; single: boolean } {
  if ((body.input === undefined) === (body.text === undefined)) {
    throw new InvalidRequestError('body: exactly one of input (vLLM) or text (SGLang) is required');
  }
  const field = body.input !== undefined ? 'input' : 'text';
  const value = body[field]!;
  const list = typeof value === 'string' ? [value] : value;
  const empty = list.findIndex((t) => t === '');
  if (empty >= 0) throw new InvalidRequestError(`body/${field}${typeof value === 'string' ? '' : `/${empty}`}: empty text`);
  return { field, list, single: typeof value === 'string' };
}

const embeddingsBodySchema = {
  type: 'object',
  required: ['input'],
  properties: {
    model: { type: 'string', description: 'Accepted and ignored: the service serves one model.' },
    input: { ...texts, description: 'Templated text(s), tokenized as given.' },
  },
} as const;

const embeddingsResponseSchema = {
  type: 'object',
  required: ['object', 'data', 'model', 'usage'],
  properties: {
    object: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['object', 'index', 'embedding'],
        properties: { object: { type: 'string' }, index: { type: 'integer' }, embedding: { type: 'array', items: { type: 'number' } } },
      },
    },
    model: { type: 'string' },
    usage: {
      type: 'object',
      required: ['prompt_tokens', 'total_tokens'],
      properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
    },
  },
} as const;

const modelsResponseSchema = {
  type: 'object',
  required: ['object', 'data'],
  properties: {
    object: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'object', 'created', 'owned_by', 'root', 'max_model_len'],
        properties: {
          id: { type: 'string' },
          object: { type: 'string' },
          created: { type: 'integer' },
          owned_by: { type: 'string' },
          root: { type: 'string' },
          parent: { type: 'null' },
          max_model_len: { type: 'integer' },
        },
      },
    },
  },
} as const;

const versionResponseSchema = { type: 'object', required: ['version'], properties: { version: { type: 'string' } } } as const;

/** The service's version, from package.json (two levels above both src/http/routes and dist/http/routes). */
const VERSION: string = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version;

export default async function vllmRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const started = Math.floor(Date.now() / 1000);
  // What vLLM-compatible clients read first: the served model's name and its context length.
  app.get('/v1/models', { schema: { response: { 200: modelsResponseSchema, 401: errorSchema } } }, async () => ({
    object: 'list',
    data: [{ id: ctx.modelName, object: 'model', created: started, owned_by: 'code-reward-service', root: ctx.modelName, parent: null, max_model_len: ctx.config.MAX_LENGTH }],
  }));
  app.get('/version', { schema: { response: { 200: versionResponseSchema, 401: errorSchema } } }, async () => ({ version: VERSION }));

  const id2label = (ctx.modelDir.config.id2label ?? {}) as Record<string, string>;
  const label = id2label['0'] ?? 'LABEL_0';

  for (const url of ['/classify', '/v1/classify']) app.post<{ Body: ClassifyBody }>(url, {
    schema: { body: classifyBodySchema, response: { 200: classifyResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => {
    const { field, list, single } = requestTexts(request.body);
    if (list.length > ctx.config.MAX_CLIENT_BATCH) throw new TooManyItemsError(field, list.length, ctx.config.MAX_CLIENT_BATCH);
    // vLLM's /classify tokenizes with add_special_tokens=True unless told otherwise; veRL relies on it
    // and cuts the template's leading BOS off the text it sends, so that the model sees one BOS.
    const addSpecialTokens = field === 'input' && request.body.add_special_tokens !== false;
    const outcome = await ctx.scorer.scoreTexts(list, clientSignal(request, reply), addSpecialTokens);
    setTimingHeaders(reply, outcome.timing);
    const tokens = outcome.prompts.map((p) => p.ids.length);

    if (field === 'text') {
      const items = outcome.logits.map((logit, i) => ({ embedding: [logit], meta_info: { prompt_tokens: tokens[i] } }));
      return single ? items[0] : items;
    }
    const activate = request.body.use_activation === true || request.body.activation === true;
    const promptTokens = tokens.reduce((s, n) => s + n, 0);
    return {
      id: `classify-${randomUUID().replaceAll('-', '')}`,
      object: 'list',
      created: Math.floor(Date.now() / 1000),
      model: ctx.modelName,
      data: outcome.logits.map((logit, index) => ({ index, label, probs: [activate ? sigmoid(logit) : logit], num_classes: 1 })),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 },
    };
  });

  app.post<{ Body: { model?: string; input: string | string[] } }>('/v1/embeddings', {
    schema: { body: embeddingsBodySchema, response: { 200: embeddingsResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => {
    const { list } = requestTexts({ input: request.body.input });
    if (list.length > ctx.config.MAX_CLIENT_BATCH) throw new TooManyItemsError('input', list.length, ctx.config.MAX_CLIENT_BATCH);
    const outcome = await ctx.scorer.scoreTexts(list, clientSignal(request, reply));
    setTimingHeaders(reply, outcome.timing);
    const promptTokens = outcome.prompts.reduce((s, p) => s + p.ids.length, 0);
    return {
      object: 'list',
      data: outcome.logits.map((logit, index) => ({ object: 'embedding', index, embedding: [logit] })),
      model: ctx.modelName,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  });
}
