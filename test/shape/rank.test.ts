// POST /v1/rank: best-of-N by shaped reward, highest first, ties in input order, results as /v1/score.
// Auth and overload for this route are in openapi.test.ts, with every other route's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { rankIndices } from '../../src/shape/rank.ts';
import { fakeApp } from '../support/app.ts';
import { fence } from '../support/fence.ts';

describe('rankIndices', () => {
  const cases: [number[], number[]][] = [
    [[1, 3, 2], [1, 2, 0]],
    [[0, 0, 0], [0, 1, 2]],
    [[2, 5, 2, 5, 0], [1, 3, 0, 2, 4]],
    [[-1], [0]],
  ];
  for (const [scores, expected] of cases) {
    it(`${JSON.stringify(scores)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(rankIndices(scores), expected));
  }
});

describe('POST /v1/rank', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ MAX_CLIENT_BATCH: '8' });
  });
  after(() => service.shutdown());

  const question = 'Add two numbers.';
  const responses = [
    'no code at all',
    fence('def add(a, b):\n    return a - b\n'),
    fence('def add(a, b)\n    return a + b\n'),
    fence('def add(a, b):\n    return a + b\n'),
    fence('def add(a, b):\n    return a - b\n'),
  ];

  it('ranks by reward, highest first, ties in input order; results equal /v1/score', async () => {
    const res = await service.app.inject({ method: 'POST', url: '/v1/rank', payload: { question, responses } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    const score = await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items: responses.map((response) => ({ question, response })) } });
    assert.deepEqual(body.results, score.json().results);
    const rewards: number[] = body.results.map((r: { reward: number }) => r.reward);
    assert.equal(body.model, 'fake-rm');
    assert.deepEqual([...body.ranking].sort(), [0, 1, 2, 3, 4]);
    for (let k = 1; k < body.ranking.length; k++) {
      const [a, b] = [body.ranking[k - 1], body.ranking[k]];
      assert.ok(rewards[a] > rewards[b] || (rewards[a] === rewards[b] && a < b), `${a} before ${b}`);
    }
    assert.equal(body.best, body.ranking[0]);
    // The two identical programs tie, and so do the two invalid answers (0 each): input order.
    assert.ok(body.ranking.indexOf(1) < body.ranking.indexOf(4));
    assert.deepEqual(body.ranking.slice(-2), [0, 2]);
    for (const h of ['x-queue-time', 'x-tokenization-time', 'x-inference-time']) assert.ok(h in res.headers, h);
  });

  it('extraction and shaping are passed through: shaping none ranks raw logits, invalid items included', async () => {
    const res = await service.app.inject({ method: 'POST', url: '/v1/rank', payload: { question, responses, extraction: 'last_block', shaping: 'none' } });
    const body = res.json();
    const rewards: number[] = body.results.map((r: { reward: number; raw_score: number }) => {
      assert.equal(r.reward, r.raw_score);
      return r.reward;
    });
    assert.deepEqual(body.ranking, rankIndices(rewards));
  });

  const bad: [string, unknown, number, RegExp][] = [
    ['question missing', { responses }, 400, /question/],
    ['responses missing', { question }, 400, /responses/],
    ['responses empty', { question, responses: [] }, 400, /responses/],
    ['a response not a string', { question, responses: ['a', 2] }, 400, /responses\/1/],
    ['unknown extraction', { question, responses, extraction: 'first_block' }, 400, /extraction/],
    ['unknown field', { question, responses, items: [] }, 400, /items|additional/],
    ['more responses than MAX_CLIENT_BATCH', { question, responses: Array(9).fill('x') }, 422, /responses: 9 items.*MAX_CLIENT_BATCH/],
  ];
  for (const [what, payload, status, message] of bad) {
    it(`${status} naming the field: ${what}`, async () => {
      const res = await service.app.inject({ method: 'POST', url: '/v1/rank', payload: payload as object });
      assert.equal(res.statusCode, status);
      assert.equal(res.json().code, status === 400 ? 'invalid_request' : 'too_many_items');
      assert.match(res.json().error, message);
    });
  }
});
