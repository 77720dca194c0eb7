// Finding 2 of issue 23: a hunk header whose start lies far past the file pinned a prep thread, the
// candidate search stepping through rows that do not exist without spending its budget. Headers
// with numbers past 2^53 are refused naming the field; any other start searches from the nearest
// end of the file, and every step is charged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { applyPatch, LocalizationInputError, parsePatch } from '../../src/localization/index.ts';
import { fakeApp } from '../support/app.ts';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `x_${i} = ${i}`).join('\n') + '\n';
const patchAt = (start: string, removed = 'x_1 = 1') => `--- a/m.py\n+++ b/m.py\n@@ -${start},1 +1,1 @@\n-${removed}\n+y = 0\n`;

describe('hunk headers against the file', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ PREP_THREADS: '1' });
  });
  after(() => service.shutdown());

  const localize = (patch: string) => service.app.inject({
    method: 'POST', url: '/v1/localization',
    payload: { items: [{ locations: [{ file: 'm.py' }], gold: { patch, files: { 'm.py': lines(3) } } }] },
  });

  it('a 153-byte request with a 31-digit start: 400 naming the field, and the next request is answered', async () => {
    const hostile = patchAt('1000000000000000000000000000000');
    const res = await localize(hostile);
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().code, 'invalid_request');
    assert.match(res.json().error, /^body\/items\[0\]\.gold\.patch: hunk 1 of m\.py: a line number or count in its header is larger than 9007199254740991 \(malformed_patch\)$/);
    const next = await localize(patchAt('2'));
    assert.equal(next.statusCode, 200, next.body);
    assert.deepEqual(next.json().results[0].gold.files, ['m.py']);
  });

  it('a start of 2^53 - 1 still applies where its lines are, as GNU patch finds them, on a free thread', async () => {
    const res = await localize(patchAt(String(Number.MAX_SAFE_INTEGER)));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().results[0].gold.files, ['m.py']);
    const missing = await localize(patchAt(String(Number.MAX_SAFE_INTEGER), 'not in the file'));
    assert.equal(missing.statusCode, 422, missing.body);
    assert.match(missing.json().error, /hunk 1 of m\.py does not apply/);
  });

  it('the search spends at most its budget, whatever line the header states', () => {
    const source = lines(10_000);
    for (const start of ['1', '5000', '10001', '99999999', String(Number.MAX_SAFE_INTEGER)]) {
      const budget = { left: 100 };
      assert.throws(() => applyPatch(source, parsePatch(patchAt(start, 'not in the file'))[0], 'm.py', budget),
        (err: unknown) => err instanceof LocalizationInputError && err.code === 'hunk_mismatch');
      // One step per row tried and per line compared, checked before each row: at most one row over.
      assert.ok(budget.left <= 0 && budget.left >= -2, `start ${start}: ${budget.left} steps left`);
    }
  });
});
