// POST /v1/localization through the app: the library's answers and its errors, in the service's shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from '../support/app.ts';

const ORIGINAL = 'import os\n\nclass Parser:\n    def parse(self, text):\n        return text\n\ndef main():\n    return 0\n';
const PATCH = [
  '--- a/pkg/util.py', '+++ b/pkg/util.py', '@@ -3,5 +3,5 @@ import os', ' class Parser:', '     def parse(self, text):',
  '-        return text', '+        return text.strip()', ' ', ' def main():', '',
].join('\n');

describe('POST /v1/localization', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ API_KEY: 'k' });
  });
  after(() => service.shutdown());
  const post = (payload: unknown) => service.app.inject({ method: 'POST', url: '/v1/localization', payload: payload as object, headers: { authorization: 'Bearer k' } });

  it('scores locations against gold derived from a patch', async () => {
    const res = await post({
      items: [
        { locations: [{ file: 'pkg/util.py', class_name: 'Parser', function_name: 'parse' }], gold: { patch: PATCH, files: { 'pkg/util.py': ORIGINAL } } },
        { locations: [{ file: 'pkg/util.py', function_name: 'main' }, { file: 'pkg/cli.py' }], gold: { patch: PATCH, files: { 'pkg/util.py': ORIGINAL } } },
      ],
      weights: { file: 1, module: 1, entity: 1 },
    });
    assert.equal(res.statusCode, 200, res.body);
    const [hit, miss] = res.json().results;
    assert.deepEqual(hit.gold, { files: ['pkg/util.py'], modules: ['pkg/util.py:Parser'], entities: ['pkg/util.py:Parser.parse'] });
    assert.equal(hit.reward, 3);
    assert.equal(hit.format_ok, true);
    assert.equal(miss.file.precision, 0.5);
    assert.equal(miss.file.recall, 1);
    assert.equal(miss.entity.f1, 0);
    assert.ok(Math.abs(miss.reward - 2 / 3) < 1e-12);
  });

  it('a hunk that does not apply is a 422 naming the item', async () => {
    const res = await post({ items: [{ locations: [], gold: { patch: PATCH, files: { 'pkg/util.py': 'x = 1\n' } } }] });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'unprocessable');
    assert.match(res.json().error, /items\[0\]\.gold.*hunk_mismatch/);
  });

  it('an edited file missing from files is a 422 naming the file', async () => {
    const res = await post({ items: [{ locations: [], gold: { patch: PATCH, files: {} } }] });
    assert.equal(res.statusCode, 422);
    assert.match(res.json().error, /pkg\/util\.py.*unknown_file/);
  });

  it('a malformed diff is a 400, both prediction kinds at once a 400, no token a 401', async () => {
    const bad = await post({ items: [{ locations: [], gold: { patch: '--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n-a\n', files: { 'x.py': 'a\n' } } }] });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /items\[0\]/);
    const both = await post({ items: [{ locations: [], prediction_text: 'x', gold: { file_changes: [] } }] });
    assert.equal(both.statusCode, 400);
    assert.equal(both.json().code, 'invalid_request');
    const anon = await service.app.inject({ method: 'POST', url: '/v1/localization', payload: { items: [] } });
    assert.equal(anon.statusCode, 401);
  });
});
