import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  f1, LOCALIZATION_LIMITS, LocalizationInputError, scoreLocalization,
  type LevelWeights, type LocalizationBody, type LocalizationItem, type LocalizationResult,
} from '../../src/localization/index.ts';
import { LOCALIZATION_ERROR_CODES } from '../../src/localization/errors.ts';

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/localization/${name}`, import.meta.url), 'utf8')) as T;

function assertClose(actual: LocalizationResult, expected: LocalizationResult): void {
  const round = (r: LocalizationResult) => JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(12)) : v)));
  assert.deepEqual(round(actual), round(expected));
}

describe('f1', () => {
  it('is 0 for an empty gold set, even against an empty prediction', () => {
    assert.deepEqual(f1([], []), { precision: 0, recall: 0, f1: 0 });
    assert.deepEqual(f1(['a'], []), { precision: 0, recall: 0, f1: 0 });
  });
  it('is 0 for an empty prediction', () => assert.deepEqual(f1([], ['a']), { precision: 0, recall: 0, f1: 0 }));
  it('counts each string once', () => assert.deepEqual(f1(['a', 'a', 'b'], ['a', 'c', 'c']), { precision: 0.5, recall: 0.5, f1: 0.5 }));
});

describe('scoreLocalization: reward per item', () => {
  const { cases } = load<{ cases: { name: string; weights?: LevelWeights; item: LocalizationItem; expect: LocalizationResult }[] }>(
    'scoring.json',
  );
  for (const c of cases) {
    it(c.name, () => {
      const { results } = scoreLocalization({ items: [c.item], weights: c.weights });
      assert.equal(results.length, 1);
      assertClose(results[0], c.expect);
    });
  }

  it('derives a shared patch gold once per distinct patch and sources, and not across different sources', () => {
    const patch = '--- a/a.py\n+++ b/a.py\n@@ -2 +2 @@\n-    return 1\n+    return 2\n';
    const asFunction = { 'a.py': 'def f():\n    return 1\n' };
    const asMethod = { 'a.py': 'class A:\n    return 1\n' }; // line 2 sits in a class body: nothing
    const item = (files: Record<string, string>) => ({ locations: [{ file: 'a.py', function_name: 'f' }], gold: { patch, files } });
    const { results } = scoreLocalization({ items: [item(asFunction), item(asMethod), item({ ...asFunction })] });
    assert.deepEqual(results.map((r) => [r.reward, r.gold.entities]), [[3, ['a.py:f']], [1, []], [3, ['a.py:f']]]);
    assert.notEqual(results[0].gold, results[2].gold, 'each result owns its gold lists');
  });

  it('scores items independently, in order', () => {
    const items = cases.map((c) => c.item);
    const { results } = scoreLocalization({ items });
    cases.forEach((c, i) => {
      if (!c.weights) assertClose(results[i], c.expect);
    });
  });
});

describe('scoreLocalization: bad input throws LocalizationInputError only', () => {
  const { cases } = load<{ cases: { name: string; body: LocalizationBody; status: number; code: string; message: string }[] }>(
    'bad-input.json',
  );
  const good = { locations: [], gold: { file_changes: [{ file: 'a.py' }] } };
  const tooLarge: { name: string; body: LocalizationBody; message: RegExp }[] = [
    { name: 'too many items', body: { items: Array(LOCALIZATION_LIMITS.items + 1).fill(good) }, message: /^items: 257 items/ },
    { name: 'too many locations', body: { items: [{ ...good, locations: Array(LOCALIZATION_LIMITS.locations + 1).fill({ file: 'a.py' }) }] },
      message: /^items\[0\]\.locations: 1001 entries/ },
    { name: 'a prediction text too long', body: { items: [{ prediction_text: 'x'.repeat(LOCALIZATION_LIMITS.predictionText + 1), gold: good.gold }] },
      message: /^items\[0\]\.prediction_text: 1000001 characters/ },
    { name: 'a patch too long', body: { items: [{ locations: [], gold: { patch: ' \n'.repeat(LOCALIZATION_LIMITS.patch / 2 + 1), files: {} } }] },
      message: /^items\[0\]\.gold\.patch: 2000002 characters, more than the limit of 2000000$/ },
    { name: 'a source too long', body: { items: [{ locations: [], gold: {
      patch: '--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n', files: { 'a.py': 'x\n'.repeat(LOCALIZATION_LIMITS.source / 2 + 1) } } }] },
      message: /^items\[0\]\.gold\.files\["a\.py"\]: 2000002 characters/ },
    { name: 'too many files', body: { items: [{ locations: [], gold: {
      patch: '', files: Object.fromEntries(Array.from({ length: LOCALIZATION_LIMITS.files + 1 }, (_, i) => [`f${i}.py`, ''])) } }] },
      message: /^items\[0\]\.gold\.files: 201 entries/ },
  ];

  const all = [
    ...cases.map((c) => ({ ...c, message: new RegExp(c.message) })),
    ...tooLarge.map((c) => ({ ...c, status: 400, code: 'too_large' })),
  ];
  for (const c of all) {
    it(`${c.code} (${c.status}): ${c.name}`, () => {
      assert.throws(() => scoreLocalization(c.body), (err: unknown) => {
        assert.ok(err instanceof LocalizationInputError, `not a LocalizationInputError: ${String(err)}`);
        assert.equal(err.name, 'LocalizationInputError');
        assert.equal(err.code, c.code);
        assert.equal(err.status, c.status);
        assert.match(err.message, c.message);
        return true;
      });
    });
  }

  it('has a case for every error code', () => {
    const codes = new Set(all.map((c) => c.code));
    assert.deepEqual([...codes].sort(), Object.keys(LOCALIZATION_ERROR_CODES).sort());
  });

  it('never lets a TypeError out for a body of the wrong shape', () => {
    for (const body of [null, 'x', { items: 'x' }, { items: [null] }, { items: [{ locations: 'x', gold: {} }] },
      { items: [{ locations: [], gold: { patch: 1, files: {} } }] }, { items: [{ locations: [], gold: { patch: '', files: { 'a.py': 1 } } }] },
      { items: [{ locations: [], gold: { file_changes: [{ file: 'a.py', changes: 'x' }] } }] },
      { items: [{ locations: [], gold: { file_changes: [{ file: 'a.py', changes: { edited_entities: 5 } }] } }] },
      { items: [good], weights: 'x' }, { items: [good], weights: { file: 'x' } }]) {
      assert.throws(() => scoreLocalization(body as unknown as LocalizationBody), LocalizationInputError, JSON.stringify(body));
    }
  });
});

describe('LocalizationInputError', () => {
  it('carries its code, status and the field path it was seen from', () => {
    const err = new LocalizationInputError('hunk_mismatch', 'hunk 2 of foo.py does not apply at line 40', 'patch');
    const outer = err.within('items[3].gold');
    assert.equal(outer.name, 'LocalizationInputError');
    assert.equal(outer.code, 'hunk_mismatch');
    assert.equal(outer.status, 422);
    assert.equal(outer.message, 'items[3].gold.patch: hunk 2 of foo.py does not apply at line 40');
    assert.equal(new LocalizationInputError('too_large', 'big').within('items').message, 'items: big');
  });
});
