// Applies one file's hunks to its original source, the way GNU patch does without fuzz: each hunk's
// old lines (context and removed) must appear verbatim; the search starts where the header says,
// shifted by the offset the previous hunk needed, and tries +1, -1, +2, -2, ... lines from there,
// never before the end of the previous hunk. The result records where every removed line sat in
// the original and where every added line sits in the patched file (0-based rows).
import { LocalizationInputError } from './errors.ts';
import type { FilePatch } from './patch.ts';

export interface SourceLines {
  lines: string[];
  /** The text ends with a newline. */
  eol: boolean;
}

export interface AppliedPatch {
  original: SourceLines;
  patched: SourceLines;
  removedRows: number[];
  addedRows: number[];
}

/** Splits on `\n` only, as tree-sitter counts rows; a `\r` stays part of its line. */
function splitLines(text: string): SourceLines {
  if (text === '') return { lines: [], eol: false };
  const lines = text.split('\n');
  const eol = lines[lines.length - 1] === '';
  if (eol) lines.pop();
  return { lines, eol };
}

export function joinLines({ lines, eol }: SourceLines): string {
  return lines.length ? lines.join('\n') + (eol ? '\n' : '') : '';
}

/**
 * Steps (candidate rows tried, line comparisons made) one file's hunks may spend finding their
 * places. Real context lines differ from each other, so a search costs about two steps per
 * candidate row; only text made of the same line over and over gets near this, and is then
 * reported as not applying.
 */
export const SEARCH_BUDGET = 20_000_000;

/**
 * The start row of `block` in `lines` nearest to `want`, at or after `min`; -1 if none. `budget`
 * holds the steps left and is charged for every row tried, in the file or not, and every comparison.
 */
function locate(lines: readonly string[], block: readonly string[], want: number, min: number, budget: { left: number }): number {
  const max = lines.length - block.length;
  // Rows outside [min, max] are never candidates: a start stated past either end searches from
  // that end, in the same order of distance, instead of stepping through rows that do not exist.
  want = Math.max(min, Math.min(want, max));
  const matchesAt = (at: number) => {
    let k = 0;
    while (k < block.length && lines[at + k] === block[k]) k++;
    budget.left -= k;
    return k === block.length;
  };
  for (let d = 0; (want + d <= max || want - d >= min) && budget.left > 0; d++) {
    budget.left--;
    const up = want + d;
    if (up >= min && up <= max && matchesAt(up)) return up;
    const down = want - d;
    if (d > 0 && down >= min && down <= max && matchesAt(down)) return down;
  }
  return -1;
}

/** `budget`: steps the hunk search may spend (tests give a small one). */
export function applyPatch(source: string, file: FilePatch, path: string, budget = { left: SEARCH_BUDGET }): AppliedPatch {
  const original = splitLines(source);
  const src = original.lines;
  const out: string[] = [];
  const removedRows: number[] = [];
  const addedRows: number[] = [];
  let eol = original.eol;
  let next = 0; // first original row not yet copied
  let shift = 0; // offset the previous hunk needed

  file.hunks.forEach((hunk, k) => {

    const oldBlock = hunk.lines.filter((l) => l.kind !== '+').map((l) => l.text);
    // `-5,0` inserts after line 5, so its block starts at row 5; `-5,3` starts at row 4.
    const stated = hunk.oldCount === 0 ? hunk.oldStart : hunk.oldStart - 1;
    const at = locate(src, oldBlock, stated + shift, next, budget);
    if (at < 0) {
      throw new LocalizationInputError('hunk_mismatch', `hunk ${k + 1} of ${path} does not apply at line ${stated + 1}`);
    }
    shift = at - stated;
    for (; next < at; next++) out.push(src[next]);
    for (const { kind, text } of hunk.lines) {
      if (kind === '+') {
        addedRows.push(out.length);
        out.push(text);
      } else if (kind === '-') {
        removedRows.push(next++);
      } else {
        out.push(src[next++]);
      }
    }
    if (next === src.length) eol = !hunk.newNoEol && (out.length > 0);
  });
  for (; next < src.length; next++) out.push(src[next]);
  return { original, patched: { lines: out, eol }, removedRows, addedRows };
}
