// The CPU work of a request before the model: extract the code, judge its syntax as CPython would,
// render the chat template and tokenize. Pure functions of their input, so the same code runs on the
// event loop (PREP_THREADS=0) or in the prep worker threads.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { extractCode, type ExtractionMode } from '../extract/fences.ts';
import { checkPythonSyntax } from '../extract/validity.ts';
import type { Prompt, PromptEncoder } from '../prompt/prompt.ts';
import { needsModel, type Shaping } from '../shape/shaping.ts';

export type ItemStatus = 'ok' | 'no_code' | 'multiple_blocks' | 'empty_code' | 'syntax_error';

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
  encodeTexts(texts: readonly string[], signal?: AbortSignal, addSpecialTokens?: boolean): Promise<Prompt[]>;
  renderChat(question: string, code: string): Promise<string>;
  close(): Promise<void>;
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

async function mapInSlices<T, R>(list: readonly T[], fn: (x: T) => R): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < list.length; i++) {
    if (i > 0 && i % ITEMS_PER_SLICE === 0) await yieldToLoop();
    out.push(fn(list[i]));
  }
  return out;
}

/** On the event loop, yielding between slices so that one large request does not hold it. */
export class InlinePreparer implements Preparer {
  constructor(private readonly encoder: PromptEncoder) {}

  prepare(items: readonly ScoreItem[], extraction: ExtractionMode, shaping: Shaping): Promise<PreparedItem[]> {
    return mapInSlices(items, (item) => prepareItem(this.encoder, item, extraction, shaping));
  }

  encodeTexts(texts: readonly string[], _signal?: AbortSignal, addSpecialTokens = false): Promise<Prompt[]> {
    return mapInSlices(texts, (text) => this.encoder.encodeText(text, addSpecialTokens));
  }

  async renderChat(question: string, code: string): Promise<string> {
    return this.encoder.renderChat(question, code);
  }

  async close(): Promise<void> {}
}
