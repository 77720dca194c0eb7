// The CPU work of a request before the model: extract the code, judge its syntax as CPython would,
// render the chat template and tokenize; and the whole of a localization request, which needs no
// model. Pure functions of their input, so the same code runs on the event loop (PREP_THREADS=0) or
// in the prep worker threads.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { EXTRACT_STATUSES, extractCode, type ExtractionMode } from '../extract/fences.ts';
import { checkPythonSyntax } from '../pysyntax/validity.ts';
import { checkLocalizationBody, scoreLocalizationItems } from '../localization/index.ts';
import type { LocalizationBody, LocalizationResponse } from '../localization/index.ts';
import type { ChatMessage } from '../prompt/messages.ts';
import type { Prompt, PromptEncoder, Tokenized, TokenizeRequest } from '../prompt/prompt.ts';
import { needsModel, type Shaping } from '../shape/shaping.ts';
import type { WorkerHealth } from '../worker-supervisor.ts';

/** An item's outcome before the model: extraction's, or code that CPython would not parse. */
export const ITEM_STATUSES = [...EXTRACT_STATUSES, 'syntax_error'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export interface ScoreItem {
  question: string;
  response: string;
}

export interface PreparedItem {
  status: ItemStatus;
  detail?: { line: number; message: string };
  /** Present when the model must score the item (valid code, or shaping that wants every score). */
  prompt?: Prompt;
}

/** The off-loop steps of the data path; the pool and the inline form give the same answers. */
export interface Preparer {
  prepare(items: readonly ScoreItem[], extraction: ExtractionMode, shaping: Shaping, signal?: AbortSignal): Promise<PreparedItem[]>;
  /** Already-templated texts, tokenized as given (plus the tokenizer's special tokens when asked). */
  encodeTexts(texts: readonly string[], signal?: AbortSignal, addSpecialTokens?: boolean, keepLast?: number): Promise<Prompt[]>;
  renderChat(question: string, code: string): Promise<string>;
  /** vLLM's chat messages through the model's template; a template that refuses them rejects with an InvalidRequestError. */
  renderMessages(messages: ChatMessage[], addGenerationPrompt: boolean): Promise<string>;
  /** vLLM's /tokenize: every token, no truncation. */
  tokenize(req: TokenizeRequest): Promise<Tokenized>;
  /** vLLM's /detokenize: the text, or the index of the first id outside the vocabulary. */
  detokenize(ids: number[]): Promise<{ text: string } | { unknown: number }>;
  /** CodeScout's localization reward; bad input rejects with the LocalizationInputError of the first bad item. */
  localize(body: LocalizationBody, signal?: AbortSignal): Promise<LocalizationResponse>;
  close(): Promise<void>;
  /** Present where the work runs on threads (the prep pool), for /ready and /health. */
  readonly health?: WorkerHealth;
}

export function prepareItem(encoder: PromptEncoder, item: ScoreItem, extraction: ExtractionMode, shaping: Shaping): PreparedItem {
  const extracted = extractCode(item.response, extraction);
  let status: ItemStatus = extracted.status;
  let detail: PreparedItem['detail'];
  if (status === 'ok') {
    const verdict = checkPythonSyntax(extracted.code);
    if (!verdict.valid) {
      status = 'syntax_error';
      detail = { line: verdict.line ?? 0, message: verdict.message ?? 'invalid syntax' };
    }
  }
  const prepared: PreparedItem = { status, ...(detail && { detail }) };
  // As upstream: a failed extraction still runs on empty content when its score is wanted.
  if (needsModel(shaping, status === 'ok')) prepared.prompt = encoder.encodeChat(item.question, extracted.code);
  return prepared;
}

/** Items per slice of work: the event loop yields between slices, a worker answers per slice. */
export const ITEMS_PER_SLICE = 32;

/** `fn` over [start, end) slices of `size` units, in order, yielding to the event loop between slices. */
async function inSlices<R>(size: number, fn: (start: number, end: number) => R[]): Promise<R[]> {
  const out: R[] = [];
  for (let start = 0; start < size; start += ITEMS_PER_SLICE) {
    if (start > 0) await yieldToLoop();
    for (const r of fn(start, Math.min(size, start + ITEMS_PER_SLICE))) out.push(r);
  }
  return out;
}

/** On the event loop, yielding between slices so that one large request does not hold it. */
export class InlinePreparer implements Preparer {
  constructor(private readonly encoder: PromptEncoder) {}

  prepare(items: readonly ScoreItem[], extraction: ExtractionMode, shaping: Shaping): Promise<PreparedItem[]> {
    return inSlices(items.length, (s, e) => items.slice(s, e).map((item) => prepareItem(this.encoder, item, extraction, shaping)));
  }

  encodeTexts(texts: readonly string[], _signal?: AbortSignal, addSpecialTokens = false, keepLast?: number): Promise<Prompt[]> {
    return inSlices(texts.length, (s, e) => texts.slice(s, e).map((text) => this.encoder.encodeText(text, addSpecialTokens, keepLast)));
  }

  async renderChat(question: string, code: string): Promise<string> {
    return this.encoder.renderChat(question, code);
  }

  async renderMessages(messages: ChatMessage[], addGenerationPrompt: boolean): Promise<string> {
    return this.encoder.renderMessages(messages, addGenerationPrompt);
  }

  async tokenize(req: TokenizeRequest): Promise<Tokenized> {
    return this.encoder.tokenizeRequest(req);
  }

  async detokenize(ids: number[]): Promise<{ text: string } | { unknown: number }> {
    return this.encoder.detokenize(ids);
  }

  async localize(body: LocalizationBody): Promise<LocalizationResponse> {
    const weights = checkLocalizationBody(body);
    const { items } = body;
    return { results: await inSlices(items.length, (s, e) => scoreLocalizationItems(items.slice(s, e), s, weights)) };
  }

  async close(): Promise<void> {}
}
