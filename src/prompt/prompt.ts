// The reward model's input: the model's own chat template over [user: question, assistant: code],
// no system message, no generation prompt, no special tokens added, right-truncated to maxLength.
import { readFileSync, statSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ModelDir } from '../model/model-dir.ts';
import { renderMessages, type ChatMessage } from './messages.ts';
import { PrefixTokenizer } from './prefix-tokens.ts';
import { ChatTemplate } from './python-jinja.ts';

export interface Prompt {
  ids: Int32Array;
  /** Tokens before truncation exceeded maxLength. */
  truncated: boolean;
}

/** What the tokenizer and template are built from. */
export type TokenizerFiles = Pick<ModelDir, 'tokenizerPath' | 'tokenizerConfig' | 'chatTemplate'>;

/**
 * The tokenizer of tokenizer.json and tokenizer_config.json. @huggingface/tokenizers is what
 * transformers.js's PreTrainedTokenizer runs (it delegates encode and decode to it, built from the
 * same two files), without the rest of transformers.js; test/parity/tokenizer.test.ts holds it to
 * Python transformers' AutoTokenizer.
 */
export function makeTokenizer(md: TokenizerFiles): Tokenizer {
  const tokenizerJson = JSON.parse(readFileSync(md.tokenizerPath, 'utf8')) as Record<string, unknown>;
  return new Tokenizer(tokenizerJson, { ...md.tokenizerConfig, chat_template: md.chatTemplate });
}

/**
 * One tokenizer per thread for each tokenizer file and configuration (~100 MiB and ~0.4 s of CPU to
 * build): the event loop's prep (PREP_THREADS=0) and vLLM's /tokenize share it. Encoding keeps no
 * per-call state, only a memo of words already split. Keyed by the file's size and modification
 * time too, so a replaced file is read again.
 */
const tokenizers = new Map<string, Tokenizer>();

export function sharedTokenizer(md: TokenizerFiles): Tokenizer {
  const { size, mtimeMs } = statSync(md.tokenizerPath);
  const key = JSON.stringify([md.tokenizerPath, size, mtimeMs, md.tokenizerConfig, md.chatTemplate]);
  let tokenizer = tokenizers.get(key);
  if (!tokenizer) tokenizers.set(key, (tokenizer = makeTokenizer(md)));
  return tokenizer;
}

export class PromptEncoder {
  private readonly tokenizer: Tokenizer;
  /** The same tokenizer, stopped once maxLength + 1 ids are in (enough to know the prompt is truncated). */
  private readonly prefix: PrefixTokenizer;
  /** Rendered with Python Jinja's string semantics (see python-jinja.ts), as transformers renders it. */
  private readonly template: ChatTemplate;

  constructor(md: TokenizerFiles, readonly maxLength: number) {
    this.tokenizer = sharedTokenizer(md);
    this.prefix = new PrefixTokenizer(this.tokenizer);
    this.template = new ChatTemplate(md.chatTemplate, md.tokenizerConfig);
  }

  /** The rendered template text, exactly what is tokenized. */
  renderChat(question: string, code: string): string {
    const messages = [
      { role: 'user', content: question },
      { role: 'assistant', content: code },
    ];
    return this.template.render(messages, false);
  }

  encodeChat(question: string, code: string): Prompt {
    return this.encodeText(this.renderChat(question, code));
  }

  /**
   * Tokenizes already-templated text (as vLLM's /classify receives it). addSpecialTokens applies the
   * tokenizer's post-processor, as vLLM does by default: Llama 3's prepends <|begin_of_text|>, which
   * veRL cuts off the text it sends for that reason; Qwen's adds nothing.
   */
  encodeText(text: string, addSpecialTokens = false, keepLast?: number): Prompt {
    // Keeping the last tokens needs them all; keeping the first needs only as many as fit, and one more.
    const ids = keepLast !== undefined
      ? this.tokenize(text, addSpecialTokens)
      : this.prefix.encode(text, addSpecialTokens, this.maxLength + 1, () => this.tokenize(text, addSpecialTokens));
    return truncateIds(ids, this.maxLength, keepLast);
  }

  /** vLLM's /tokenize: every token, no truncation. */
  tokenize(text: string, addSpecialTokens: boolean): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /**
   * vLLM's /tokenize over a prompt or a conversation (rendered with the template; special tokens
   * then left to it unless asked), with each token's spelling when asked.
   */
  tokenizeRequest(req: TokenizeRequest): Tokenized {
    const text = req.messages !== undefined ? this.renderMessages(req.messages, req.addGenerationPrompt) : req.prompt;
    const tokens = this.tokenize(text, req.addSpecialTokens ?? req.messages === undefined);
    return { tokens, strs: req.tokenStrs ? this.tokenStrings(tokens).map((t) => t ?? '') : null };
  }

  /** vLLM's /detokenize: special tokens kept, as transformers' decode by default; or the first id the vocabulary lacks. */
  detokenize(ids: number[]): { text: string } | { unknown: number } {
    const unknown = this.tokenStrings(ids).findIndex((t) => t === undefined);
    return unknown >= 0 ? { unknown } : { text: this.tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: null }) };
  }

  /** Each id's token as the vocabulary spells it (vLLM's token_strs), undefined for an id the tokenizer does not know. */
  tokenStrings(ids: readonly number[]): (string | undefined)[] {
    return ids.map((id) => this.tokenizer.id_to_token(id));
  }

  /** vLLM's chat messages through the template, as transformers' apply_chat_template renders them; a 400 when it refuses them. */
  renderMessages(messages: ChatMessage[], addGenerationPrompt: boolean): string {
    return renderMessages(this.template, messages, addGenerationPrompt);
  }
}

/** vLLM's /tokenize body, as the prep threads take it: a prompt, or messages to render first. */
export type TokenizeRequest = { addSpecialTokens?: boolean; addGenerationPrompt: boolean; tokenStrs: boolean }
  & ({ prompt: string; messages?: undefined } | { messages: ChatMessage[]; prompt?: undefined });

export interface Tokenized {
  tokens: number[];
  strs: string[] | null;
}

/**
 * Token ids cut to fit: right-truncated at maxLength, as the reward model was trained; or, when
 * keepLast is given (vLLM's truncate_prompt_tokens), only the last keepLast tokens, as vLLM keeps them.
 */
export function truncateIds(all: ArrayLike<number>, maxLength: number, keepLast?: number): Prompt {
  const ids = Int32Array.from(all);
  if (keepLast !== undefined) return { ids: ids.length > keepLast ? ids.slice(ids.length - keepLast) : ids, truncated: ids.length > keepLast };
  const truncated = ids.length > maxLength;
  return { ids: truncated ? ids.slice(0, maxLength) : ids, truncated };
}
