// POST /classify as vLLM and SGLang serve it for sequence classifiers: the text arrives already
// templated (veRL's reward loop renders the chat itself), so it is tokenized as given, with no
// extraction and no shaping, and the logit comes back (vLLM: through sigmoid unless told not to).
//   vLLM:   {"model", "input": str | [str] | [int] | [[int]], "activation" | "use_activation": bool} → {"data": [{"probs": [score]}]}
//           {"model", "messages": [{role, content}]}: one conversation, rendered with the model's template
//   SGLang: {"model", "text": str | [str]}                                          → [{"embedding": [score]}]
// POST /v1/embeddings, OpenAI's shape as SGLang serves a reward model through it (veRL's SGLang
// path): {"model", "input": str | [str]} → {"data": [{"embedding": [score]}]}, the same raw logit.
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../errors.ts';
import { sigmoid } from '../../shape/shaping.ts';
import type { ChatMessage } from '../../prompt/messages.ts';
import { PromptEncoder, truncateIds, type Prompt, type TokenizeRequest } from '../../prompt/prompt.ts';
import type { RawOutcome } from '../../scorer.ts';
import { documentedBody, timingHeaders, VERSION } from '../openapi.ts';
import { BODY_TOO_LARGE, INVALID_REQUEST, scoringErrorResponses, UNAUTHORIZED } from '../schemas.ts';
import { checkClientBatch, checkTextLength, checkTexts, clientSignal, setTimingHeaders, type RouteContext } from '../context.ts';
import { vllmList } from '../vllm-pairs.ts';
import {
  classifyBodySchema, classifyDocs, classifyResponseSchema, detokenizeBodySchema, detokenizeDocs, detokenizeResponseSchema, embeddingsBodySchema,
  embeddingsDocs, embeddingsResponseSchema, modelsResponseSchema, poolingBodySchema, poolingDocs, poolingResponseSchema, tokenizeBodySchema, tokenizeDocs,
  tokenizeResponseSchema, versionResponseSchema, type ClassifyBody,
} from '../vllm-schemas.ts';

/** The texts of the request and the field they came in, with the empty-text and both/neither checks. */
function requestTexts(config: RouteContext['config'], body: { input?: string | string[]; text?: string | string[] }): { field: 'input' | 'text'; list: string[]; single: boolean } {
  if ((body.input === undefined) === (body.text === undefined)) {
    throw new InvalidRequestError('body: exactly one of input (vLLM), messages (vLLM) or text (SGLang) is required');
  }
  const field = body.input !== undefined ? 'input' : 'text';
  const value = body[field]!;
  const list = typeof value === 'string' ? [value] : value;
  const empty = list.findIndex((t) => t === '');
  if (empty >= 0) throw new InvalidRequestError(`body/${field}${typeof value === 'string' ? '' : `/${empty}`}: empty text`);
  checkClientBatch(config, field, list.length);
  checkTexts(config, field, value);
  return { field, list, single: typeof value === 'string' };
}

/** vLLM's token-id input as lists of ids, or undefined for text input. */
function tokenIdLists(input: ClassifyBody['input']): number[][] | undefined {
  if (!Array.isArray(input) || input.length === 0 || typeof input[0] === 'string') return undefined;
  return typeof input[0] === 'number' ? [input as number[]] : (input as number[][]);
}

/** A conversation within MAX_CLIENT_BATCH messages, each content within MAX_TEXT_CHARS. */
function checkMessages(ctx: RouteContext, messages: ChatMessage[]): ChatMessage[] {
  checkClientBatch(ctx.config, 'messages', messages.length);
  messages.forEach((m, i) => {
    if (typeof m.content === 'string') checkTextLength(ctx.config, `messages/${i}/content`, m.content);
    else m.content?.forEach((part, k) => { if (typeof part.text === 'string') checkTextLength(ctx.config, `messages/${i}/content/${k}/text`, part.text); });
  });
  return messages;
}

/** vLLM's truncate_prompt_tokens as a count of last tokens to keep, or undefined for none. */
function keepLastOf(k: number | null | undefined, maxLength: number): number | undefined {
  if (k === undefined || k === null) return undefined;
  if (k === -1) return maxLength;
  if (k < 1 || k > maxLength) {
    throw new InvalidRequestError(`body/truncate_prompt_tokens: ${k} is outside 1..${maxLength} (MAX_LENGTH); -1 means MAX_LENGTH`);
  }
  return k;
}

/** What the scoring routes share: the model's label and the vLLM form's scoring. */
interface VllmModel {
  label: string;
  /** The vLLM form's inputs scored raw: texts, token ids, or one conversation. */
  scoreVllm: (body: ClassifyBody, signal: AbortSignal) => Promise<RawOutcome>;
}

function vllmModel(ctx: RouteContext): VllmModel {
  const id2label = (ctx.modelDir.config.id2label ?? {}) as Record<string, string>;
  const label = id2label['0'] ?? 'LABEL_0';
  const vocabSize = Number(ctx.modelDir.config.vocab_size);
  // The tokenizer on the event loop, built on first use, to check ids when config.json gives no vocab_size.
  let encoder: PromptEncoder | undefined;
  const tokenizer = () => (encoder ??= new PromptEncoder(ctx.modelDir, ctx.config.MAX_LENGTH));

  /** Token ids checked (an id outside the vocabulary would fail the model, not the request) and cut to fit. */
  // The model's embedding size when config.json gives it (it may exceed the tokenizer's vocabulary);
  // otherwise the ids the tokenizer knows.
  const knownId = (ids: number[]): ((id: number, k: number) => boolean) => {
    if (Number.isFinite(vocabSize)) return (id) => id >= 0 && id < vocabSize;
    const strs = tokenizer().tokenStrings(ids);
    return (_id, k) => strs[k] !== undefined;
  };
  const idPrompts = (lists: number[][], flat: boolean, keepLast: number | undefined): Prompt[] => lists.map((ids, i) => {
    const known = knownId(ids);
    const bad = ids.findIndex((id, k) => !known(id, k));
    if (bad >= 0) {
      const range = Number.isFinite(vocabSize) ? ` (0..${vocabSize - 1})` : '';
      throw new InvalidRequestError(`body/input/${flat ? '' : `${i}/`}${bad}: token id ${ids[bad]} is outside the vocabulary${range}`);
    }
    return truncateIds(ids, ctx.config.MAX_LENGTH, keepLast);
  });

  const scoreVllm = async (body: ClassifyBody, signal: AbortSignal): Promise<RawOutcome> => {
    const keepLast = keepLastOf(body.truncate_prompt_tokens, ctx.config.MAX_LENGTH);
    if (body.messages !== undefined) {
      if (body.input !== undefined || body.text !== undefined) throw new InvalidRequestError('body: exactly one of input (vLLM), messages (vLLM) or text (SGLang) is required');
      const rendered = await ctx.preparer.renderMessages(checkMessages(ctx, body.messages), body.add_generation_prompt === true);
      // vLLM's chat requests leave special tokens to the template.
      return ctx.scorer.scoreTexts([rendered], signal, body.add_special_tokens === true, keepLast);
    }
    const lists = tokenIdLists(body.input);
    if (lists) {
      checkClientBatch(ctx.config, 'input', lists.length);
      return ctx.scorer.scorePrompts(idPrompts(lists, typeof (body.input as unknown[])[0] === 'number', keepLast), signal);
    }
    const { list } = requestTexts(ctx.config, { input: body.input as string | string[] });
    // vLLM's /classify tokenizes with add_special_tokens=True unless told otherwise; veRL relies on it
    // and cuts the template's leading BOS off the text it sends, so that the model sees one BOS.
    return ctx.scorer.scoreTexts(list, signal, body.add_special_tokens !== false, keepLast);
  };

  return { label, scoreVllm };
}

/** GET /v1/models and /version. */
function modelRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const started = Math.floor(Date.now() / 1000);
  // What vLLM-compatible clients read first: the served model's name and its context length.
  app.get('/v1/models', {
    schema: {
      operationId: 'models',
      summary: "vLLM's model list: the one served model, with its name and MAX_LENGTH as max_model_len.",
      response: { 200: modelsResponseSchema, 401: UNAUTHORIZED },
    },
  }, async () => ({
    object: 'list',
    data: [{ id: ctx.modelName, object: 'model', created: started, owned_by: 'code-reward-service', root: ctx.modelName, parent: null, max_model_len: ctx.config.MAX_LENGTH }],
  }));
  app.get('/version', {
    schema: { operationId: 'version', summary: "The service's version, as vLLM's /version.", response: { 200: versionResponseSchema, 401: UNAUTHORIZED } },
  }, async () => ({ version: VERSION }));
}

/** POST /classify and /v1/classify, in vLLM's and SGLang's forms. */
function classifyRoutes(app: FastifyInstance, ctx: RouteContext, { label, scoreVllm }: VllmModel): void {
  for (const [url, docs] of Object.entries(classifyDocs)) app.post<{ Body: ClassifyBody }>(url, {
    schema: { ...documentedBody(docs, classifyBodySchema), response: { 200: classifyResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => {
    const body = request.body;
    const signal = clientSignal(request, reply);
    if (body.text !== undefined && body.messages === undefined) {
      const { list, single } = requestTexts(ctx.config, body as { input?: string | string[]; text?: string | string[] });
      const outcome = await ctx.scorer.scoreTexts(list, signal);
      setTimingHeaders(reply, outcome.timing);
      const items = outcome.logits.map((logit, i) => ({ embedding: [logit], meta_info: { prompt_tokens: outcome.prompts[i].ids.length } }));
      return single ? items[0] : items;
    }
    const outcome = await scoreVllm(body, signal);
    setTimingHeaders(reply, outcome.timing);
    const tokens = outcome.prompts.map((p) => p.ids.length);
    // vLLM's precedence (get_use_activation) and its default for classification: on, sigmoid for one label.
    const activate = body.use_activation ?? body.softmax ?? body.activation ?? true;
    const data = outcome.logits.map((logit, index) => ({ index, label, probs: [activate ? sigmoid(logit) : logit], num_classes: 1 }));
    return vllmList('classify', ctx.modelName, data, tokens.reduce((sum, n) => sum + n, 0));
  });
}

/** POST /tokenize and /detokenize, with the model's own tokenizer and template, on the prep threads. */
function tokenizerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: { prompt?: string; messages?: ChatMessage[]; add_special_tokens?: boolean; add_generation_prompt: boolean; return_token_strs?: boolean | null } }>('/tokenize', {
    schema: { ...documentedBody(tokenizeDocs, tokenizeBodySchema), response: { 200: tokenizeResponseSchema, 400: INVALID_REQUEST, 401: UNAUTHORIZED, 413: BODY_TOO_LARGE } },
  }, async (request) => {
    const body = request.body;
    const options = { addSpecialTokens: body.add_special_tokens, addGenerationPrompt: body.add_generation_prompt, tokenStrs: body.return_token_strs === true };
    let req: TokenizeRequest;
    if (body.messages !== undefined && body.prompt === undefined) req = { ...options, messages: checkMessages(ctx, body.messages) };
    else if (body.prompt !== undefined && body.messages === undefined) req = { ...options, prompt: checkTextLength(ctx.config, 'prompt', body.prompt) };
    else throw new InvalidRequestError('body: exactly one of prompt or messages is required');
    const { tokens, strs } = await ctx.preparer.tokenize(req);
    return { count: tokens.length, max_model_len: ctx.config.MAX_LENGTH, tokens, token_strs: strs };
  });

  app.post<{ Body: { model?: string; tokens: number[] } }>('/detokenize', {
    schema: { ...documentedBody(detokenizeDocs, detokenizeBodySchema), response: { 200: detokenizeResponseSchema, 400: INVALID_REQUEST, 401: UNAUTHORIZED, 413: BODY_TOO_LARGE } },
  }, async (request) => {
    const { tokens } = request.body;
    checkTextLength(ctx.config, 'tokens', tokens);
    const result = await ctx.preparer.detokenize(tokens);
    if ('unknown' in result) throw new InvalidRequestError(`body/tokens/${result.unknown}: token id ${tokens[result.unknown]} is not in the vocabulary`);
    return { prompt: result.text };
  });
}

/** POST /pooling (vLLM) and /v1/embeddings (OpenAI's shape, as SGLang serves it): the logit as a pooled output. */
function poolingRoutes(app: FastifyInstance, ctx: RouteContext, { scoreVllm }: VllmModel): void {
  // vLLM's /pooling: the same inputs as /classify's vLLM form; a sequence classifier pools with its
  // classify task, so each entry's data is /classify's probs.
  app.post<{ Body: ClassifyBody & { task?: string | null } }>('/pooling', {
    schema: {
      ...documentedBody(poolingDocs, poolingBodySchema),
      response: { 200: { ...poolingResponseSchema, description: 'One entry per input, in order.', headers: timingHeaders }, ...scoringErrorResponses },
    },
  }, async (request, reply) => {
    const body = request.body;
    if (body.text !== undefined) throw new InvalidRequestError('body/text: /pooling takes input or messages, as vLLM');
    const outcome = await scoreVllm(body, clientSignal(request, reply));
    setTimingHeaders(reply, outcome.timing);
    const activate = body.use_activation ?? body.softmax ?? body.activation ?? true;
    const data = outcome.logits.map((logit, index) => ({ index, object: 'pooling', data: [activate ? sigmoid(logit) : logit] }));
    return vllmList('pool', ctx.modelName, data, outcome.prompts.reduce((n, p) => n + p.ids.length, 0));
  });

  app.post<{ Body: { model?: string; input: string | string[] } }>('/v1/embeddings', {
    schema: { ...documentedBody(embeddingsDocs, embeddingsBodySchema), response: { 200: embeddingsResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => {
    const { list } = requestTexts(ctx.config, { input: request.body.input });
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

export default async function vllmRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  modelRoutes(app, ctx);
  const model = vllmModel(ctx);
  classifyRoutes(app, ctx, model);
  tokenizerRoutes(app, ctx);
  poolingRoutes(app, ctx, model);
}
