// The schemas under Fastify: the app's strict Ajv options (src/app.ts) and Fastify's defaults,
// whose `removeAdditional: true` must not strip a field while trying a `oneOf` branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import {
  LocalizationInputError, localizationBodySchema, localizationResponseSchema, scoreLocalization, type LocalizationBody,
} from '../../src/localization/index.ts';

const STRICT = { coerceTypes: false, removeAdditional: false, allErrors: false } as const;

function app(customOptions?: Record<string, unknown>) {
  const f = Fastify({ ajv: customOptions ? { customOptions } : undefined });
  f.post('/v1/localization', { schema: { body: localizationBodySchema, response: { 200: localizationResponseSchema } } },
    async (req) => scoreLocalization(req.body as LocalizationBody));
  f.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof LocalizationInputError) return reply.code(err.status).send({ code: err.code, error: err.message });
    return reply.code(err.statusCode ?? 500).send({ code: 'invalid_request', error: err.message });
  });
  return f;
}

const patchItem = {
  locations: [{ file: 'a.py', function_name: 'f' }],
  gold: { patch: '--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n', files: { 'a.py': 'def f():\n    return 1\n' } },
};
const textItem = {
  prediction_text: '<tool_call>\n{"name": "localization_finish", "arguments": {"locations": [{"file": "a.py", "class_name": null}]}}\n</tool_call><|im_end|>',
  gold: { file_changes: [{ file: 'a.py', changes: { edited_modules: null, edited_entities: ['a.py:f'], added_entities: [] } }] },
};

const valid: [string, unknown][] = [
  ['locations with gold from a patch', { items: [patchItem] }],
  ['prediction_text with file_changes, and weights', { items: [textItem], weights: { file: 0, module: 3, entity: 1.5 } }],
];

const invalid: [string, unknown][] = [
  ['no items', {}],
  ['an empty items list', { items: [] }],
  ['a property the schema does not know', { items: [textItem], extra: 1 }],
  ['both locations and prediction_text', { items: [{ ...textItem, locations: [] }] }],
  ['neither locations nor prediction_text', { items: [{ gold: textItem.gold }] }],
  ['gold in both forms', { items: [{ locations: [], gold: { ...patchItem.gold, ...textItem.gold } }] }],
  ['a patch without files', { items: [{ locations: [], gold: { patch: '' } }] }],
  ['a location with a key the tool does not have', { items: [{ ...patchItem, locations: [{ file: 'a.py', line: 3 }] }] }],
  ['a location file that is a number', { items: [{ ...patchItem, locations: [{ file: 3 }] }] }],
  ['a weight above 3', { items: [textItem], weights: { entity: 3.5 } }],
  ['a source that is not a string', { items: [{ locations: [], gold: { patch: '', files: { 'a.py': 1 } } }] }],
  ['too many items', { items: Array(257).fill(textItem) }],
];

describe('localization schemas under Fastify (the app\'s strict Ajv options)', () => {
  const f = app(STRICT);
  for (const [name, body] of valid) {
    it(`accepts ${name}, and the reply matches scoreLocalization`, async () => {
      const res = await f.inject({ method: 'POST', url: '/v1/localization', payload: body as object });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), scoreLocalization(structuredClone(body) as LocalizationBody));
    });
  }
  for (const [name, body] of invalid) {
    it(`rejects ${name}`, async () => {
      const res = await f.inject({ method: 'POST', url: '/v1/localization', payload: body as object });
      assert.equal(res.statusCode, 400, res.body);
    });
  }
  it('answers a hunk that does not apply with 422 and the item path', async () => {
    const bad = { ...patchItem, gold: { ...patchItem.gold, files: { 'a.py': 'def g():\n    return 1\n' } } };
    const res = await f.inject({ method: 'POST', url: '/v1/localization', payload: { items: [textItem, bad] } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { code: 'hunk_mismatch', error: 'items[1].gold.patch: hunk 1 of a.py does not apply at line 1' });
  });
});

describe('localization schemas under Fastify\'s default Ajv options', () => {
  const f = app();
  it('keeps the patch and files of a gold (no oneOf branch strips them) and fills default weights', async () => {
    const res = await f.inject({ method: 'POST', url: '/v1/localization', payload: { items: [patchItem] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().results[0].reward, 3);
  });
  it('still rejects both gold forms together', async () => {
    const res = await f.inject({ method: 'POST', url: '/v1/localization',
      payload: { items: [{ locations: [], gold: { ...patchItem.gold, ...textItem.gold } }] } });
    assert.equal(res.statusCode, 400);
  });
});
