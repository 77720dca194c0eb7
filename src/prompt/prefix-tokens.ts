// The first ids of a text's encoding without encoding the whole text. The tokenizer's own steps run
// in its order, piece by piece, and stop once enough ids are in:
//
//   text ─► added-token sections ─► normalize ─► pre-tokenizer chunks (lazily) ─► BPE per chunk ─► ids
//
// Every step is a function of its piece alone (added tokens cut the text into sections; a section is
// normalized and split on its own; each pre-token chunk is merged by BPE on its own), so the ids of
// the pieces before the stop are the whole encoding's first ids: BPE never merges across a chunk,
// and the chunk that crosses the limit is merged whole. That chunk is the one part whose cost the
// limit does not bound (a run of 100,000 letters is one chunk); MAX_TEXT_CHARS bounds it.
//
// Tokenizers whose pipeline is not of this form (a pre-tokenizer other than an isolating regex split
// followed by ByteLevel, fused unknown tokens, lower-casing) are encoded whole, then cut: the same
// ids, at the whole text's cost.
import type { Tokenizer } from '@huggingface/tokenizers';

interface AddedToken {
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}

interface PreTokenizer {
  pre_tokenize(text: string | string[], options?: { section_index?: number }): string[];
  config?: { type?: string; behavior?: string; invert?: boolean };
  pattern?: RegExp | null;
  tokenizers?: (PreTokenizer | null)[];
}

/** The parts of @huggingface/tokenizers' Tokenizer that its encode_text runs (not in its typings). */
interface Pipeline {
  splitter_unnormalized: { split(text: string): string[] };
  splitter_normalized: { split(text: string): string[] };
  added_tokens_map: Map<string, AddedToken>;
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: PreTokenizer | null;
  model: ((tokens: string[]) => string[]) & { tokens_to_ids: Map<string, number>; unk_token_id?: number; fuse_unk?: boolean };
  post_processor: ((tokens: string[], pair: null, addSpecialTokens: boolean) => { tokens: string[] }) | null;
  remove_space?: boolean;
  do_lowercase_and_remove_accent?: boolean;
}

/** A section's tokens as far as they were taken; `complete` once the section was tokenized to its end. */
interface SectionTokens {
  tokens: string[];
  complete: boolean;
}

/** Sections shorter than this are not worth a cache entry: BPE caches short words itself. */
const MIN_CACHED_SECTION = 256;

export class PrefixTokenizer {
  private readonly pipeline: Pipeline;
  /** The pre-tokenizer's first step, a regex whose matches and the gaps between them are the chunks; null: no lazy split. */
  private readonly split: RegExp | null;
  /** The pre-tokenizer's later steps, each applied to every chunk on its own. */
  private readonly perChunk: PreTokenizer[];
  /**
   * Recently tokenized long sections, least recently used first, up to cacheChars characters: a
   * question shared by a request's items (a GRPO group, a rerank query) is tokenized once.
   */
  private readonly cache = new Map<string, SectionTokens>();
  private cachedChars = 0;

  constructor(tokenizer: Tokenizer, private readonly cacheChars = 4 * 1024 * 1024) {
    this.pipeline = tokenizer as unknown as Pipeline;
    const steps = stepsOf(this.pipeline.pre_tokenizer);
    const first = steps?.[0];
    // Later steps must not depend on where a chunk sits (Metaspace's prepend_scheme "first" does): ByteLevel only.
    const lazy = first && first.config?.type === 'Split' && first.config.behavior?.toLowerCase() === 'isolated' && !first.config.invert && first.pattern?.global
      && steps!.slice(1).every((step) => step.config?.type === 'ByteLevel')
      && this.pipeline.model.fuse_unk !== true && !this.pipeline.remove_space && !this.pipeline.do_lowercase_and_remove_accent;
    this.split = lazy ? first.pattern! : null;
    this.perChunk = lazy ? steps!.slice(1) : [];
  }

  /** Whether encode stops early for this tokenizer (else it encodes the whole text, then cuts). */
  get lazy(): boolean {
    return this.split !== null;
  }

  /**
   * encode(text)'s first `limit` ids (fewer when the text has fewer), as the tokenizer's encode
   * with add_special_tokens gives them; `fallback` is that encode, run when the pipeline is not lazy.
   */
  encode(text: string, addSpecialTokens: boolean, limit: number, fallback: () => number[]): number[] {
    if (!this.split) return fallback().slice(0, limit);
    const p = this.pipeline;
    const tokens: string[] = [];
    for (const section of adjustedSections(p.splitter_unnormalized.split(text), p.added_tokens_map)) {
      if (tokens.length >= limit) break;
      if (section.length === 0) continue;
      if (p.added_tokens_map.has(section)) tokens.push(section);
      else for (const t of this.sectionTokens(section, limit - tokens.length)) tokens.push(t);
    }
    // A post-processor adds special tokens around the text's (a BOS before it, an EOS after it): on
    // the first `limit` tokens it gives the whole text's first `limit` ids.
    const processed = p.post_processor ? p.post_processor(tokens, null, addSpecialTokens).tokens : tokens;
    const ids = processed.slice(0, limit).map((t) => p.added_tokens_map.get(t)?.id ?? p.model.tokens_to_ids.get(t) ?? p.model.unk_token_id!);
    return ids;
  }

  /** At least `need` tokens of one section (all of them if it has fewer), from the cache when it holds as many. */
  private sectionTokens(section: string, need: number): string[] {
    const hit = this.cache.get(section);
    if (hit && (hit.complete || hit.tokens.length >= need)) {
      this.cache.delete(section);
      this.cache.set(section, hit);
      return hit.tokens;
    }
    const got = this.tokenizeSection(section, need);
    if (section.length >= MIN_CACHED_SECTION && section.length <= this.cacheChars) this.remember(section, got);
    return got.tokens;
  }

  private remember(section: string, got: SectionTokens): void {
    const old = this.cache.get(section);
    if (old) this.cache.delete(section);
    else this.cachedChars += section.length;
    this.cache.set(section, got);
    for (const [key] of this.cache) {
      if (this.cachedChars <= this.cacheChars) break;
      this.cache.delete(key);
      this.cachedChars -= key.length;
    }
  }

  /** encode_text's steps over one section that is not an added token, stopping after `need` tokens. */
  private tokenizeSection(section: string, need: number): SectionTokens {
    const p = this.pipeline;
    const tokens: string[] = [];
    const normalized = p.normalizer ? p.normalizer(section) : section;
    if (normalized.length === 0) return { tokens, complete: true };
    for (const sub of adjustedSections(p.splitter_normalized.split(normalized), p.added_tokens_map)) {
      if (tokens.length >= need) return { tokens, complete: false };
      if (sub.length === 0) continue;
      if (p.added_tokens_map.has(sub)) {
        tokens.push(sub);
        continue;
      }
      for (const chunk of isolatedSplit(sub, this.split!)) {
        if (tokens.length >= need) return { tokens, complete: false };
        let pieces = [chunk];
        for (const step of this.perChunk) pieces = step.pre_tokenize(pieces, { section_index: 0 });
        for (const t of p.model(pieces)) tokens.push(t);
      }
    }
    return { tokens, complete: true };
  }
}

/** A pre-tokenizer's steps: a Sequence's own, or the one. */
function stepsOf(pre: PreTokenizer | null): PreTokenizer[] | undefined {
  if (!pre) return undefined;
  if (Array.isArray(pre.tokenizers)) return pre.tokenizers.every((t) => t !== null) ? (pre.tokenizers as PreTokenizer[]) : undefined;
  return [pre];
}

/** Sections next to an added token that strips white space, stripped as encode_text strips them. */
function adjustedSections(sections: string[], added: Map<string, AddedToken>): string[] {
  sections.forEach((section, i) => {
    const token = added.get(section);
    if (!token) return;
    if (token.lstrip && i > 0) sections[i - 1] = sections[i - 1].trimEnd();
    if (token.rstrip && i < sections.length - 1) sections[i + 1] = sections[i + 1].trimStart();
  });
  return sections;
}

/** The regex's matches and the stretches between them, in order, one at a time (the Split pre-tokenizer's "isolated" behaviour). */
function* isolatedSplit(text: string, regex: RegExp): Generator<string> {
  let prev = 0;
  for (const match of text.matchAll(regex)) {
    if (prev < match.index) yield text.slice(prev, match.index);
    if (match[0].length > 0) yield match[0];
    prev = match.index + match[0].length;
  }
  if (prev < text.length) yield text.slice(prev);
}
