// Unified diff reader (git-style and plain `diff -u`), enough to map every changed line to a file.
//
// A patch is a list of file sections. A section starts at `diff --git` or at a `---` line followed
// by `+++`; git's extended headers (new/deleted file mode, rename/copy from/to, Binary files) refine
// it. Hunks are read by their header counts, so a removed line that happens to read `-- x` is still
// a removed line. Lines outside sections and hunks (a mail header, a commit message, git's `-- `
// signature) are skipped, as GNU patch skips them. Paths lose one leading `a/` or `b/`.
import { LocalizationInputError } from './errors.ts';

export interface HunkLine {
  kind: ' ' | '-' | '+';
  text: string;
}

export interface Hunk {
  /** 1-based line of the old side, as the header states it (0 for an insertion at the top). */
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  lines: HunkLine[];
  /** `\ No newline at end of file` follows the new side's last line. */
  newNoEol: boolean;
}

export interface FilePatch {
  /** Path before the patch; null for a file the patch creates (or copies into being). */
  oldPath: string | null;
  /** Path after the patch; null for a file the patch deletes. */
  newPath: string | null;
  hunks: Hunk[];
  /** A binary diff: its content cannot be mapped to lines. */
  binary: boolean;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

function malformed(message: string): LocalizationInputError {
  return new LocalizationInputError('malformed_patch', message);
}

/** Reads git's C-style quoted path starting at `s[0] === '"'`; returns the path and the rest. */
function unquote(s: string): [string, string] {
  const bytes: number[] = [];
  let i = 1;
  while (i < s.length && s[i] !== '"') {
    if (s[i] !== '\\') {
      bytes.push(...Buffer.from(s[i++], 'utf8'));
      continue;
    }
    const e = s[i + 1];
    if (e !== undefined && e >= '0' && e <= '7') {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8) & 0xff);
      i += 4;
    } else if (e !== undefined && e in C_ESCAPES) {
      bytes.push(C_ESCAPES[e]);
      i += 2;
    } else {
      throw malformed(`bad escape in quoted path ${s}`);
    }
  }
  if (i >= s.length) throw malformed(`unterminated quoted path ${s}`);
  return [Buffer.from(bytes).toString('utf8'), s.slice(i + 1)];
}

function stripPrefix(path: string, prefix: 'a/' | 'b/'): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** The path of a `---` / `+++` / `rename from` line's value; null for /dev/null. */
function headerPath(value: string, prefix: 'a/' | 'b/' | null): string | null {
  const raw = value.startsWith('"') ? unquote(value)[0] : value.split('\t')[0].replace(/\r$/, '');
  if (raw === '/dev/null') return null;
  return prefix ? stripPrefix(raw, prefix) : raw;
}

/** Both paths of `diff --git a/X b/Y`, used only when no other header names the file. */
function gitLinePaths(rest: string): [string, string] {
  rest = rest.replace(/\r$/, '');
  if (rest.startsWith('"')) {
    const [a, tail] = unquote(rest);
    const b = tail.trimStart();
    return [stripPrefix(a, 'a/'), stripPrefix(b.startsWith('"') ? unquote(b)[0] : b, 'b/')];
  }
  const quoted = rest.indexOf(' "');
  if (quoted >= 0) return [stripPrefix(rest.slice(0, quoted), 'a/'), stripPrefix(unquote(rest.slice(quoted + 1))[0], 'b/')];
  // `a/P b/P`: the split that makes both halves equal, which git writes for unrenamed files.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest.startsWith('a/') && rest.slice(half, half + 3) === ' b/' && rest.slice(2, half) === rest.slice(half + 3)) {
    const p = rest.slice(2, half);
    return [p, p];
  }
  const cut = rest.indexOf(' b/');
  if (cut < 0) throw malformed(`cannot read the paths of "diff --git ${rest}"`);
  return [stripPrefix(rest.slice(0, cut), 'a/'), rest.slice(cut + 3)];
}

interface Section extends FilePatch {
  /** Set by `---`/`+++`, which may appear only once per section. */
  hasFileHeaders: boolean;
}

const EXTENDED_HEADER = /^(old mode|new mode|deleted file mode|new file mode|similarity index|dissimilarity index|rename from|rename to|copy from|copy to|index|Binary files|GIT binary patch)\b/;

export function parsePatch(patch: string): FilePatch[] {
  const lines = patch.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const sections: Section[] = [];
  let cur: Section | null = null;
  let afterHunk = false;

  const label = (s: Section) => s.oldPath ?? s.newPath ?? '(unnamed file)';

  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    if (line.startsWith('diff --git ')) {
      const [a, b] = gitLinePaths(line.slice('diff --git '.length));
      cur = { oldPath: a, newPath: b, hunks: [], binary: false, hasFileHeaders: false };
      sections.push(cur);
      afterHunk = false;
      i++;
      for (; i < lines.length && EXTENDED_HEADER.test(lines[i]); i++) {
        const h = lines[i];
        if (h.startsWith('new file mode') || h.startsWith('copy to ')) cur.oldPath = null;
        if (h.startsWith('copy to ')) cur.newPath = headerPath(h.slice('copy to '.length), null);
        if (h.startsWith('deleted file mode')) cur.newPath = null;
        if (h.startsWith('rename from ')) cur.oldPath = headerPath(h.slice('rename from '.length), null);
        if (h.startsWith('rename to ')) cur.newPath = headerPath(h.slice('rename to '.length), null);
        if (h.startsWith('Binary files') || h.startsWith('GIT binary patch')) cur.binary = true;
      }
      continue;
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const oldPath = headerPath(line.slice(4), 'a/');
      const newPath = headerPath(lines[i + 1].slice(4), 'b/');
      if (!cur || cur.hasFileHeaders || cur.hunks.length) {
        cur = { oldPath, newPath, hunks: [], binary: false, hasFileHeaders: true };
        sections.push(cur);
      } else {
        // Inside a `diff --git` section the ---/+++ lines name the same file; /dev/null marks a
        // created or deleted one. A copy keeps its null old path.
        if (cur.oldPath !== null) cur.oldPath = oldPath;
        cur.newPath = newPath;
        cur.hasFileHeaders = true;
      }
      afterHunk = false;
      i += 2;
      continue;
    }
    if (line.startsWith('@@')) {
      if (!cur || !cur.hasFileHeaders) throw malformed(`line ${i + 1}: hunk header outside a file section`);
      const m = HUNK_HEADER.exec(line);
      if (!m) throw malformed(`line ${i + 1}: bad hunk header ${JSON.stringify(line.slice(0, 80))}`);
      const hunk: Hunk = {
        oldStart: Number(m[1]), oldCount: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]), newCount: m[4] === undefined ? 1 : Number(m[4]),
        lines: [], newNoEol: false,
      };
      const where = `hunk ${cur.hunks.length + 1} of ${label(cur)}`;
      if (![hunk.oldStart, hunk.oldCount, hunk.newStart, hunk.newCount].every(Number.isSafeInteger)) {
        throw malformed(`${where}: a line number or count in its header is larger than ${Number.MAX_SAFE_INTEGER}`);
      }
      let oldLeft = hunk.oldCount;
      let newLeft = hunk.newCount;
      i++;
      while (oldLeft > 0 || newLeft > 0 || lines[i]?.startsWith('\\')) {
        if (i >= lines.length) throw malformed(`${where} ends early: ${oldLeft} old and ${newLeft} new lines missing`);
        const l = lines[i++];
        const kind = l === '' ? ' ' : l[0];
        if (kind === '\\') {
          if (hunk.lines.at(-1)?.kind !== '-') hunk.newNoEol = true;
          continue;
        }
        if (kind !== ' ' && kind !== '-' && kind !== '+') {
          throw malformed(`${where}: line ${i} is not a context, removed or added line`);
        }
        if (kind !== '+') oldLeft--;
        if (kind !== '-') newLeft--;
        if (oldLeft < 0 || newLeft < 0) throw malformed(`${where}: more lines than its header counts`);
        hunk.lines.push({ kind, text: l.slice(1) });
      }
      cur.hunks.push(hunk);
      afterHunk = true;
      continue;
    }
    if (line === '-- ' || line === '--') break; // git format-patch signature: the patch is over.
    if (afterHunk && /^[-+ ]/.test(line)) {
      throw malformed(`line ${i + 1}: more lines than the header of hunk ${cur!.hunks.length} of ${label(cur!)} counts`);
    }
    afterHunk = false;
    i++;
  }
  return sections.map(({ oldPath, newPath, hunks, binary }) => ({ oldPath, newPath, hunks, binary }));
}
