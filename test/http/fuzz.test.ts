// Property-based fuzzing of every POST route in the OpenAPI document through app.inject: whatever arrives,
// the answer is a 4xx with the JSON error body, or a 200 whose results match the request's items
// one to one; never a 5xx, never a hang, and no prototype pollution afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from '../support/app.ts';
import { openapiDocument } from '../support/openapi.ts';

const spec = await openapiDocument();
const POST_ROUTES: string[] = Object.keys(spec.paths).filter((p) => spec.paths[p].post);

type Json = any;
const len = (v: unknown) => (Array.isArray(v) ? v.length : typeof v === 'string' ? 1 : -1);

/** For a 200, how many results the request asked for and how many came back. */
/** vLLM's score pairs: one per second text (the first is broadcast or paired in order). */
const scorePairs = (req: Json, res: Json): [number, number] =>
  (req.items !== undefined ? [len(req.items), len(res.results)] : [len(req.text_2 ?? req.documents), len(res.data)]);
/** vLLM's classify inputs: texts, one token list or several, or one conversation. */
const classifyInputs = (req: Json): number =>
  (req.messages !== undefined ? 1 : Array.isArray(req.input) && typeof req.input[0] === 'number' ? 1 : len(req.input ?? req.text));
/** SGLang answers a list per list and one object for one string; vLLM a data list. */
const classifyResults = (req: Json, res: Json): [number, number] =>
  [classifyInputs(req), Array.isArray(res) ? res.length : res.data === undefined ? 1 : len(res.data)];
const rerankResults = (req: Json, res: Json): [number, number] => {
  if (req.texts !== undefined) return [len(req.texts), len(res)];
  const n = len(req.documents);
  return [req.top_n > 0 ? Math.min(req.top_n, n) : n, len(res.results)];
};
const ONE_TO_ONE: Record<string, (req: Json, res: Json) => [number, number]> = {
  '/score': scorePairs,
  '/v1/score': scorePairs,
  '/v1/rank': (req, res) => [len(req.responses), len(res.results)],
  '/get_reward': (req, res) => [len(req.query), len(res.rewards)],
  '/classify': classifyResults,
  '/v1/classify': classifyResults,
  '/pooling': classifyResults,
  '/rerank': rerankResults,
  '/v1/rerank': rerankResults,
  '/v2/rerank': rerankResults,
  '/v1/localization': (req, res) => [len(req.items), len(res.results)],
};

const HOSTILE_STRINGS = [
  '', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\ud83d\ude00', '```python\nx = 1\n```', '```python\n' + '('.repeat(300) + '\n```',
  '```\n```', '``````', '<|im_end|>', '<|endoftext|>', '<tool_call>{"name":"localization_finish"}</tool_call>', 'é'.repeat(50),
];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ maxLength: 20 }).map((s) => '```python\n' + s + '\n```'),
);
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 }),
);
const FIELD_NAMES = [
  'items', 'question', 'response', 'responses', 'extraction', 'shaping', 'query', 'prompts', 'labels', 'input', 'text',
  'texts', 'activation', 'use_activation', 'raw_scores', 'truncate', 'model', 'locations', 'prediction_text', 'gold',
  'text_1', 'text_2', 'queries', 'documents', 'top_n', 'messages', 'role', 'content', 'truncate_prompt_tokens', 'prompt', 'tokens',
  'weights', 'file', 'class_name', 'function_name', 'patch', 'files', 'file_changes', '__proto__', 'constructor', 'prototype',
];
/** Objects built from the routes' own field names, so the fuzzer gets past the first check. */
const record: fc.Arbitrary<Json> = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    anyValue,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...FIELD_NAMES), tie('node'), { maxKeys: 5 }),
  ),
})).node;

const bodies: fc.Arbitrary<{ raw: string | Buffer; parsed?: Json }> = fc.oneof(
  fc.jsonValue().map((v) => ({ raw: JSON.stringify(v) ?? 'null', parsed: v })),
  record.map((v) => ({ raw: JSON.stringify(v) ?? 'null', parsed: v })),
  // Invalid UTF-8, truncated JSON, prototype keys spelled out in the raw text.
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ raw: Buffer.concat([Buffer.from('{"items":[{"question":"'), Buffer.from(b), Buffer.from('","response":"x"}]}')]) })),
  fc.string({ maxLength: 60 }).map((s) => ({ raw: s })),
  fc.constantFrom(
    '{"__proto__":{"polluted":1},"items":[{"question":"q","response":"r"}]}',
    '{"constructor":{"prototype":{"polluted":1}},"items":[]}',
    '{"items":[{"question":"q","response":"r","__proto__":{"polluted":1}}]}',
    '{"items":[{"question":"q","response":"r"}]',
    '\u0000',
  ).map((raw) => ({ raw })),
);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

describe('fuzzing every POST route', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ MAX_CLIENT_BATCH: '16', BODY_LIMIT: '65536' });
  });
  after(() => service.shutdown());

  it('the OpenAPI document lists the scoring routes to fuzz', () => {
    for (const route of ['/score', '/v1/score']) assert.ok(POST_ROUTES.includes(route), route);
  });

  for (const route of POST_ROUTES) {
    it(`${route}: 4xx with a JSON error, or 200 one-to-one; never 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies, async ({ raw, parsed }) => {
          const res = await withTimeout(
            service.app.inject({ method: 'POST', url: route, headers: { 'content-type': 'application/json' }, payload: raw }),
            10_000, `${route} ${String(raw).slice(0, 80)}`,
          );
          assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body.slice(0, 200)}`);
          const body = res.json();
          if (res.statusCode === 200) {
            const check = ONE_TO_ONE[route];
            if (check) {
              const [asked, got] = check(parsed ?? JSON.parse(raw.toString()), body);
              assert.equal(got, asked, `results for ${String(raw).slice(0, 120)}`);
            }
          } else {
            assert.ok(res.statusCode >= 400 && res.statusCode < 500);
            assert.equal(typeof body.error, 'string');
            assert.equal(typeof body.code, 'string');
          }
        }),
        { numRuns: 120, seed: 20261121 },
      );
    });
  }

  it('huge strings and arrays: 413 over the body limit, 422 over the item limit, never 5xx', async () => {
    for (const route of POST_ROUTES) {
      const huge = await service.app.inject({ method: 'POST', url: route, payload: { items: [{ question: 'q', response: 'x'.repeat(100_000) }] } });
      assert.equal(huge.statusCode, 413, route);
      assert.equal(huge.json().code, 'body_too_large');
    }
    const many = await service.app.inject({ method: 'POST', url: '/score', payload: { items: Array.from({ length: 17 }, () => ({ question: 'q', response: 'r' })) } });
    assert.equal(many.statusCode, 422);
  });

  it('leaves no prototype pollution behind', () => {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(Object.prototype), []);
  });
});
