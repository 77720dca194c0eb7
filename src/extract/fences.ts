// Fenced-code extraction with the exact semantics of the upstream rule
//   re.findall(r"```(?:\w+)?\n(.*?)```", text, re.DOTALL)
// (Python 3 str pattern, so `\w` is Unicode-aware), implemented as a single
// left-to-right scan so that hostile inputs (megabytes of backticks, tens of
// thousands of fences) cost time linear in their length.

import { pyStrip } from '../python/text.ts';

export { pyStrip };

/** How code is taken from a response; the routes' and the CLI's accepted values. */
export const EXTRACTION_MODES = ['single_block', 'last_block', 'none'] as const;
export type ExtractionMode = (typeof EXTRACTION_MODES)[number];
/** What extraction found: code ('ok') or why there is none to score. */
export const EXTRACT_STATUSES = ['ok', 'no_code', 'multiple_blocks', 'empty_code'] as const;
export type ExtractStatus = (typeof EXTRACT_STATUSES)[number];

const BACKTICK = 0x60;
const NEWLINE = 0x0a;

// Python's `\w` for str patterns: str.isalnum() or '_' (letters Lu/Ll/Lt/Lm/Lo,
// numbers Nd/Nl/No). Combining marks are not word characters.
const WORD_CHAR = /[\p{L}\p{N}_]/u;

function isWordAt(text: string, i: number): number {
  // Returns the number of UTF-16 units of the word character at i, 0 if none.
  const c = text.charCodeAt(i);
  if (c < 0x80) {
    return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f ? 1 : 0;
  }
  const cp = text.codePointAt(i)!;
  const width = cp > 0xffff ? 2 : 1;
  return WORD_CHAR.test(String.fromCodePoint(cp)) ? width : 0;
}

export interface FenceScan {
  blocks: string[];
  /** Characters inspected by the scan; at most a small constant times text.length. */
  steps: number;
}

/**
 * The scan behind findFencedBlocks, also reporting how much work it did.
 *
 * Why it is linear: a failed opening at p costs the length of the word run
 * after "```", and a word run follows at most one "```" (a backtick is not a
 * word character). A successful opening's body search stops at the first
 * "```", where the next search resumes. An opening without any later "```"
 * means no later opening can close either, so the scan ends there.
 */
export function scanFencedBlocks(text: string): FenceScan {
  const blocks: string[] = [];
  const n = text.length;
  let steps = 0;
  let p = 0;
  while (p + 3 <= n) {
    steps++;
    if (text.charCodeAt(p) !== BACKTICK || text.charCodeAt(p + 1) !== BACKTICK || text.charCodeAt(p + 2) !== BACKTICK) {
      p++;
      continue;
    }
    // Tag: a maximal run of word characters (an optional \w+ followed by a
    // newline is the same as \w* then newline, as \w never matches "\n").
    let q = p + 3;
    let w: number;
    while (q < n && (w = isWordAt(text, q)) > 0) {
      q += w;
      steps++;
    }
    steps++;
    if (q >= n || text.charCodeAt(q) !== NEWLINE) {
      p++;
      continue;
    }
    const bodyStart = q + 1;
    const close = text.indexOf('```', bodyStart);
    steps += (close < 0 ? n : close + 3) - bodyStart;
    if (close < 0) break;
    blocks.push(text.slice(bodyStart, close));
    p = close + 3;
  }
  return { blocks, steps };
}

/** Bodies of all fenced blocks, in re.findall order. */
export function findFencedBlocks(text: string): string[] {
  return scanFencedBlocks(text).blocks;
}

export function extractCode(response: string, mode: ExtractionMode): { status: ExtractStatus; code: string } {
  let raw: string;
  if (mode === 'none') {
    raw = response;
  } else {
    const blocks = findFencedBlocks(response);
    if (blocks.length === 0) return { status: 'no_code', code: '' };
    if (mode === 'single_block' && blocks.length > 1) return { status: 'multiple_blocks', code: '' };
    raw = blocks[blocks.length - 1];
  }
  const code = pyStrip(raw);
  return code === '' ? { status: 'empty_code', code: '' } : { status: 'ok', code };
}
