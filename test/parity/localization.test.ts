// Parity of the tree-sitter mapping with CPython's own parser: test/parity/localization_parity.py makes
// seeded random edits inside real functions and methods of this machine's standard library,
// writes each as a difflib unified diff, and derives the gold with `ast` by the same rules. One
// python3 process makes every case.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { goldFromPatch, type LocationSets } from '../../src/localization/index.ts';
import { outlinePython } from '../../src/localization/outline.ts';
import { pyStrip } from '../../src/localization/text.ts';

interface ParityCase {
  kind: string;
  path: string;
  original: string;
  patch: string;
  gold: LocationSets;
  added: string[];
}

const SEED = 20250611;
const COUNT = 300;
const OUTLINE_FILES = 150;
/** Valid Python that tree-sitter-python 0.25 misreads (a dedent inside brackets, `(bar.\n  baz)`). */
const TREE_SITTER_MISREADS = new Set(['test/test_compile.py']);

function runScript(args: string[]): string {
  const script = fileURLToPath(new URL('localization_parity.py', import.meta.url));
  const run = spawnSync('python3', [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

describe('gold from a patch: tree-sitter against CPython ast', () => {
  it(`agrees on ${COUNT} synthetic edits to the standard library`, () => {
    const { cases } = JSON.parse(runScript([String(SEED), String(COUNT)])) as { cases: ParityCase[] };
    assert.equal(cases.length, COUNT);

    const mismatches = [];
    for (const c of cases) {
      const got = goldFromPatch(c.patch, { [c.path]: c.original });
      const want = { ...c.gold, added: c.added };
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push({ kind: c.kind, path: c.path, got, want });
    }
    assert.deepEqual(mismatches.slice(0, 3), [], `${mismatches.length} of ${cases.length} cases differ`);

    // The corpus must exercise the rules, not only agree on empty sets.
    assert.ok(cases.filter((c) => c.gold.entities.length).length > COUNT / 2);
    assert.ok(cases.filter((c) => c.gold.entities.some((e) => e.includes('.', c.path.length + 1))).length > 20, 'methods');
    assert.ok(cases.filter((c) => c.added.length).length > 20, 'added locations');
    assert.ok(cases.filter((c) => !c.gold.entities.length).length > 5, 'edits that map to nothing');
    assert.ok(cases.filter((c) => c.original.startsWith('# pad')).length > 20, 'hunks found at an offset');
  });
});

interface OutlineCase {
  path: string;
  source: string;
  owner: (string | null)[];
  defined: string[];
}

describe('outline: every line of whole standard-library files, tree-sitter pieces against ast', () => {
  it(`agrees on ${OUTLINE_FILES} files`, () => {
    const { files } = JSON.parse(runScript(['--outline', String(SEED), String(OUTLINE_FILES)])) as { files: OutlineCase[] };
    assert.equal(files.length, OUTLINE_FILES);
    const mismatches: string[] = [];
    let rows = 0;
    for (const f of files.filter((f) => !TREE_SITTER_MISREADS.has(f.path))) {
      // Asked row by row, so each top-level piece is parsed on its own.
      const outline = outlinePython(f.source);
      const lines = f.source.split('\n');
      f.owner.forEach((owner, row) => {
        const text = pyStrip(lines[row]);
        if (text === '' || text.startsWith('#')) return; // the gold rules skip these lines
        rows++;
        const got = outline.locationAt(row);
        if (got !== owner) mismatches.push(`${f.path}:${row + 1}: ${got} != ${owner}`);
      });
      for (const location of f.defined) if (!outline.defines(location)) mismatches.push(`${f.path}: ${location} not defined`);
    }
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
    assert.ok(rows > 20_000, `${rows} rows`);
  });
});
