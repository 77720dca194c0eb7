// The reward model's input: the model's own chat template over [user: question, assistant: code],
// no system message, no generation prompt, no special tokens added, right-truncated to maxLength.
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ModelDir } from '../model/model-dir.ts';
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
function makeTokenizer(md: TokenizerFiles): Tokenizer {
  const tokenizerJson = JSON.parse(readFileSync(md.tokenizerPath, 'utf8')) as Record<string, unknown>;
  return new Tokenizer(tokenizerJson, { ...md.tokenizerConfig, chat_template: md.chatTemplate });
}

export class PromptEncoder {
  private readonly tokenizer: Tokenizer;
  /** Rendered with Python Jinja's string semantics (see python-jinja.ts), as transformers renders it. */
  private readonly template: ChatTemplate;

  constructor(md: TokenizerFiles, readonly maxLength: number) {
    this.tokenizer = makeTokenizer(md);
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
    return truncateIds(this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids, this.maxLength, keepLast);
  }

  /** vLLM's /tokenize: every token, no truncation. */
  tokenize(text: string, addSpecialTokens: boolean): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** vLLM's /detokenize: special tokens kept, as transformers' decode by default. */
  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: null });
  }

  /** Each id's token as the vocabulary spells it (vLLM's token_strs), undefined for an id the tokenizer does not know. */
  tokenStrings(ids: readonly number[]): (string | undefined)[] {
    return ids.map((id) => this.tokenizer.id_to_token(id));
  }

  /** The template over any conversation (vLLM's messages), as transformers' apply_chat_template renders it. */
  renderMessages(messages: { role: string; content: string }[], addGenerationPrompt: boolean): string {
    return this.template.render(messages, addGenerationPrompt);
  }
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
