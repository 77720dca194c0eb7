import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { applyPatch, goldFromPatch, parsePatch } from '../../src/localization/index.ts';
import { assertLinearCost } from '../support/cost.ts';

interface MappingCase {
  name: string;
  rule: string;
  files: Record<string, string>;
  patch: string[];
  expect: { files: string[]; modules: string[]; entities: string[]; added: string[] };
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/localization/mapping.json', import.meta.url), 'utf8')) as {
  sources: Record<string, string[]>;
  cases: MappingCase[];
};
const text = (lines: string[]) => lines.join('\n') + '\n';

describe('gold from a patch: LocAgent mapping rules', () => {
  for (const c of fixture.cases) {
    it(`${c.rule}: ${c.name}`, () => {
      const files = Object.fromEntries(Object.entries(c.files).map(([path, source]) => [path, text(fixture.sources[source])]));
      assert.deepEqual(goldFromPatch(text(c.patch), files), c.expect);
    });
  }

  it('covers every rule the issue lists', () => {
    const rules = new Set(fixture.cases.map((c) => c.rule));
    for (const rule of ['method', 'nested function', 'class attribute', 'decorator', 'import', 'module assignment',
      'added function', 'multi-file', 'renamed file', 'deleted file']) {
      assert.ok(rules.has(rule), rule);
    }
  });
});

describe('parsePatch', () => {
  it('reads git headers: rename, new and deleted files, quoted paths', () => {
    const files = parsePatch([
      'diff --git a/old.py b/new.py', 'similarity index 100%', 'rename from old.py', 'rename to new.py',
      'diff --git a/gone.py b/gone.py', 'deleted file mode 100644', 'index e69de29..0000000',
      'diff --git a/empty.py b/empty.py', 'new file mode 100644', 'index 0000000..e69de29',
      'diff --git "a/sp\\303\\244ce x.py" "b/sp\\303\\244ce x.py"', '--- "a/sp\\303\\244ce x.py"', '+++ "b/sp\\303\\244ce x.py"',
      '@@ -1 +1 @@', '-a', '+b', '',
    ].join('\n'));
    assert.deepEqual(files.map((f) => [f.oldPath, f.newPath, f.hunks.length]), [
      ['old.py', 'new.py', 0], ['gone.py', null, 0], [null, 'empty.py', 0], ['späce x.py', 'späce x.py', 1],
    ]);
  });

  it('skips a commit message before the diff and stops at the format-patch signature', () => {
    const files = parsePatch([
      'From 1234 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH] fix', '', '---', ' a.py | 2 +-', '',
      'diff --git a/a.py b/a.py', '--- a/a.py', '+++ b/a.py', '@@ -1 +1 @@', '-x', '+y', '-- ', '2.40.0', '',
    ].join('\n'));
    assert.equal(files.length, 1);
    assert.deepEqual(files[0].hunks[0].lines, [{ kind: '-', text: 'x' }, { kind: '+', text: 'y' }]);
  });

  it('reads hunks by their counts: a removed line reading "-- x" stays in the hunk', () => {
    const [file] = parsePatch('--- a/a.sql\n+++ b/a.sql\n@@ -1,2 +0,0 @@\n--- x\n-y\n');
    assert.deepEqual(file.hunks[0].lines, [{ kind: '-', text: '-- x' }, { kind: '-', text: 'y' }]);
  });

  it('takes plain diff paths after a tab-separated timestamp off, without an a/ prefix', () => {
    const [file] = parsePatch('--- src/a.py\t2024-01-01 00:00:00\n+++ src/a.py\t2024-01-02 00:00:00\n@@ -1 +1 @@\n-x\n+y\n');
    assert.deepEqual([file.oldPath, file.newPath], ['src/a.py', 'src/a.py']);
  });
});

describe('applyPatch and the outline', () => {
  const source = text(['a', 'b', 'c', 'x', 'b', 'c', 'd']);
  const patchFor = (header: string) => parsePatch(`--- a/f\n+++ b/f\n${header}\n b\n-c\n+C\n`)[0];

  it('records removed rows in the original and added rows in the result', () => {
    const out = applyPatch(source, patchFor('@@ -2,2 +2,2 @@'), 'f');
    assert.deepEqual([out.removedRows, out.addedRows, out.patched.lines], [[2], [2], ['a', 'b', 'C', 'x', 'b', 'c', 'd']]);
  });

  it('searches from the stated line outwards, the nearest match first', () => {
    // `b c` sits at rows 1 and 4 (lines 2 and 5).
    assert.deepEqual(applyPatch(source, patchFor('@@ -5,2 +5,2 @@'), 'f').removedRows, [5]);
    assert.deepEqual(applyPatch(source, patchFor('@@ -4,2 +4,2 @@'), 'f').removedRows, [5]);
    assert.deepEqual(applyPatch(source, patchFor('@@ -3,2 +3,2 @@'), 'f').removedRows, [2]);
    assert.deepEqual(applyPatch(source, patchFor('@@ -9,2 +9,2 @@'), 'f').removedRows, [5]);
  });

  it('prefers the later of two equally near matches, as GNU patch does', () => {
    const twoAway = text(['a', 'b', 'c', 'x', 'y', 'b', 'c']);
    assert.deepEqual(applyPatch(twoAway, patchFor('@@ -4,2 +4,2 @@'), 'f').removedRows, [6]);
  });

  it('carries the offset one hunk needed over to the next', () => {
    // Hunk 1 sits 2 lines below its header, so hunk 2 is looked for 2 lines below its own: at row
    // 4, between the copies of `b c` at rows 3 and 5, the later one wins.
    const fp = parsePatch('--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+X\n@@ -3,2 +3,2 @@\n b\n-c\n+C\n')[0];
    assert.deepEqual(applyPatch(text(['a', 'a', 'x', 'b', 'c', 'b', 'c']), fp, 'f').removedRows, [2, 6]);
  });

  it('never places a hunk before the end of the previous one', () => {
    const fp = parsePatch('--- a/f\n+++ b/f\n@@ -3 +3 @@\n-x\n+X\n@@ -1,2 +1,2 @@\n b\n-c\n+C\n')[0];
    assert.deepEqual(applyPatch(text(['b', 'c', 'x', 'b', 'c']), fp, 'f').removedRows, [2, 4]);
  });

  it('keeps a piece tree-sitter misreads from spoiling the rest of the file', () => {
    // Valid Python (a dedent inside brackets) that tree-sitter-python reads with errors; parsed as a
    // whole, the file also loses `class Fine`, and Fine.ok would come out as a function `ok`.
    const source = text(['class Broken:', '    def weird(self):', '        def f():', '            (bar.', '        baz)',
      '            (bar.', '        baz(', '        ))', '        return 1', '', '', 'class Fine:', '    def ok(self):', '        return 2']);
    const gold = goldFromPatch('--- a/a.py\n+++ b/a.py\n@@ -13,2 +13,2 @@\n     def ok(self):\n-        return 2\n+        return 3\n', { 'a.py': source });
    assert.deepEqual(gold.entities, ['a.py:Fine.ok']);
  });

  it('parses the whole file when a piece fails to parse but the whole file does not', () => {
    // The light scan ends the f-string at its line end (3.12 lets a replacement field hold a
    // multi-line string), so `x'\'\'}"` looks like a statement and the rest of the file becomes a
    // piece that opens a string it never closes. The whole file parses cleanly, and wins.
    const source = text(['class C:', '    def m(self):', '        return f"{\'\'\'', 'x\'\'\'}"', '    def n(self):', '        return 2']);
    const gold = goldFromPatch('--- a/a.py\n+++ b/a.py\n@@ -6 +6 @@\n-        return 2\n+        return 3\n', { 'a.py': source });
    assert.deepEqual(gold.entities, ['a.py:C.n']);
  });

  it('gives up on a hunk whose search would take too long instead of hanging', async () => {
    // n equal lines and an n/20-line hunk of them ending in a line the file lacks: every row is a
    // near miss costing n/20 comparisons, n^2/20 in all (2e9 at n = 200,000) without a budget. With
    // the budget, one such file costs no more than four files of a quarter of its size.
    const refused = (n: number) => {
      const source = text(Array(n).fill('x'));
      const fp = parsePatch(`--- a/f\n+++ b/f\n@@ -1,${n / 20 + 1} +1,${n / 20 + 1} @@\n${' x\n'.repeat(n / 20)}-y\n+z\n`)[0];
      return { run: () => assert.throws(() => applyPatch(source, fp, 'f'), /hunk 1 of f does not apply at line 1/), size: n };
    };
    await assertLinearCost('hunk search over equal lines', refused(200_000), refused(50_000));
  });

  it('accepts U+FFFD as an ordinary character (a consistent bad decode still matches)', () => {
    const gold = goldFromPatch('--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n def f():\n-    return "\uFFFD"\n+    return "?"\n',
      { 'a.py': 'def f():\n    return "\uFFFD"\n' });
    assert.deepEqual(gold.entities, ['a.py:f']);
  });
});
