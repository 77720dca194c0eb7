// Bench items: top-level functions of this machine's Python standard library, each fenced in a
// ```python block under a short question. Python itself is asked once whether every snippet parses
// (so a "valid" item is valid by CPython's verdict) and whether each broken variant really fails.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { mulberry32 } from '../../tools/mulberry32.ts';
import { shuffle } from './stats.ts';
import { fence } from '../../test/support/fence.ts';

export interface BenchItem {
  /** Position in the bench order, also the key for score comparison. */
  index: number;
  /** `module.function`, for reports. */
  source: string;
  question: string;
  response: string;
  /** CPython's verdict on the fenced code. */
  valid: boolean;
}

export interface Corpus {
  stdlib: string;
  /** Top-level functions found before sampling. */
  candidates: number;
  items: BenchItem[];
  /** The same items with `invalidShare` of them broken (a syntax error injected). */
  withInvalid: BenchItem[];
}

interface Snippet {
  module: string;
  name: string;
  code: string;
}

/** Directories whose files are not representative library code (tests, Python 2 fixtures, vendored packages). */
const SKIP_DIRS = new Set(['test', 'tests', 'site-packages', 'lib2to3', 'idlelib', 'turtledemo', '__pycache__', 'ensurepip']);
const MIN_LINES = 4;
/** Long functions are rare in RL answers; cap them so a few giants do not dominate the token count. */
const MAX_LINES = 80;

const QUESTIONS = [
  (s: Snippet) => `Write a Python function \`${s.name}\` as found in the \`${s.module}\` module.`,
  (s: Snippet) => `Implement \`${s.name}\` (module \`${s.module}\`).`,
  (s: Snippet) => `Complete the helper \`${s.name}\` of \`${s.module}\`.`,
  (s: Snippet) => `Please write \`${s.name}\` for the ${s.module} library.`,
];

/** Ways to break a function; Python confirms each one actually fails to parse. */
const BREAKAGES: Record<string, (code: string) => string> = {
  // The block header loses its colon: `def f(x)` then the body.
  missing_colon: (code) => {
    const lines = code.split('\n');
    const k = lines.findIndex((l) => l.trimEnd().endsWith(':'));
    if (k >= 0) lines[k] = lines[k].trimEnd().slice(0, -1);
    return lines.join('\n');
  },
  // The last statement gains two spaces of indentation.
  unexpected_indent: (code) => {
    const lines = code.split('\n');
    lines[lines.length - 1] = '  ' + lines[lines.length - 1];
    return lines.join('\n');
  },
  // An opening bracket never closed.
  unclosed_bracket: (code) => code.replace(/\(/, '(('),
};

export function stdlibDir(): string {
  return execFileSync('python3', ['-c', "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], { encoding: 'utf8' }).trim();
}

function pythonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) out.push(...pythonFiles(join(dir, entry.name)));
    else if (entry.isFile() && entry.name.endsWith('.py')) out.push(join(dir, entry.name));
  }
  return out;
}

/**
 * Line scan: a block starts at a column-0 `def`/`async def` (with its decorators) and ends before
 * the next column-0 line that is not blank. A string literal with text at column 0 can cut a block
 * short; Python's verdict filters those out later.
 */
function topLevelFunctions(file: string, module: string): Snippet[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(?:async\s+)?def\s+(\w+)/.exec(lines[i]);
    if (!m) continue;
    let start = i;
    while (start > 0 && lines[start - 1].startsWith('@')) start--;
    let end = i + 1;
    while (end < lines.length && (lines[end].trim() === '' || /^\s/.test(lines[end]))) end++;
    while (end > i + 1 && lines[end - 1].trim() === '') end--;
    const count = end - start;
    if (count >= MIN_LINES && count <= MAX_LINES) out.push({ module, name: m[1], code: lines.slice(start, end).join('\n') });
    i = end - 1;
  }
  return out;
}

/** One python3 run: for each snippet, whether it parses and which breakages fail to parse. */
function pythonVerdicts(codes: { code: string; broken: Record<string, string> }[]): { valid: boolean; broken: string[] }[] {
  const script = `
import ast, json, sys
def parses(src):
    try:
        ast.parse(src)
        return True
    except (SyntaxError, ValueError):
        return False
out = []
for c in json.load(sys.stdin):
    out.append({"valid": parses(c["code"]), "broken": [k for k, v in c["broken"].items() if not parses(v)]})
json.dump(out, sys.stdout)
`;
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(codes), encoding: 'utf8', maxBuffer: 1 << 28 }));
}

export function buildCorpus(opts: { count: number; seed: number; invalidShare: number }): Corpus {
  const stdlib = stdlibDir();
  const snippets = pythonFiles(stdlib).flatMap((f) =>
    topLevelFunctions(f, relative(stdlib, f).replace(/\.py$/, '').replaceAll('/', '.').replace(/\.__init__$/, '')));
  const rand = mulberry32(opts.seed);
  // Oversample: some snippets are cut short by the line scan and fail to parse.
  const sample = shuffle(snippets, rand).slice(0, Math.ceil(opts.count * 1.2) + 20);
  const verdicts = pythonVerdicts(sample.map((s) => ({
    code: s.code,
    broken: Object.fromEntries(Object.entries(BREAKAGES).map(([k, f]) => [k, f(s.code)])),
  })));
  const kept = sample.map((s, k) => ({ s, v: verdicts[k] })).filter(({ v }) => v.valid && v.broken.length > 0).slice(0, opts.count);
  if (kept.length < opts.count) throw new Error(`only ${kept.length} usable stdlib functions under ${stdlib}, ${opts.count} asked`);

  const items: BenchItem[] = kept.map(({ s }, index) => ({
    index,
    source: `${s.module}.${s.name}`,
    question: QUESTIONS[Math.floor(rand() * QUESTIONS.length)](s),
    response: fence(s.code),
    valid: true,
  }));
  const brokenCount = Math.round(opts.count * opts.invalidShare);
  const toBreak = new Set(shuffle(items.map((it) => it.index), rand).slice(0, brokenCount));
  const withInvalid = items.map((it) => {
    if (!toBreak.has(it.index)) return it;
    const { s, v } = kept[it.index];
    const kind = v.broken[Math.floor(rand() * v.broken.length)];
    return { ...it, response: fence(BREAKAGES[kind](s.code)), valid: false };
  });
  return { stdlib, candidates: snippets.length, items, withInvalid };
}
