// The request and response schemas of the vLLM- and SGLang-compatible routes (routes/vllm.ts), for
// Fastify's validator and serializer and the OpenAPI document, with what the document says of each route.
import type { ChatMessage } from '../prompt/messages.ts';
import { timingHeaders } from './openapi.ts';
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
  description: 'Exactly one of input or messages (vLLM) or text (SGLang). Unknown fields are ignored, as those servers accept more options.',
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
            description: 'A string, or text parts (joined by newlines); other parts are a 400.',
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
    probs: { type: 'array', items: { type: 'number' }, description: "One number, the logit's sigmoid (or the logit with use_activation false)." },
    num_classes: { type: 'integer' },
  },
} as const);

const sglangItemSchema = {
  type: 'object',
  required: ['embedding', 'meta_info'],
  properties: {
    embedding: { type: 'array', items: { type: 'number' }, description: 'One number, the logit.' },
    meta_info: { type: 'object', required: ['prompt_tokens'], properties: { prompt_tokens: { type: 'integer' } } },
  },
} as const;

export const classifyResponseSchema = {
  anyOf: [vllmResponseSchema, { type: 'array', items: sglangItemSchema }, sglangItemSchema],
  description: "vLLM's classification list, or SGLang's embedding objects.",
  headers: timingHeaders,
} as const;

const templated = '<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\ndef add(a, b):\n    return a + b<|im_end|>\n';

/** What the document says of /classify and /v1/classify, one handler, each with an example. */
export const classifyDocs = {
  '/classify': {
    operationId: 'classify',
    summary: "vLLM's /classify (veRL's reward loop) and SGLang's /classify: already-templated text or token ids in, the logit out.",
    description: [
      'The text is tokenized as given: no chat template, no extraction, no shaping, right-truncated at',
      "MAX_LENGTH. In the vLLM form the tokenizer's special tokens are added as vLLM adds them",
      '(`add_special_tokens`, default true: a leading BOS for Llama 3, nothing for Qwen), which is why veRL',
      "cuts the template's BOS off the text it sends. vLLM form (`input` as text or token ids, or `messages`,",
      "one conversation rendered with the model's chat template): the logit's sigmoid in `data[i].probs[0]`,",
      "as vLLM's default for one label, or the raw logit when `use_activation` (or `activation`, `softmax`) is",
      'false; `truncate_prompt_tokens` keeps the last N tokens, as vLLM. SGLang form (`text`): the raw logit in',
      '`embedding[0]`, one object per text (a single object for a single string).',
    ].join('\n'),
    example: { model: 'code-reward', input: templated, activation: false },
  },
  '/v1/classify': {
    operationId: 'classifyV1',
    summary: "vLLM's /v1/classify, the same handler as /classify (the example sends token ids).",
    example: { model: 'code-reward', input: [[151644, 872, 198, 2212, 1378, 5109, 13], [151644, 77091, 198, 750, 912, 2877, 11, 293, 982]], use_activation: false },
  },
} as const;

export const poolingBodySchema = {
  type: 'object',
  description: 'Exactly one of input or messages. Unknown fields are ignored.',
  properties: {
    ...classifyBodySchema.properties,
    task: { type: ['string', 'null'], enum: ['classify', null], description: "The served model's only pooling task." },
  },
} as const;

export const poolingResponseSchema = vllmListSchema({
  type: 'object',
  required: ['index', 'object', 'data'],
  properties: {
    index: { type: 'integer' },
    object: { type: 'string' },
    data: { type: 'array', items: { type: 'number' }, description: "One number, the logit's sigmoid (or the logit with use_activation false)." },
  },
} as const);

export const poolingDocs = {
  operationId: 'pooling',
  summary: "vLLM's /pooling for a sequence classifier: the inputs of /classify's vLLM form, its probs as each entry's data.",
  description: [
    "As /classify's vLLM form (`input` as text or token ids, or `messages`; sigmoid of the logit unless",
    "`use_activation` is false; `truncate_prompt_tokens` keeps the last N). `text` (SGLang's field) is a 400",
    "here. `task` may only be classify, the served model's pooling task.",
  ].join('\n'),
  example: { model: 'code-reward', input: ['<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\ndef add(a, b):\n    return a + b<|im_end|>\n'] },
} as const;

export const embeddingsBodySchema = {
  type: 'object',
  required: ['input'],
  properties: {
    model: ignoredModelField,
    input: { ...texts, description: 'Templated text(s), tokenized as given; at most MAX_CLIENT_BATCH (422 above).' },
  },
} as const;

export const embeddingsDocs = {
  operationId: 'embeddings',
  summary: "OpenAI's embeddings shape, as SGLang serves a reward model through it (veRL's SGLang path): already-templated text, raw logit.",
  description: "The text is tokenized as given, as /classify's: no chat template, no extraction, no shaping, right-truncated at\nMAX_LENGTH. The logit is `data[i].embedding[0]`.",
  example: { model: 'code-reward', input: templated },
} as const;

export const embeddingsResponseSchema = {
  type: 'object',
  required: ['object', 'data', 'model', 'usage'],
  description: 'One embedding object per text, holding the logit.',
  headers: timingHeaders,
  properties: {
    object: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['object', 'index', 'embedding'],
        properties: { object: { type: 'string' }, index: { type: 'integer' }, embedding: { type: 'array', items: { type: 'number' }, description: '[logit]' } },
      },
    },
    model: { type: 'string' },
    usage: promptUsageSchema,
  },
} as const;

export const modelsResponseSchema = {
  type: 'object',
  required: ['object', 'data'],
  description: 'The served model.',
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
  description: 'Exactly one of prompt or messages. Unknown fields are ignored.',
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
  description: 'The token ids.',
  properties: {
    count: { type: 'integer' },
    max_model_len: { type: 'integer', description: 'MAX_LENGTH.' },
    tokens: { type: 'array', items: { type: 'integer' } },
    token_strs: { type: ['array', 'null'], items: { type: 'string' }, description: 'Each token as the vocabulary spells it, with return_token_strs.' },
  },
} as const;

export const tokenizeDocs = {
  operationId: 'tokenize',
  summary: "vLLM's /tokenize: the served model's tokenizer, every token (no truncation).",
  description: [
    "`prompt` is tokenized as given, the tokenizer's special tokens added unless add_special_tokens is false;",
    "`messages` are rendered with the model's chat template (with the generation prompt unless",
    'add_generation_prompt is false) and tokenized without added special tokens, as vLLM.',
  ].join('\n'),
  example: { model: 'code-reward', prompt: 'def add(a, b):\n    return a + b\n', return_token_strs: true },
} as const;

export const detokenizeBodySchema = {
  type: 'object',
  required: ['tokens'],
  properties: {
    model: ignoredModelField,
    tokens: { type: 'array', items: { type: 'integer' }, description: 'An id outside the vocabulary is a 400 naming it.' },
  },
} as const;

export const detokenizeResponseSchema = { type: 'object', description: 'The text.', required: ['prompt'], properties: { prompt: { type: 'string' } } } as const;

export const detokenizeDocs = {
  operationId: 'detokenize',
  summary: "vLLM's /detokenize: token ids back to text, special tokens kept.",
  example: { model: 'code-reward', tokens: [750, 912, 2877, 11, 293, 982] },
} as const;

export const versionResponseSchema = { type: 'object', description: 'The version.', required: ['version'], properties: { version: { type: 'string' } } } as const;
