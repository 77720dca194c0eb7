// The request and response schemas of the vLLM- and SGLang-compatible routes (routes/vllm.ts), for
// Fastify's validator and serializer and the OpenAPI contract test.
import type { ChatMessage } from '../prompt/messages.ts';
import { ignoredModelField, promptUsageSchema } from './schemas.ts';
import { vllmListSchema } from './vllm-pairs.ts';

export interface ClassifyBody {
  model?: string;
  input?: string | string[] | number[] | number[][];
  text?: string | string[];
  messages?: ChatMessage[];
  activation?: boolean | null;
  softmax?: boolean | null;
  use_activation?: boolean | null;
  add_special_tokens?: boolean | null;
  add_generation_prompt?: boolean;
  truncate_prompt_tokens?: number | null;
}

const texts = { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { type: 'string' } }] } as const;

// Open to unknown fields: both servers accept more options (user, priority, truncate_prompt_tokens...)
// that clients may send and that change nothing here.
export const classifyBodySchema = {
  type: 'object',
  properties: {
    model: ignoredModelField,
    input: {
      anyOf: [
        ...texts.anyOf,
        { type: 'array', minItems: 1, items: { type: 'integer' } },
        { type: 'array', minItems: 1, items: { type: 'array', minItems: 1, items: { type: 'integer' } } },
      ],
      description: 'vLLM: templated text(s), tokenized as given, or token ids (one list, or a list of lists).',
    },
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { type: 'string' },
          content: {
            anyOf: [
              { type: 'string' },
              { type: 'null' },
              { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, text: { type: 'string' } } } },
            ],
          },
        },
      },
      description: "vLLM: one conversation, rendered with the served model's chat template (no generation prompt unless asked); add_special_tokens defaults to false for it, as vLLM's.",
    },
    add_generation_prompt: { type: 'boolean', default: false, description: 'With messages: as apply_chat_template.' },
    truncate_prompt_tokens: {
      type: ['integer', 'null'],
      minimum: -1,
      description: 'vLLM form: keep only the last N tokens (vLLM truncates from the left); -1 means MAX_LENGTH; above MAX_LENGTH is a 400. Absent: right-truncated at MAX_LENGTH.',
    },
    text: { ...texts, description: 'SGLang: templated text(s), tokenized as given.' },
    activation: { type: ['boolean', 'null'], description: 'vLLM before 0.11.2: false gives the raw logit; true, null or absent its sigmoid (vLLM\'s default for one label).' },
    softmax: { type: ['boolean', 'null'], description: 'Older vLLM: as activation.' },
    use_activation: { type: ['boolean', 'null'], description: 'vLLM 0.11.2 and later: as activation; it wins over activation and softmax when both are given.' },
    add_special_tokens: {
      type: ['boolean', 'null'],
      description: "vLLM form only: add the tokenizer's special tokens (Llama 3: a leading BOS) as vLLM does; default true. The SGLang form is tokenized as given.",
    },
  },
} as const;

const vllmResponseSchema = vllmListSchema({
  type: 'object',
  required: ['index', 'label', 'probs', 'num_classes'],
  properties: {
    index: { type: 'integer' },
    label: { type: 'string' },
    probs: { type: 'array', items: { type: 'number' } },
    num_classes: { type: 'integer' },
  },
} as const);

const sglangItemSchema = {
  type: 'object',
  required: ['embedding', 'meta_info'],
  properties: {
    embedding: { type: 'array', items: { type: 'number' } },
    meta_info: { type: 'object', required: ['prompt_tokens'], properties: { prompt_tokens: { type: 'integer' } } },
  },
} as const;

export const classifyResponseSchema = {
  anyOf: [vllmResponseSchema, { type: 'array', items: sglangItemSchema }, sglangItemSchema],
} as const;

export const poolingBodySchema = {
  type: 'object',
  properties: {
    ...classifyBodySchema.properties,
    task: { type: ['string', 'null'], enum: ['classify', null], description: "The served model's only pooling task." },
  },
} as const;

export const poolingResponseSchema = vllmListSchema({
  type: 'object',
  required: ['index', 'object', 'data'],
  properties: { index: { type: 'integer' }, object: { type: 'string' }, data: { type: 'array', items: { type: 'number' } } },
} as const);

export const embeddingsBodySchema = {
  type: 'object',
  required: ['input'],
  properties: {
    model: ignoredModelField,
    input: { ...texts, description: 'Templated text(s), tokenized as given.' },
  },
} as const;

export const embeddingsResponseSchema = {
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
    usage: promptUsageSchema,
  },
} as const;

export const modelsResponseSchema = {
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

// vLLM's /tokenize: TokenizeCompletionRequest {prompt, add_special_tokens = true} or TokenizeChatRequest
// {messages, add_generation_prompt = true, add_special_tokens = false}; every token, no truncation.
export const tokenizeBodySchema = {
  type: 'object',
  properties: {
    model: ignoredModelField,
    prompt: { type: 'string', description: 'Text, tokenized as given.' },
    messages: { ...classifyBodySchema.properties.messages, description: "One conversation, rendered with the model's chat template." },
    add_special_tokens: { type: 'boolean', description: "Default true with prompt, false with messages, as vLLM's." },
    add_generation_prompt: { type: 'boolean', default: true, description: 'With messages; true by default, as vLLM\'s /tokenize.' },
    return_token_strs: { type: ['boolean', 'null'], default: false },
  },
} as const;

export const tokenizeResponseSchema = {
  type: 'object',
  required: ['count', 'max_model_len', 'tokens', 'token_strs'],
  properties: {
    count: { type: 'integer' },
    max_model_len: { type: 'integer' },
    tokens: { type: 'array', items: { type: 'integer' } },
    token_strs: { type: ['array', 'null'], items: { type: 'string' } },
  },
} as const;

export const detokenizeBodySchema = {
  type: 'object',
  required: ['tokens'],
  properties: {
    model: ignoredModelField,
    tokens: { type: 'array', items: { type: 'integer' } },
  },
} as const;

export const detokenizeResponseSchema = { type: 'object', required: ['prompt'], properties: { prompt: { type: 'string' } } } as const;

export const versionResponseSchema = { type: 'object', required: ['version'], properties: { version: { type: 'string' } } } as const;
