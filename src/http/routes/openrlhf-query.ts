// OpenRLHF sends the decoded prompt+response ("query") and the prompt, not (question, response):
// this module splits them back. The question is the last user turn of the prompt, found with the
// turn markers of ChatML and of the model's own chat template; the response is the query after the
// prompt, less a trailing end-of-turn token.

export interface TurnMarkers {
  /** Text that opens a user turn, e.g. `<|im_start|>user\n`. */
  opener: string;
  /** Text that closes it, e.g. `<|im_end|>`; empty when the template writes nothing after the content. */
  closer: string;
}

export const CHATML: TurnMarkers = { opener: '<|im_start|>user\n', closer: '<|im_end|>' };

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
    return prompt.slice(start, end < 0 ? undefined : end);
  }
  return prompt;
}

/** The query after the prompt, less trailing end-of-turn tokens; undefined when the query does not start with the prompt. */
export function recoverResponse(query: string, prompt: string, endTokens: readonly string[]): string | undefined {
  if (!query.startsWith(prompt)) return undefined;
  const tokens = endTokens.filter((t) => t !== '');
  let response = query.slice(prompt.length);
  for (let token = tokens.find((t) => response.endsWith(t)); token; token = tokens.find((t) => response.endsWith(t))) {
    response = response.slice(0, -token.length);
  }
  return response;
}
