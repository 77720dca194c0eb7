// Prefix sharing on the real tiny model (model-past.onnx from tools/make-model): a pair's score is
// the same within 1e-4 whether it ran alone, in a batch, in a group, against a cached prefix or from
// the result cache; through HTTP with group requests, one-sample requests and /classify texts; and a
// model directory without model-past.onnx keeps working, without sharing.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp, type RewardApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { startModel } from '../../src/engine.ts';
import { Metrics } from '../../src/metrics.ts';
import { DedupingRewardModel } from '../../src/model/deduping-model.ts';
import { loadModelDir, type ModelDir } from '../../src/model/model-dir.ts';
import { OnnxRewardModel } from '../../src/model/onnx-model.ts';
import { PrefixSharingRewardModel } from '../../src/model/prefix-sharing-model.ts';
import { mulberry32 } from '../../tools/mulberry32.ts';
import { batchOf, PAD } from '../support/batch.ts';

const TOLERANCE = 1e-4;
const quiet = { info() {}, warn() {}, error() {} };
const md = loadModelDir(loadConfig({}).MODEL_DIR);

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= TOLERANCE, `${what}: row ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

const counter = async (metric: { get(): Promise<{ values: { value: number }[] }> }) => (await metric.get()).values.reduce((n, v) => n + v.value, 0);

describe('on the real tiny model with model-past.onnx', () => {
  let model: OnnxRewardModel;
  before(async () => {
    assert.ok(md.pastOnnxPath, 'the tiny model directory has model-past.onnx (npm run ensure-model)');
    model = await OnnxRewardModel.create({ onnxPath: md.onnxPath, pastOnnxPath: md.pastOnnxPath, prefixCacheBytes: 1 << 20, provider: 'cpu', intraOpThreads: 1, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quiet });
  });
  after(() => model.close());

  it('random groups, members truncated at MAX_LENGTH among them: alone, in a batch, in a group, from the prefix cache, from the result cache; prefix passes whole and in pieces', async () => {
    assert.equal(model.canSharePrefixes, true);
    const rng = mulberry32(14);
    const token = () => Math.floor(rng() * 150000);
    for (let trial = 0; trial < 6; trial++) {
      const questions = Array.from({ length: 2 }, () => Array.from({ length: 20 + Math.floor(rng() * 40) }, token));
      const maxLength = 30 + Math.floor(rng() * 50);
      const rows = Array.from({ length: 3 + Math.floor(rng() * 8) }, () => {
        const q = questions[Math.floor(rng() * questions.length)];
        return [...q, ...Array.from({ length: 1 + Math.floor(rng() * 30) }, token)].slice(0, maxLength);
      });
      rows.push(rows[0].slice(0, Math.min(rows[0].length, questions[0].length)));
      const alone: number[] = [];
      for (const r of rows) alone.push((await model.predict(batchOf([r])))[0]);
      const metrics = new Metrics();
      // A cache of one prefix: with two questions a batch, prefixes are computed again as well as reused.
      // Odd trials bound the attention scores of a run: suffixes run in small batches and the prefix
      // pass in pieces, each against the keys and values of the pieces before it.
      const maxAttention = trial % 2 === 1 ? 600 : 0;
      const sharing = new PrefixSharingRewardModel(model, { minTokens: 16, maxPaddingShare: 0.2, maxAttention, padTokenId: PAD }, metrics);
      assertClose(await model.predict(batchOf(rows)), alone, `trial ${trial}, one batch`);
      assertClose(await sharing.predict(batchOf(rows)), alone, `trial ${trial}, grouped`);
      assertClose(await sharing.predict(batchOf(rows)), alone, `trial ${trial}, grouped again`);
      for (const [i, r] of rows.entries()) assertClose(await sharing.predict(batchOf([r])), [alone[i]], `trial ${trial}, row ${i} alone after its group`);
      const cached = new DedupingRewardModel(sharing, 100);
      await cached.predict(batchOf(rows));
      assertClose(await cached.predict(batchOf(rows)), alone, `trial ${trial}, result cache`);
      assert.ok(await counter(metrics.prefixSharedItems) >= rows.length, 'the rows did run as suffixes');
      assert.ok(await counter(metrics.prefixCacheHits) > 0, 'some ran against a cached prefix');
    }
  });
});

describe('the prefix cache on the main thread and the worker that holds the keys and values', () => {
  it('a prefix it records is one the worker holds (a hit runs no prefix pass), an evicted one is computed again, and its bytes are the tensors\' bytes', async () => {
    // The tiny model's keys and values take 1 KiB a token: room for one 40-token prefix, not two.
    const model = await OnnxRewardModel.create({ onnxPath: md.onnxPath, pastOnnxPath: md.pastOnnxPath, prefixCacheBytes: 50 * 1024, provider: 'cpu', intraOpThreads: 1, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quiet });
    try {
      const rng = mulberry32(5);
      const prefix = (key: string) => ({ prefixKey: key, prefixIds: Int32Array.from({ length: 40 }, () => Math.floor(rng() * 150000)) });
      const [a, b] = [prefix('a'), prefix('b')];
      const suffixes = [[11, 12, 13], [14, 15]];
      const run = (p: typeof a) => model.predictSuffixes({ ...batchOf(suffixes), ...p });
      const first = await run(a);
      assert.deepEqual([first.prefixHit, model.prefixCache.peek('a'), first.cacheBytes], [false, 40, 40 * 1024]);
      assertClose(first.logits, await model.predict(batchOf(suffixes.map((s) => [...a.prefixIds, ...s]))), 'against the computed prefix');
      // The worker throws "this is a bug" on a hit it does not hold.
      const hit = await run(a);
      assert.equal(hit.prefixHit, true);
      assert.deepEqual(Array.from(hit.logits), Array.from(first.logits));
      assert.equal((await run(b)).prefixHit, false);
      assert.deepEqual([model.prefixCache.peek('a'), model.prefixCache.peek('b'), model.prefixCache.size], [undefined, 40, 1]);
      const again = await run(a);
      assert.equal(again.prefixHit, false, 'the evicted prefix ran again');
      assert.deepEqual(Array.from(again.logits), Array.from(first.logits));
    } finally {
      await model.close();
    }
  });

  it('a worker that dies takes its prefixes with it: the record empties, and the restarted worker computes the prefix again', async () => {
    // The real worker, except that a batch of three rows kills the thread.
    const model = await OnnxRewardModel.create({ onnxPath: md.onnxPath, pastOnnxPath: md.pastOnnxPath, prefixCacheBytes: 1 << 20, provider: 'cpu', intraOpThreads: 1, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quiet, workerUrl: new URL('../support/crashing-worker.ts', import.meta.url) });
    try {
      const rng = mulberry32(6);
      const prefix = { prefixKey: 'q', prefixIds: Int32Array.from({ length: 30 }, () => Math.floor(rng() * 150000)) };
      const suffixes = [[21, 22], [23]];
      const first = await model.predictSuffixes({ ...batchOf(suffixes), ...prefix });
      assert.equal(model.prefixCache.peek('q'), 30);
      await assert.rejects(model.predict(batchOf([[1], [2], [3]])), /worker exited/);
      assert.equal(model.prefixCache.size, 0);
      // A record kept past the crash would send a hit the new worker does not hold ("this is a bug").
      const again = await model.predictSuffixes({ ...batchOf(suffixes), ...prefix });
      assert.deepEqual([again.prefixHit, model.restarts], [false, 1]);
      assert.deepEqual(Array.from(again.logits), Array.from(first.logits));
    } finally {
      await model.close();
    }
  });
});

/** The tiny model directory without model-past.onnx, in a temporary folder. */
function withoutPastGraph(): ModelDir {
  const dir = mkdtempSync(join(tmpdir(), 'no-past-'));
  for (const f of readdirSync(md.dir)) if (f !== 'model-past.onnx') copyFileSync(join(md.dir, f), join(dir, f));
  return loadModelDir(dir);
}

describe('through the service', () => {
  const fence = (code: string) => '```python\n' + code + '\n```';
  const question = 'Write a function that parses a configuration file of key = value lines, skipping blank lines and '
    + 'comments that start with a hash, and returns a dictionary; values that look like integers become ints, '
    + 'everything else stays a string. Raise ValueError naming the line number for a line without an equals sign.';
  const programs = [
    'def parse(text):\n    return dict(line.split("=", 1) for line in text.splitlines() if line.strip())',
    'def parse(text):\n    out = {}\n    for n, line in enumerate(text.splitlines(), 1):\n        if "=" not in line:\n            raise ValueError(n)\n    return out',
    'def parse(t):\n    pass',
    'import re\n\ndef parse(text):\n    return {k: v for k, v in re.findall(r"(\\w+)=(\\w+)", text)}',
    'def parse(text):\n    return {}',
    'def parse(t):\n    pass',
  ];
  const items = programs.map((code) => ({ question, response: fence(code) }));
  const services: RewardApp[] = [];
  const start = async (env: Record<string, string>, dir: ModelDir = md) => {
    const config = loadConfig({ RESULT_CACHE_ITEMS: '0', PREP_THREADS: '0', ...env });
    const service = await buildApp({ config, modelDir: dir, model: await startModel(config, dir, quiet) });
    await service.warmUp;
    services.push(service);
    return service;
  };
  /** Sharing off and on, at the default MAX_LENGTH and at one that truncates the longer programs. */
  const pairs = new Map<string, { off: RewardApp; on: RewardApp }>();
  before(async () => {
    // The question renders to ~70 tokens: at 85 the longer programs are cut, the shorter ones are not.
    for (const maxLength of ['4096', '85']) {
      pairs.set(maxLength, { off: await start({ PREFIX_MIN_TOKENS: '0', MAX_LENGTH: maxLength }), on: await start({ PREFIX_MIN_TOKENS: '16', MAX_LENGTH: maxLength }) });
    }
  });
  after(async () => {
    for (const s of services) await s.shutdown();
  });
  const scoresOf = (res: { json(): { results: { raw_score: number }[] } }) => res.json().results.map((r) => r.raw_score);
  const score = async (s: RewardApp, payload: object) => scoresOf(await s.app.inject({ method: 'POST', url: '/score', payload }));
  const realTokens = async (s: RewardApp) => (await s.metrics.tokens.get()).values.find((v) => v.labels.kind === 'real')!.value;
  const computed = async (s: RewardApp, pass: string) => (await s.metrics.computedTokens.get()).values.find((v) => v.labels.pass === pass)!.value;

  it('one group per request and one sample per request (veRL) score as with sharing off, within 1e-4; members truncated at MAX_LENGTH too', async () => {
    for (const [maxLength, { off, on }] of pairs) {
      const reference = await score(off, { items });
      assertClose(await score(on, { items }), reference, `MAX_LENGTH ${maxLength}: one request`);
      const singles = await Promise.all(items.map((item) => score(on, { items: [item] })));
      assertClose(singles.map((s) => s[0]), reference, `MAX_LENGTH ${maxLength}: one request per sample`);
      assert.ok(await counter(on.metrics.prefixSharedItems) >= items.length, `MAX_LENGTH ${maxLength}: items ran against a shared prefix`);
      const ran = await counter(on.metrics.computedTokens);
      const requested = await realTokens(on);
      assert.ok(ran < requested / 2, `MAX_LENGTH ${maxLength}: computed ${ran} of ${requested} tokens requested`);
      assert.equal(await counter(off.metrics.prefixSharedItems), 0);
    }
  });

  it('/classify texts rendered by the client share their common prefix', async () => {
    const { on, off } = pairs.get('4096')!;
    const shared = await counter(on.metrics.prefixSharedItems);
    const texts = programs.map((code) => `<|im_start|>user\n${question}<|im_end|>\n<|im_start|>assistant\n${code}<|im_end|>\n`);
    const logits = async (s: RewardApp) => (await s.app.inject({ method: 'POST', url: '/classify', payload: { input: texts, use_activation: false } })).json().data.map((d: { probs: number[] }) => d.probs[0]);
    assertClose(await logits(on), await logits(off), '/classify');
    // Five distinct texts: the repeated program runs once.
    assert.equal(await counter(on.metrics.prefixSharedItems) - shared, new Set(programs).size);
  });

  it('a model directory without model-past.onnx serves the same scores without sharing', async () => {
    const bare = withoutPastGraph();
    try {
      assert.equal(bare.pastOnnxPath, undefined);
      const service = await start({ PREFIX_MIN_TOKENS: '16' }, bare);
      assertClose(await score(service, { items }), await score(pairs.get('4096')!.off, { items }), 'no model-past.onnx');
      assert.equal(await counter(service.metrics.prefixSharedItems), 0);
      assert.equal(await computed(service, 'prefix') + await computed(service, 'suffix'), 0);
      assert.ok(await computed(service, 'whole') > 0);
    } finally {
      rmSync(bare.dir, { recursive: true, force: true });
    }
  });
});
