// The engine on the real tiny model: ONNX Runtime in its worker thread, behind the queue and routes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildApp, type RewardApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { InferenceFailedError } from '../src/errors.ts';
import { loadModelDir, type ModelDir } from '../src/model/model-dir.ts';
import { OnnxRewardModel } from '../src/model/onnx-model.ts';
import { allocateBatch, type ModelBatch, type RewardModel } from '../src/model/reward-model.ts';
import { mulberry32 } from '../tools/mulberry32.ts';
import { testConfig } from './support/app.ts';
import { assertResponsive, probeHealth } from './support/health-probe.ts';
import { until } from './support/until.ts';
import { fence } from './support/fence.ts';
import { batchOf } from './support/batch.ts';

const quiet = { info() {}, warn() {}, error() {} };

async function tinyModel(md: ModelDir, workerUrl?: URL): Promise<OnnxRewardModel> {
  return OnnxRewardModel.create({
    onnxPath: md.onnxPath, provider: 'cpu', intraOpThreads: 1, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quiet, workerUrl,
  });
}

describe('engine on the tiny model', () => {
  const md = loadModelDir(loadConfig({}).MODEL_DIR);

  it('runs a batch in the worker and reports the CPU provider', async () => {
    const model = await tinyModel(md);
    try {
      assert.equal(model.info.executionProvider, 'cpu');
      const logits = await model.predict(batchOf([[1, 2, 3], [4, 5, 6, 7, 8]], { pad: md.padTokenId }));
      assert.equal(logits.length, 2);
      assert.ok(logits.every(Number.isFinite));
      assert.notEqual(logits[0], logits[1]);
    } finally {
      await model.close();
    }
  });

  it('a batch whose tensors share one buffer crosses to the worker as one transfer, with the same logits', async () => {
    const model = await tinyModel(md);
    try {
      const apart = batchOf([[1, 2, 3], [4, 5, 6, 7, 8]], { pad: md.padTokenId });
      const shared = allocateBatch(apart.batchSize, apart.seqLen);
      shared.inputIds.set(apart.inputIds);
      shared.attentionMask.set(apart.attentionMask);
      const buffer = shared.inputIds.buffer;
      assert.equal(buffer, shared.attentionMask.buffer);
      const expected = await model.predict(batchOf([[1, 2, 3], [4, 5, 6, 7, 8]], { pad: md.padTokenId }));
      assert.deepEqual(await model.predict(shared), expected);
      assert.equal(buffer.byteLength, 0, 'the buffer was transferred (detached here), not copied');
    } finally {
      await model.close();
    }
  });

  it('the model threads run at MODEL_NICE; the event loop keeps its priority', { skip: process.platform !== 'linux' && 'nice values are per thread on Linux only' }, async () => {
    const niceOf = (tid: string | number) => {
      // Field 19 of stat, counted after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const niceOfThreads = () => readdirSync('/proc/self/task').map(niceOf);
    assert.equal(niceOfThreads().filter((n) => n === 7).length, 0);
    const model = await OnnxRewardModel.create({
      onnxPath: md.onnxPath, provider: 'cpu', intraOpThreads: 2, nice: 7, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quiet,
    });
    try {
      await model.predict(batchOf([[1, 2, 3]], { pad: md.padTokenId }));
      // The worker thread and the intra-op pool thread it started (the caller is the second of two).
      assert.ok(niceOfThreads().filter((n) => n === 7).length >= 2, `nice values: ${niceOfThreads().join(' ')}`);
      assert.equal(niceOf(process.pid), 0, 'the main thread stays at nice 0');
    } finally {
      await model.close();
    }
  });

  it('an ONNX Runtime error fails that batch only; the next batch runs', async () => {
    const model = await tinyModel(md);
    try {
      await assert.rejects(model.predict(batchOf([[1, 2, 999_999_999]], { pad: md.padTokenId })), InferenceFailedError);
      const logits = await model.predict(batchOf([[1, 2, 3]], { pad: md.padTokenId }));
      assert.ok(Number.isFinite(logits[0]));
    } finally {
      await model.close();
    }
  });

  it('the same pair gets the same raw score alone and inside batches of any shape', async () => {
    const model = await tinyModel(md);
    // No result cache: the target must run in every batch, not be answered from its first score.
    const service = await buildApp({ config: testConfig({ MAX_WAIT_MS: '20', MAX_PADDING_SHARE: '1', RESULT_CACHE_ITEMS: '0' }), modelDir: md, model });
    try {
      await service.warmUp;
      const target = { question: 'Reverse a list.', response: fence('def rev(xs):\n    return xs[::-1]\n') };
      const alone = (await service.app.inject({ method: 'POST', url: '/score', payload: { items: [target] } })).json().results[0].raw_score;
      const rng = mulberry32(7);
      for (let trial = 0; trial < 4; trial++) {
        const others = Array.from({ length: 1 + Math.floor(rng() * 12) }, (_, i) => ({
          question: `Question ${i} ${'with more words '.repeat(Math.floor(rng() * 20))}`,
          response: fence(`def f${i}(x):\n${'    x = x + 1\n'.repeat(1 + Math.floor(rng() * 40))}    return x\n`),
        }));
        const at = Math.floor(rng() * (others.length + 1));
        const items = [...others.slice(0, at), target, ...others.slice(at)];
        const res = (await service.app.inject({ method: 'POST', url: '/score', payload: { items } })).json();
        assert.ok(Math.abs(res.results[at].raw_score - alone) <= 1e-4, `trial ${trial}: ${res.results[at].raw_score} vs ${alone}`);
      }
    } finally {
      await service.shutdown();
    }
  });

  it('a worker that dies mid-batch fails that batch with 503; it restarts and later requests succeed', async () => {
    const model = await tinyModel(md, new URL('./support/crashing-worker.ts', import.meta.url));
    const service = await buildApp({ config: testConfig({ MAX_WAIT_MS: '50' }), modelDir: md, model });
    try {
      await service.warmUp;
      const item = { question: 'q', response: fence('x = 1\n') };
      // Three distinct rows: identical ones would run as one row and never reach the crash.
      const three = [1, 2, 3].map((n) => ({ question: 'q', response: fence(`x = ${n}\n`) }));
      const crashed = await service.app.inject({ method: 'POST', url: '/score', payload: { items: three } });
      assert.equal(crashed.statusCode, 503);
      assert.equal(crashed.json().code, 'model_unavailable');
      assert.ok(crashed.headers['retry-after']);
      const ok = await service.app.inject({ method: 'POST', url: '/score', payload: { items: [item, item] } });
      assert.equal(ok.statusCode, 200);
      assert.equal(model.restarts, 1);
    } finally {
      await service.shutdown();
    }
  });
});

describe('event loop while the model is busy', () => {
  let service: RewardApp;
  let busy: { started: number; finished: number };
  before(async () => {
    const md = loadModelDir(loadConfig({}).MODEL_DIR);
    const inner = await tinyModel(md);
    busy = { started: 0, finished: 0 };
    const watched: RewardModel = {
      info: inner.info,
      async predict(batch) {
        busy.started++;
        try {
          return await inner.predict(batch);
        } finally {
          busy.finished++;
        }
      },
      close: () => inner.close(),
    };
    service = await buildApp({ config: loadConfig({ MAX_LENGTH: '4096', MAX_BATCH_TOKENS: '32768' }), modelDir: md, model: watched });
    await service.warmUp;
  });
  after(() => service.shutdown());

  it('/health answers during a long batch, the event loop mostly idle', async () => {
    const long = fence('def f(x):\n' + '    x = x * 3 + 1\n'.repeat(250) + '    return x\n');
    const items = Array.from({ length: 4 }, (_, i) => ({ question: `q${i}`, response: long }));
    const before = busy.finished;
    const scoring = service.app.inject({ method: 'POST', url: '/score', payload: { items } });
    await until(() => busy.started > before);
    const probes = await probeHealth(service.app, () => busy.finished === before);
    const res = await scoring;
    assert.equal(res.statusCode, 200);
    assertResponsive(probes, 'the batch');
  });
});

