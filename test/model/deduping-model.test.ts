// Duplicate collapse and the result cache: what reaches the model, what the cache answers, and that
// the answers are the uncached ones, on the fake model and bit for bit on the real tiny model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { Metrics } from '../../src/metrics.ts';
import { DedupingRewardModel } from '../../src/model/deduping-model.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { OnnxRewardModel } from '../../src/model/onnx-model.ts';
import { mulberry32 } from '../../tools/mulberry32.ts';
import { fakeApp, testConfig } from '../support/app.ts';
import { FakeModel, fakeLogit } from '../support/fakes.ts';
import { until } from '../support/until.ts';
import { fence } from '../support/fence.ts';
import { batchOf, PAD } from '../support/batch.ts';


const row = (len: number, salt: number) => Array.from({ length: len }, (_, i) => (i * 7 + salt * 13 + 1) % 5000);
const a = row(5, 1);
const b = row(9, 2);
const c = row(3, 3);
const expected = (rows: number[][]) => rows.map((r) => Math.fround(fakeLogit(r)));

async function counter(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values[0]?.value ?? 0;
}

describe('DedupingRewardModel on the fake model', () => {
  it('identical rows of a batch run once, in a batch cut to the longest remaining row', async () => {
    const fake = new FakeModel();
    const metrics = new Metrics();
    const model = new DedupingRewardModel(fake, 100, metrics);
    const rows = [a, b, a, c, b, a];
    assert.deepEqual(Array.from(await model.predict(batchOf(rows, { seqLen: 12 }))), expected(rows));
    assert.equal(fake.calls, 1);
    assert.deepEqual(fake.batches[0].rows, [a, b, c]);
    assert.equal(fake.batches[0].seqLen, b.length);
    assert.equal(await counter(metrics.collapsedItems), 3);
    assert.equal(await counter(metrics.resultCacheMisses), 3);
  });

  it('a batch without duplicates or cached rows reaches the model as it came, padding and all', async () => {
    const fake = new FakeModel();
    const rows = [a, b, c];
    assert.deepEqual(Array.from(await new DedupingRewardModel(fake, 100).predict(batchOf(rows, { seqLen: 12 }))), expected(rows));
    assert.equal(fake.batches[0].seqLen, 12);
  });

  it('a real token equal to the pad id is part of the key: [ids] and [ids, pad] both run', async () => {
    const fake = new FakeModel();
    const rows = [a, [...a, PAD]];
    assert.deepEqual(Array.from(await new DedupingRewardModel(fake, 100).predict(batchOf(rows))), expected(rows));
    assert.equal(fake.batches[0].batchSize, 2);
  });

  it('repeats in later batches come from the cache; a batch answered entirely by it never calls the model', async () => {
    const fake = new FakeModel();
    const metrics = new Metrics();
    const model = new DedupingRewardModel(fake, 100, metrics);
    await model.predict(batchOf([a, b]));
    const rows = [b, a, b];
    assert.deepEqual(Array.from(await model.predict(batchOf(rows))), expected(rows));
    assert.equal(fake.calls, 1);
    const mixed = [c, a];
    assert.deepEqual(Array.from(await model.predict(batchOf(mixed))), expected(mixed));
    assert.deepEqual(fake.batches[1].rows, [c]);
    assert.equal(await counter(metrics.resultCacheHits), 4);
    assert.equal(await counter(metrics.resultCacheMisses), 3);
    assert.equal(await counter(metrics.resultCacheItems), 3);
  });

  it('evicts the least recently used row beyond RESULT_CACHE_ITEMS', async () => {
    const fake = new FakeModel();
    const model = new DedupingRewardModel(fake, 2);
    // [row sent alone, model calls after it]: a hit refreshes a row, so c evicts b and not a.
    const steps: [number[], number][] = [[a, 1], [b, 2], [a, 2], [c, 3], [b, 4], [c, 4], [a, 5]];
    for (const [i, [r, calls]] of steps.entries()) {
      assert.deepEqual(Array.from(await model.predict(batchOf([r]))), expected([r]), `step ${i}`);
      assert.equal(fake.calls, calls, `step ${i}`);
    }
  });

  it('RESULT_CACHE_ITEMS 0: every batch runs, duplicates within one still run once, no hit or miss counted', async () => {
    const fake = new FakeModel();
    const metrics = new Metrics();
    const model = new DedupingRewardModel(fake, 0, metrics);
    const rows = [a, a, b];
    for (let i = 0; i < 2; i++) assert.deepEqual(Array.from(await model.predict(batchOf(rows))), expected(rows));
    assert.equal(fake.calls, 2);
    assert.deepEqual(fake.batches.map((x) => x.batchSize), [2, 2]);
    assert.equal(await counter(metrics.resultCacheHits), 0);
    assert.equal(await counter(metrics.resultCacheMisses), 0);
    assert.equal(await counter(metrics.collapsedItems), 2);
  });

  it('a failed batch fails every row and caches nothing', async () => {
    const fake = new FakeModel({ failOn: 1 });
    const model = new DedupingRewardModel(fake, 100);
    await assert.rejects(model.predict(batchOf([a, a])), /injected failure/);
    assert.deepEqual(Array.from(await model.predict(batchOf([a]))), expected([a]));
    assert.equal(fake.calls, 2);
  });

  it('a row with a hole in its mask breaks the seam contract and is refused as a bug', async () => {
    const batch = batchOf([a, b]);
    batch.attentionMask[1] = 0n;
    await assert.rejects(new DedupingRewardModel(new FakeModel(), 100).predict(batch), /row 0 is not right-padded.*this is a bug/);
  });
});

describe('duplicate collapse through the app', () => {
  const item = (code: string) => ({ question: 'Add two numbers.', response: '```python\n' + code + '```' });

  it('the same item waiting in two requests runs once, and a repeated request never reaches the model', async () => {
    const fake = new FakeModel();
    const service = await fakeApp({}, fake);
    try {
      let release!: () => void;
      fake.gate = new Promise<void>((r) => (release = r));
      const calls = fake.calls;
      const blocker = service.app.inject({ method: 'POST', url: '/score', payload: { items: [item('y = 0\n')] } });
      await until(() => fake.running === 1);
      const twins = [1, 2].map(() => service.app.inject({ method: 'POST', url: '/score', payload: { items: [item('x = 1\n')] } }));
      await until(() => service.queue.size === 2);
      fake.gate = undefined;
      release();
      const [first, second] = (await Promise.all(twins)).map((r) => r.json().results[0].raw_score);
      await blocker;
      assert.equal(first, second);
      assert.equal(fake.calls, calls + 2);
      assert.equal(fake.batches.at(-1)!.batchSize, 1);
      const again = await service.app.inject({ method: 'POST', url: '/score', payload: { items: [item('x = 1\n'), item('x = 1\n')] } });
      assert.deepEqual(again.json().results.map((r: { raw_score: number }) => r.raw_score), [first, first]);
      assert.equal(fake.calls, calls + 2);
      const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /^reward_collapsed_items_total 1$/m);
      assert.match(metrics, /^reward_result_cache_hits_total 2$/m);
    } finally {
      await service.shutdown();
    }
  });
});

describe('on the real tiny model, results equal an uncached run', () => {
  const md = loadModelDir(loadConfig({}).MODEL_DIR);
  const quiet = { info() {}, warn() {}, error() {} };
  const tiny = () => OnnxRewardModel.create({ onnxPath: md.onnxPath, provider: 'cpu', intraOpThreads: 1, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quiet });

  it('same raw logit bits with the cache on, off, and without the layer: duplicates in one batch and across batches', async () => {
    const rng = mulberry32(14);
    const distinct = Array.from({ length: 5 }, () => Array.from({ length: 4 + Math.floor(rng() * 60) }, () => Math.floor(rng() * 150000)));
    const rows = Array.from({ length: 14 }, () => distinct[Math.floor(rng() * distinct.length)]);
    const bare = await tiny();
    try {
      const uncached = Array.from(await bare.predict(batchOf(rows)));
      assert.equal(new Set(uncached).size, new Set(rows).size, 'distinct rows have distinct logits, so a mix-up would show');
      const on = new DedupingRewardModel(bare, 100);
      const off = new DedupingRewardModel(bare, 0);
      assert.deepEqual(Array.from(await on.predict(batchOf(rows))), uncached);
      assert.deepEqual(Array.from(await on.predict(batchOf(rows))), uncached, 'answered from the cache');
      assert.deepEqual(Array.from(await off.predict(batchOf(rows))), uncached);
    } finally {
      await bare.close();
    }
  });

  it('across requests: raw_score bits equal with RESULT_CACHE_ITEMS on and 0, first answer and repeat', async () => {
    const items = ['def f(x):\n    return x\n', 'print(2)\n', 'def f(x):\n    return x\n', 'y = [i for i in range(9)]\n', 'print(2)\n']
      .map((code) => ({ question: 'Write f.', response: fence(code) }));
    const scores: number[][] = [];
    for (const cacheItems of ['65536', '0']) {
      const service = await buildApp({ config: testConfig({ RESULT_CACHE_ITEMS: cacheItems }), modelDir: md, model: await tiny() });
      try {
        await service.warmUp;
        for (let i = 0; i < 2; i++) {
          const res = await service.app.inject({ method: 'POST', url: '/score', payload: { items } });
          scores.push(res.json().results.map((r: { raw_score: number }) => r.raw_score));
        }
        const hits = (await service.metrics.resultCacheHits.get()).values[0].value;
        assert.equal(hits, cacheItems === '0' ? 0 : items.length);
      } finally {
        await service.shutdown();
      }
    }
    assert.equal(new Set(scores[0]).size, 3);
    for (const s of scores.slice(1)) assert.deepEqual(s, scores[0]);
  });
});
