import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { softplus } from '../../src/shape/shaping.ts';
import { fakeApp, testConfig } from '../support/app.ts';
import { FakeModel, fakeLogit } from '../support/fakes.ts';
import { until } from '../support/until.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { tokenizerModelDir } from '../support/fakes.ts';
import { fence } from '../support/fence.ts';

const card = JSON.parse(readFileSync(new URL('../fixtures/model-card.json', import.meta.url), 'utf8'));

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

describe('POST /score', () => {
  let service: RewardApp;
  let model: FakeModel;
  before(async () => {
    model = new FakeModel();
    service = await fakeApp({}, model);
  });
  after(() => service.shutdown());

  it('scores the model-card pair, and gives the three invalid answers 0 without the model', async () => {
    const before = await service.app.inject({ method: 'GET', url: '/metrics' });
    const items = [
      { question: card.question, response: `Here it is:\n${fence(card.program_correct)}` },
      { question: card.question, response: fence(card.program_wrong) },
      { question: card.question, response: fence('def subarraySum(nums, k)\n    return 0\n') },
      { question: card.question, response: `${fence('x = 1\n')}\nand\n${fence('y = 2\n')}` },
      { question: card.question, response: 'I cannot solve this.' },
    ];
    const batchesBefore = model.batches.length;
    const res = await service.app.inject({ method: 'POST', url: '/score', payload: { items } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.model, 'fake-rm');
    assert.deepEqual(body.results.map((r: { status: string }) => r.status), ['ok', 'ok', 'syntax_error', 'multiple_blocks', 'no_code']);
    assert.deepEqual(body.results.map((r: { valid: boolean }) => r.valid), [true, true, false, false, false]);
    for (const r of body.results.slice(2)) {
      assert.equal(r.reward, 0);
      assert.equal(r.raw_score, null);
      assert.equal(r.prompt_tokens, 0);
    }
    assert.equal(body.results[2].detail.line, 1);
    assert.equal(typeof body.results[2].detail.message, 'string');
    // The fake's logit is a function of the exact token ids: equal means the prompt was built right.
    const encoder = new PromptEncoder(tokenizerModelDir(), 4096);
    for (const [i, program] of [[0, card.program_correct], [1, card.program_wrong]] as const) {
      const ids = encoder.encodeChat(card.question, program.trim()).ids;
      assert.equal(body.results[i].raw_score, Math.fround(fakeLogit(ids)));
      assert.equal(body.results[i].reward, softplus(body.results[i].raw_score));
      assert.equal(body.results[i].prompt_tokens, ids.length);
      assert.ok(body.results[i].reward > 0);
    }
    assert.deepEqual(body.usage, { prompt_tokens: body.results[0].prompt_tokens + body.results[1].prompt_tokens, scored_items: 2, skipped_items: 3 });
    const ranRows = model.batches.slice(batchesBefore).reduce((s, b) => s + b.batchSize, 0);
    assert.equal(ranRows, 2, 'invalid items never reach the model under softplus');
    for (const h of ['x-queue-time', 'x-tokenization-time', 'x-inference-time']) assert.match(String(res.headers[h]), /^\d+(\.\d+)?$/);

    const after = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    const delta = (status: string) => metricValue(after, 'reward_items_total', `{status="${status}"}`) - (metricValue(before.body, 'reward_items_total', `{status="${status}"}`) || 0);
    assert.equal(delta('ok'), 2);
    assert.equal(delta('syntax_error'), 1);
    assert.equal(delta('multiple_blocks'), 1);
    assert.equal(delta('no_code'), 1);
    assert.ok(metricValue(after, 'reward_requests_total', '{route="/score",status="200"}') >= 1);
  });

  it('/v1/score is the same handler; shaping none runs every item and returns raw logits', async () => {
    const items = [{ question: 'q', response: fence('x = 1\n') }, { question: 'q', response: 'no code here' }];
    const res = await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items, shaping: 'none' } });
    assert.equal(res.statusCode, 200);
    const [a, b] = res.json().results;
    assert.equal(a.reward, a.raw_score);
    assert.equal(b.status, 'no_code');
    assert.equal(b.valid, false);
    assert.equal(typeof b.raw_score, 'number', 'upstream runs the model on empty content');
    assert.equal(b.reward, b.raw_score);
  });

  it('extraction modes: last_block takes the last block, none takes the whole response', async () => {
    const response = `${fence('x = (\n')}\n${fence('y = 2\n')}`;
    const res = await service.app.inject({
      method: 'POST', url: '/score',
      payload: { items: [{ question: 'q', response }], extraction: 'last_block' },
    });
    assert.equal(res.json().results[0].status, 'ok');
    const none = await service.app.inject({
      method: 'POST', url: '/score',
      payload: { items: [{ question: 'q', response: '  x = 1\n' }, { question: 'q', response: fence('x = 1\n') }], extraction: 'none' },
    });
    assert.deepEqual(none.json().results.map((r: { status: string }) => r.status), ['ok', 'syntax_error']);
  });

  it('reports truncation per item', async () => {
    const small = await fakeApp({ MAX_LENGTH: '64', MAX_BATCH_TOKENS: '64' });
    try {
      const res = await small.app.inject({
        method: 'POST', url: '/score',
        payload: { items: [{ question: 'q', response: fence('x = 1\n'.repeat(100)) }, { question: 'q', response: fence('x = 1\n') }] },
      });
      const [long, short] = res.json().results;
      assert.equal(long.truncated, true);
      assert.equal(long.prompt_tokens, 64);
      assert.equal(short.truncated, false);
      const metrics = (await small.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.equal(metricValue(metrics, 'reward_truncated_items_total'), 1);
    } finally {
      await small.shutdown();
    }
  });

  const badRequests: [string, unknown, RegExp][] = [
    ['items missing', {}, /items/],
    ['items not an array', { items: 'x' }, /items/],
    ['items empty', { items: [] }, /items/],
    ['question not a string', { items: [{ question: 1, response: 'r' }] }, /items\/0\/question/],
    ['response missing', { items: [{ question: 'q' }] }, /response/],
    ['unknown extraction', { items: [{ question: 'q', response: 'r' }], extraction: 'first_block' }, /extraction/],
    ['unknown shaping', { items: [{ question: 'q', response: 'r' }], shaping: 'relu' }, /shaping/],
    ['unknown top-level field', { items: [{ question: 'q', response: 'r' }], extration: 'none' }, /extration|additional/],
    ['body is an array', [1, 2], /body/],
  ];
  for (const [what, payload, field] of badRequests) {
    it(`400 naming the field: ${what}`, async () => {
      const res = await service.app.inject({ method: 'POST', url: '/score', payload: payload as object });
      assert.equal(res.statusCode, 400);
      const body = res.json();
      assert.equal(body.code, 'invalid_request');
      assert.match(body.error, field);
    });
  }

  it('400 on malformed JSON', async () => {
    const res = await service.app.inject({ method: 'POST', url: '/score', headers: { 'content-type': 'application/json' }, payload: '{"items": [' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'invalid_request');
  });

  it('413 over BODY_LIMIT, 422 over MAX_CLIENT_BATCH', async () => {
    const small = await fakeApp({ BODY_LIMIT: '2048', MAX_CLIENT_BATCH: '3' });
    try {
      const big = await small.app.inject({ method: 'POST', url: '/score', payload: { items: [{ question: 'q', response: 'x'.repeat(5000) }] } });
      assert.equal(big.statusCode, 413);
      assert.equal(big.json().code, 'body_too_large');
      const many = await small.app.inject({ method: 'POST', url: '/score', payload: { items: Array.from({ length: 4 }, () => ({ question: 'q', response: 'r' })) } });
      assert.equal(many.statusCode, 422);
      assert.equal(many.json().code, 'too_many_items');
      assert.match(many.json().error, /MAX_CLIENT_BATCH/);
    } finally {
      await small.shutdown();
    }
  });

  it('503 with Retry-After at once when the queue is full and ADMISSION_TIMEOUT_MS is 0, and recovers', async () => {
    const slow = new FakeModel();
    const small = await fakeApp({ MAX_QUEUE_ITEMS: '2', ADMISSION_TIMEOUT_MS: '0', RETRY_AFTER_S: '3' }, slow);
    try {
      const item = { question: 'q', response: fence('x = 1\n') };
      let release!: () => void;
      slow.gate = new Promise<void>((r) => (release = r));
      const running = small.app.inject({ method: 'POST', url: '/score', payload: { items: [item] } });
      await until(() => slow.running === 1);
      const waiting = small.app.inject({ method: 'POST', url: '/score', payload: { items: [item, item] } });
      await until(() => small.queue.size === 2);
      const refused = await small.app.inject({ method: 'POST', url: '/score', payload: { items: [item] } });
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.headers['retry-after'], '3');
      assert.equal(refused.json().code, 'overloaded');
      slow.gate = undefined;
      release();
      assert.deepEqual([(await running).statusCode, (await waiting).statusCode], [200, 200]);
      const later = await small.app.inject({ method: 'POST', url: '/score', payload: { items: [item, item] } });
      assert.equal(later.statusCode, 200);
    } finally {
      await small.shutdown();
    }
  });

  it('a failed batch answers 500 with a clear error and no stack', async () => {
    const failing = new FakeModel({ failOn: 2 });
    const svc = await fakeApp({}, failing);
    try {
      const res = await svc.app.inject({ method: 'POST', url: '/score', payload: { items: [{ question: 'q', response: fence('x = 1\n') }] } });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json().code, 'inference_failed');
      assert.doesNotMatch(res.body, /at .*\.ts:\d+/);
      const next = await svc.app.inject({ method: 'POST', url: '/score', payload: { items: [{ question: 'q', response: fence('x = 1\n') }] } });
      assert.equal(next.statusCode, 200);
    } finally {
      await svc.shutdown();
    }
  });
});

describe('operational routes', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ MAX_BATCH_ITEMS: '77' });
  });
  after(() => service.shutdown());

  it('/health answers ok', async () => {
    const res = await service.app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('/ready is 200 after warm-up and 503 while draining', async () => {
    assert.equal((await service.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    service.lifecycle.draining = true;
    const res = await service.app.inject({ method: 'GET', url: '/ready' });
    service.lifecycle.draining = false;
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().status, 'draining');
  });

  it('/ready is 503 before the warm-up batch is answered', async () => {
    const slow = new FakeModel({ delayMs: 200 });
    const { buildApp } = await import('../../src/app.ts');
    const svc = await buildApp({ config: testConfig(), modelDir: tokenizerModelDir(), model: slow });
    try {
      assert.equal((await svc.app.inject({ method: 'GET', url: '/ready' })).statusCode, 503);
      await svc.warmUp;
      assert.equal((await svc.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    } finally {
      await svc.shutdown();
    }
  });

  it('/info names the model, dtype, provider, max_length and batching limits', async () => {
    const info = (await service.app.inject({ method: 'GET', url: '/info' })).json();
    assert.equal(info.model, 'fake-rm');
    assert.equal(info.dtype, 'float32');
    assert.equal(info.execution_provider, 'fake');
    assert.equal(info.max_length, 4096);
    // Not CUDA, so the CPU token budget; prep threads as the test config sets them.
    assert.deepEqual(info.batching, {
      max_batch_tokens: 1024, max_batch_attention: 1024 * 1024, max_batch_items: 77, max_padding_share: 0.1, max_wait_ms: 2, max_queue_items: 4096, admission_timeout_ms: 60000, max_client_batch: 16384, prep_threads: testConfig().PREP_THREADS,
    });
  });

  it('/metrics exposes every reward_ series and the process metrics', async () => {
    await service.app.inject({ method: 'POST', url: '/score', payload: { items: [{ question: 'q', response: fence('x = 1\n') }] } });
    const res = await service.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(String(res.headers['content-type']), /text\/plain/);
    for (const name of [
      'reward_requests_total', 'reward_request_duration_seconds_bucket', 'reward_items_total', 'reward_queue_items',
      'reward_batch_items_bucket', 'reward_batch_tokens_bucket', 'reward_tokens_total{kind="real"}', 'reward_tokens_total{kind="padding"}',
      'reward_queue_duration_seconds_bucket', 'reward_inference_duration_seconds_bucket', 'reward_tokenization_duration_seconds_bucket',
      'reward_truncated_items_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds',
      'reward_result_cache_hits_total', 'reward_result_cache_misses_total', 'reward_result_cache_items', 'reward_collapsed_items_total',
    ]) assert.ok(res.body.includes(name), name);
  });

  it('unknown routes are a JSON 404', async () => {
    const res = await service.app.inject({ method: 'GET', url: '/nope' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'not_found');
  });
});

describe('auth', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ API_KEY: 's3cret' });
  });
  after(() => service.shutdown());
  const score = { items: [{ question: 'q', response: fence('x = 1\n') }] };

  it('scoring and /info need the bearer token', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 's3cret' }, { authorization: 'Bearer s3cret0' }]) {
      const res = await service.app.inject({ method: 'POST', url: '/score', payload: score, headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(res.json().code, 'unauthorized');
    }
    assert.equal((await service.app.inject({ method: 'GET', url: '/info' })).statusCode, 401);
    const ok = await service.app.inject({ method: 'POST', url: '/score', payload: score, headers: { authorization: 'Bearer s3cret' } });
    assert.equal(ok.statusCode, 200);
  });

  it('/health, /ready and /metrics stay open', async () => {
    for (const url of ['/health', '/ready', '/metrics']) {
      assert.equal((await service.app.inject({ method: 'GET', url })).statusCode, 200, url);
    }
  });
});
