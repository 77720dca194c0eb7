// Finding 5 of issue 23: the gold of a patch touching many functions compiled a regex for each
// function and scanned the file with it. The `class`/`def` headers are now read in one pass per
// file: no regex is built per function, and the index finds exactly what a per-name search finds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goldFromPatch } from '../../src/localization/index.ts';
import { indexHeaders } from '../../src/localization/outline.ts';
import { largePatchItem } from '../support/large-patch.ts';

/** Runs `fn`, counting the regexes built with the RegExp constructor meanwhile. */
function countRegExps(fn: () => void): number {
  const Original = globalThis.RegExp;
  let built = 0;
  globalThis.RegExp = new Proxy(Original, {
    construct(target, args) {
      built++;
      return Reflect.construct(target, args);
    },
  });
  try {
    fn();
  } finally {
    globalThis.RegExp = Original;
  }
  return built;
}

/** The definition the index answers for: `keyword`, separators, `name`, then no identifier character. */
function perNameSearch(source: string, keyword: 'class' | 'def', name: string): number[] {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?<![\\p{ID_Continue}])${keyword}[\\s\\\\]+${escaped}(?![\\p{ID_Continue}])`, 'gu');
  return [...source.matchAll(re)].map((m) => m.index);
}

describe('the localization gold in one pass per file', () => {
  it('builds no regex per touched function: as many for 2,000 functions as for 200', () => {
    const gold = (functions: number) => {
      const item = largePatchItem(7, functions);
      const { patch, files } = item.gold as { patch: string; files: Record<string, string> };
      let entities = 0;
      const built = countRegExps(() => {
        entities = goldFromPatch(patch, files).entities.length;
      });
      assert.equal(entities, 4 * functions);
      return built;
    };
    const small = gold(200);
    const large = gold(2000);
    assert.equal(large, small, `${small} regexes for 200 functions, ${large} for 2,000`);
  });

  it('finds each header where a search for its name finds it', () => {
    const source = [
      'class A:', '    def f(self): pass', '    def  f2 (self): pass', 'def \\', '  g(): pass',
      'classy = 1', 'undef = 2', 'def def f(): pass', 'class\tÉtat: pass', 'def   (', 'def x_y1():', '    def inner(): pass',
      'class B(A):', '    def f(self): pass', 'x = "def f"',
    ].join('\n');
    const names = ['A', 'B', 'f', 'f2', 'g', 'État', 'x_y1', 'inner', 'def', 'y', '', 'x', 'classy'];
    const index = indexHeaders(source);
    for (const keyword of ['class', 'def'] as const) {
      for (const name of names) {
        assert.deepEqual(index[keyword].get(name) ?? [], perNameSearch(source, keyword, name), `${keyword} ${JSON.stringify(name)}`);
      }
    }
  });
});
