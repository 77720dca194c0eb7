// Parity of the tree-sitter mapping with CPython's own parser: test/localization_parity.py makes
// seeded random edits inside real functions and methods of this machine's standard library,
// writes each as a difflib unified diff, and derives the gold with `ast` by the same rules. One
// python3 process makes every case.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { goldFromPatch, type LocationSets } from '../src/localization/index.ts';

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

describe('gold from a patch: tree-sitter against CPython ast', () => {
  it(`agrees on ${COUNT} synthetic edits to the standard library`, () => {
    const script = fileURLToPath(new URL('localization_parity.py', import.meta.url));
    const run = spawnSync('python3', [script, String(SEED), String(COUNT)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(run.status, 0, run.stderr);
    const { cases } = JSON.parse(run.stdout) as { cases: ParityCase[] };
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
