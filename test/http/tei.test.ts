// POST /rerank with the body TEI's clients send ({query, texts, raw_scores, truncate, return_text}),
// answered as TEI answers it: [{index, score}] sorted by score, highest first.
// Auth and overload for this route are in openapi.test.ts, with every other route's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { sigmoid } from '../../src/shape/shaping.ts';
import { fakeApp } from '../support/app.ts';
import { fence } from '../support/fence.ts';

describe('POST /rerank', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ MAX_LENGTH: '64', MAX_BATCH_TOKENS: '256', MAX_CLIENT_BATCH: '4' });
  });
  after(() => service.shutdown());

  const query = 'Add two numbers.';
  const texts = [
    fence('def add(a, b):\n    return a - b\n'),
    'I cannot.',
    fence('def add(a, b):\n    return a + b\n'),
    fence('def add(a, b)\n    return a + b\n'),
  ];
  const rerank = (payload: object) => service.app.inject({ method: 'POST', url: '/rerank', payload });
  const scoreAll = async () =>
    (await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items: texts.map((response) => ({ question: query, response })) } })).json();
  const scoreOf = Object.assign(async () => (await scoreAll()).results, { usage: async () => (await scoreAll()).usage });
  /** Indices best first, equal scores in input order, computed here from the scores themselves. */
  const rerankOrder = (scores: number[]) => scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);

  it('sigmoid of the logit by default, sorted highest first; invalid code scores 0 and ranks last', async () => {
    const res = await rerank({ query, texts });
    assert.equal(res.statusCode, 200);
    const results = await scoreOf();
    const expected = results.map((r: { valid: boolean; raw_score: number }) => (r.valid ? sigmoid(r.raw_score) : 0));
    const ranks: { index: number; score: number }[] = res.json();
    assert.deepEqual(ranks.map((r) => r.index).sort(), [0, 1, 2, 3]);
    for (const r of ranks) assert.deepEqual(Object.keys(r), ['index', 'score']);
    for (const r of ranks) assert.equal(r.score, expected[r.index]);
    for (let k = 1; k < ranks.length; k++) assert.ok(ranks[k - 1].score >= ranks[k].score);
    assert.deepEqual(ranks.slice(-2), [{ index: 1, score: 0 }, { index: 3, score: 0 }], 'the two invalid texts, in input order');
    for (const h of ['x-queue-time', 'x-tokenization-time', 'x-inference-time']) assert.ok(h in res.headers, h);
  });

  it('raw_scores gives the reward itself (as /v1/score), same order; return_text adds the text', async () => {
    const res = await rerank({ query, texts, raw_scores: true, return_text: true });
    const results = await scoreOf();
    const ranks: { index: number; score: number; text: string }[] = res.json();
    for (const r of ranks) {
      assert.equal(r.score, results[r.index].reward);
      assert.equal(r.text, texts[r.index]);
    }
    const sig = (await rerank({ query, texts })).json().map((r: { index: number }) => r.index);
    assert.deepEqual(ranks.map((r) => r.index), sig);
  });

  it('extraction none scores bare code (a TEI user sending programs, not answers)', async () => {
    const ranks = (await rerank({ query, texts: ['def add(a, b):\n    return a + b\n', 'def add(a, b)\n'], extraction: 'none' })).json();
    assert.equal(ranks[0].index, 0);
    assert.ok(ranks[0].score > 0);
    assert.deepEqual(ranks[1], { index: 1, score: 0 });
  });

  it('truncate false refuses an over-long prompt with 422 (as TEI); truncate true or absent cuts it', async () => {
    const long = [fence('x = 1\n'.repeat(40)), texts[0]];
    const refused = await rerank({ query, texts: long, truncate: false });
    assert.equal(refused.statusCode, 422);
    assert.equal(refused.json().code, 'unprocessable');
    assert.match(refused.json().error, /texts\/0.*MAX_LENGTH \(64 tokens\)/);
    for (const truncate of [true, null, undefined]) {
      const res = await rerank({ query, texts: long, ...(truncate !== undefined && { truncate }) });
      assert.equal(res.statusCode, 200, String(truncate));
    }
    assert.equal((await rerank({ query, texts, truncate: false })).statusCode, 200, 'short prompts pass with truncate false');
  });

  it('ignores fields it does not know, as TEI does', async () => {
    assert.equal((await rerank({ query, texts, truncation_direction: 'Right', model: 'x' })).statusCode, 200);
  });

  const bad: [string, object, number, RegExp][] = [
    ['query missing', { texts }, 400, /query/],
    ['texts missing', { query }, 400, /texts/],
    ['texts empty', { query, texts: [] }, 400, /texts/],
    ['a text not a string', { query, texts: ['a', null] }, 400, /texts\/1/],
    ['raw_scores not a boolean', { query, texts, raw_scores: 'yes' }, 400, /raw_scores/],
    ['left truncation', { query, texts, truncation_direction: 'Left' }, 400, /truncation_direction/],
    ['more texts than MAX_CLIENT_BATCH', { query, texts: Array(5).fill('x') }, 422, /texts: 5 items/],
  ];
  for (const [what, payload, status, message] of bad) {
    it(`${status} naming the field: ${what}`, async () => {
      const res = await rerank(payload);
      assert.equal(res.statusCode, status);
      assert.equal(res.json().code, status === 400 ? 'invalid_request' : 'too_many_items');
      assert.match(res.json().error, message);
    });
  }

  // vLLM's RerankRequest (vllm/entrypoints/pooling/scoring/protocol.py), as Jina's and Cohere's clients send it.
  it('documents (vLLM, Jina, Cohere) on /rerank, /v1/rerank, /v2/rerank: vLLM\'s shape, relevance_score is the reward, best first', async () => {
    const rewards = (await scoreOf()).map((r: { reward: number }) => r.reward);
    const order = rerankOrder(rewards);
    for (const url of ['/rerank', '/v1/rerank', '/v2/rerank']) {
      const res = await service.app.inject({ method: 'POST', url, payload: { model: 'rm', query, documents: texts, use_activation: null } });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.match(body.id, /^rerank-[0-9a-f]{32}$/);
      assert.equal(body.model, 'fake-rm');
      assert.deepEqual(body.results, order.map((index) => ({ index, document: { text: texts[index] }, relevance_score: rewards[index] })));
      assert.deepEqual(body.results.slice(-2).map((r: { index: number }) => r.index), [1, 3], 'invalid code last, in input order');
      const tokens = (await scoreOf.usage()).prompt_tokens;
      assert.deepEqual(body.usage, { prompt_tokens: tokens, total_tokens: tokens });
    }
    const top = (await rerank({ query, documents: texts, top_n: 2 })).json();
    assert.deepEqual(top.results.map((r: { index: number }) => r.index), order.slice(0, 2));
    for (const top_n of [0, -1]) {
      const all = (await rerank({ query, documents: texts, top_n })).json();
      assert.equal(all.results.length, texts.length, 'top_n 0 or negative means all, as vLLM');
    }
  });

  it('/v1/rerank and /v2/rerank with texts answer as TEI', async () => {
    const tei = (await rerank({ query, texts })).json();
    for (const url of ['/v1/rerank', '/v2/rerank']) {
      assert.deepEqual((await service.app.inject({ method: 'POST', url, payload: { query, texts } })).json(), tei, url);
    }
  });

  const badVllm: [string, object, number, RegExp][] = [
    ['both texts and documents', { query, texts, documents: texts }, 400, /exactly one of texts/],
    ['neither texts nor documents', { query }, 400, /texts.*documents/],
    ['documents empty', { query, documents: [] }, 400, /documents/],
    ['a document not a string', { query, documents: ['a', 3] }, 400, /documents\/1/],
    ['top_n not an integer', { query, documents: texts, top_n: 1.5 }, 400, /top_n/],
    ['a positive truncate_prompt_tokens', { query, documents: texts, truncate_prompt_tokens: 8 }, 400, /truncate_prompt_tokens/],
    ['more documents than MAX_CLIENT_BATCH', { query, documents: Array(5).fill('x') }, 422, /documents: 5 items/],
  ];
  for (const [what, payload, status, message] of badVllm) {
    it(`${status} naming the field (vLLM body): ${what}`, async () => {
      const res = await service.app.inject({ method: 'POST', url: '/v1/rerank', payload });
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.json().error, message);
    });
  }
});
