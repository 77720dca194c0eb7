// OpenRLHF sends the decoded prompt+response ("query") and the prompt, not (question, response):
// this module splits them back. The question is the last user turn of the prompt, found with the
// turn markers of the model's own chat template or of the policy chat formats in CHAT_FORMATS; the
// response is the query after the prompt, less a trailing end-of-turn token. OpenRLHF cuts an
// over-long prompt's tokens from the front but still sends the whole prompt, so a query may start
// inside its prompt: then the response is what follows the prompt's tail in the query, or else what
// follows the last assistant header.

export interface TurnMarkers {
  /** Text that opens a user turn, e.g. `<|im_start|>user\n`. */
  opener: string;
  /** Text that closes it, e.g. `<|im_end|>`; empty when the template writes nothing after the content. */
  closer: string;
}

export const CHATML: TurnMarkers = { opener: '<|im_start|>user\n', closer: '<|im_end|>' };

/** The markers of one policy chat format, as its chat template writes them. */
export interface ChatFormat {
  name: string;
  user: TurnMarkers;
  /** Text that opens the assistant turn (what add_generation_prompt appends). */
  assistant: string;
  /** Tokens a generation in this format may end with. */
  ends: readonly string[];
  /** The template pads the user content with spaces (Mistral's `[INST] q [/INST]`): trim them. */
  trim?: boolean;
}

/** Chat formats of the policies people train, most specific first (Phi-4's ChatML variant before ChatML). */
export const CHAT_FORMATS: readonly ChatFormat[] = [
  { name: 'phi-4', user: { opener: '<|im_start|>user<|im_sep|>', closer: '<|im_end|>' }, assistant: '<|im_start|>assistant<|im_sep|>', ends: ['<|im_end|>', '<|endoftext|>'] },
  { name: 'chatml (Qwen)', user: CHATML, assistant: '<|im_start|>assistant\n', ends: ['<|im_end|>', '<|endoftext|>'] },
  { name: 'llama-3', user: { opener: '<|start_header_id|>user<|end_header_id|>\n\n', closer: '<|eot_id|>' }, assistant: '<|start_header_id|>assistant<|end_header_id|>\n\n', ends: ['<|eot_id|>', '<|eom_id|>', '<|end_of_text|>'] },
  { name: 'deepseek (V3, R1, R1-distill)', user: { opener: '<\uff5cUser\uff5c>', closer: '<\uff5cAssistant\uff5c>' }, assistant: '<\uff5cAssistant\uff5c>', ends: ['<\uff5cend\u2581of\u2581sentence\uff5c>'] },
  { name: 'gemma (2, 3)', user: { opener: '<start_of_turn>user\n', closer: '<end_of_turn>' }, assistant: '<start_of_turn>model\n', ends: ['<end_of_turn>', '<eos>'] },
  { name: 'phi-3', user: { opener: '<|user|>\n', closer: '<|end|>' }, assistant: '<|assistant|>\n', ends: ['<|end|>', '<|endoftext|>'] },
  { name: 'mistral', user: { opener: '[INST]', closer: '[/INST]' }, assistant: '[/INST]', ends: ['</s>'], trim: true },
];

/** Every end token of the chat formats, for stripping the end of a generation. */
export const FORMAT_END_TOKENS: readonly string[] = [...new Set(CHAT_FORMATS.flatMap((f) => f.ends))];

const QUESTION_SENTINEL = '\u0001question\u0001';
const CODE_SENTINEL = '\u0001code\u0001';

/**
 * The user-turn markers of a chat template, read off one rendering of [user, assistant] with
 * sentinel contents. The opener is the stretch before the question that names the role ("user"),
 * starting at the special token that begins it, so that a BOS or a default system prompt before
 * the first turn is not part of it; the closer is the first special token (else the first word)
 * after the question. Undefined when the rendering does not show them.
 */
export async function templateMarkers(render: (question: string, code: string) => string | Promise<string>, specialTokens: readonly string[]): Promise<TurnMarkers | undefined> {
  const text = await render(QUESTION_SENTINEL, CODE_SENTINEL);
  const q = text.indexOf(QUESTION_SENTINEL);
  const c = text.indexOf(CODE_SENTINEL);
  if (q <= 0 || c < q) return undefined;
  const before = text.slice(0, q);
  const between = text.slice(q + QUESTION_SENTINEL.length, c);

  const role = before.lastIndexOf('user');
  let start: number;
  if (role >= 0) {
    start = role;
    while (start > 0 && !/\s/.test(before[start - 1])) start--;
    const tokenStart = lastSpecialStart(before, specialTokens, start, role);
    if (tokenStart >= 0) start = tokenStart;
  } else {
    start = Math.max(0, lastSpecialStart(before, specialTokens, 0, before.length - 1));
  }

  const word = between.trimStart().split(/\s/, 1)[0];
  const special = specialTokens.filter((t) => word.startsWith(t)).sort((a, b) => b.length - a.length)[0];
  return { opener: before.slice(start), closer: special ?? word };
}

/** Start of the last special token that begins in [from, to] of text; -1 if none. */
function lastSpecialStart(text: string, specialTokens: readonly string[], from: number, to: number): number {
  let best = -1;
  for (const token of specialTokens) {
    for (let i = text.indexOf(token, from); i >= 0 && i <= to; i = text.indexOf(token, i + 1)) best = Math.max(best, i);
  }
  return best;
}

/** The content of the prompt's last user turn under the first markers that find one; else the whole prompt. */
export function recoverQuestion(prompt: string, markers: readonly TurnMarkers[]): string {
  for (const { opener, closer } of markers) {
    const at = prompt.lastIndexOf(opener);
    if (at < 0) continue;
    const start = at + opener.length;
    const end = closer === '' ? -1 : prompt.indexOf(closer, start);
    const question = prompt.slice(start, end < 0 ? undefined : end);
    return CHAT_FORMATS.some((f) => f.trim && f.user.opener === opener) ? question.trim() : question;
  }
  return prompt;
}

/**
 * The query after the prompt, less trailing end-of-turn tokens. A query that does not start with
 * its prompt (OpenRLHF cut the prompt's tokens from the front) is matched against the prompt's
 * tail, else split after its last assistant header; undefined when neither finds the response.
 */
export function recoverResponse(query: string, prompt: string, endTokens: readonly string[], assistantHeaders: readonly string[] = []): string | undefined {
  const start = query.startsWith(prompt) ? prompt.length : (truncatedPromptEnd(query, prompt) ?? afterAssistantHeader(query, prompt, assistantHeaders));
  if (start === undefined) return undefined;
  const tokens = endTokens.filter((t) => t !== '');
  // Cut by index, not by slicing at each token, so a response of many end tokens costs its length once.
  let end = query.length;
  for (let token = tokens.find((t) => endsWithAt(query, t, start, end)); token; token = tokens.find((t) => endsWithAt(query, t, start, end))) {
    end -= token.length;
  }
  return query.slice(start, end);
}

/** Whether query[start, end) ends with token. */
function endsWithAt(query: string, token: string, start: number, end: number): boolean {
  return end - token.length >= start && query.startsWith(token, end - token.length);
}

/**
 * Where the prompt ends in a query that holds only the prompt's tail: the query, less a few
 * leading characters a cut token may have decoded differently, starts with a suffix of the prompt
 * at least as long as an anchor of 8 to 32 characters; the longest such suffix wins.
 */
function truncatedPromptEnd(query: string, prompt: string): number | undefined {
  for (let skip = 0; skip <= 4 && skip < query.length; skip++) {
    const anchor = Math.min(32, query.length - skip);
    if (anchor < 8) return undefined;
    const overlap = longestSuffixPrefix(prompt, query, skip);
    if (overlap >= anchor) return skip + overlap;
  }
  return undefined;
}

/**
 * The length of the longest suffix of `text` that is a prefix of `pattern` from `from` on, in time
 * linear in both (Knuth-Morris-Pratt: the failure function of the pattern, then one pass over the
 * text). Only the pattern's first text.length characters can take part, so the window is bounded by
 * the text.
 */
function longestSuffixPrefix(text: string, pattern: string, from = 0): number {
  const m = Math.min(pattern.length - from, text.length);
  if (m <= 0) return 0;
  // fail[i]: length of the longest proper border of pattern[from, from + i + 1).
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && pattern.charCodeAt(from + i) !== pattern.charCodeAt(from + k)) k = fail[k - 1];
    if (pattern.charCodeAt(from + i) === pattern.charCodeAt(from + k)) k++;
    fail[i] = k;
  }
  let matched = 0;
  for (let i = 0; i < text.length; i++) {
    if (matched === m) matched = fail[m - 1];
    while (matched > 0 && text.charCodeAt(i) !== pattern.charCodeAt(from + matched)) matched = fail[matched - 1];
    if (text.charCodeAt(i) === pattern.charCodeAt(from + matched)) matched++;
  }
  return matched;
}

/** After the last assistant header in the query, of those the prompt ends with. */
function afterAssistantHeader(query: string, prompt: string, assistantHeaders: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const header of assistantHeaders) {
    if (header === '' || !prompt.trimEnd().endsWith(header.trimEnd())) continue;
    const at = query.lastIndexOf(header);
    if (at >= 0 && (best === undefined || at + header.length > best)) best = at + header.length;
  }
  return best;
}

/** Splits one OpenRLHF (query, prompt) pair; undefined response: the query does not continue its prompt. */
export type QuerySplitter = (query: string, prompt: string) => { question: string; response: string | undefined };

function tokenContent(value: unknown): string {
  if (typeof value === 'string') return value;
  const content = (value as { content?: unknown } | null)?.content;
  return typeof content === 'string' ? content : '';
}

/**
 * The splitter for one model: its own turn markers, read once from one rendering of its template,
 * then the policies' formats; its eos token among the end tokens.
 */
export async function querySplitter(
  render: (question: string, code: string) => string | Promise<string>,
  specialTokens: readonly string[],
  eosToken: unknown,
): Promise<QuerySplitter> {
  const endTokens = [...FORMAT_END_TOKENS, tokenContent(eosToken)];
  const own = await templateMarkers(render, specialTokens);
  const markers: TurnMarkers[] = [...(own ? [own] : []), ...CHAT_FORMATS.map((f) => f.user)];
  const assistantHeaders = CHAT_FORMATS.map((f) => f.assistant);
  return (query, prompt) => ({ question: recoverQuestion(prompt, markers), response: recoverResponse(query, prompt, endTokens, assistantHeaders) });
}
