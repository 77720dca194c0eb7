// Issue 23 and 25: the model worker under supervision. A batch past INFERENCE_TIMEOUT_MS gets its
// worker replaced, fails with 503, and the queue keeps what was not in it; a model that fails every
// batch turns /health 503 after UNHEALTHY_AFTER_MS, so Kubernetes restarts the pod.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { OnnxRewardModel } from '../../src/model/onnx-model.ts';
import { testConfig } from '../support/app.ts';
import { fence } from '../support/fence.ts';
import { RUN_ERROR } from '../support/failing-model-worker.ts';

const md = loadModelDir(loadConfig({}).MODEL_DIR);

function tinyModel(worker: string, logged: string[], inferenceTimeoutMs = 0): Promise<OnnxRewardModel> {
  const log = { info() {}, warn() {}, error: (m: string) => logged.push(m) };
  return OnnxRewardModel.create({
    onnxPath: md.onnxPath, provider: 'cpu', intraOpThreads: 1, name: md.name, dtype: md.dtype, retryAfterS: 1, log,
    workerUrl: new URL(`../support/${worker}.ts`, import.meta.url), inferenceTimeoutMs,
  });
}

const items = (...ns: number[]) => ns.map((n) => ({ question: 'q', response: fence(`x = ${n}\n`) }));

describe('model worker supervision', { timeout: 120_000 }, () => {
  it('a batch that never ends: 503 for its items, the worker replaced, the request queued behind it answered', async () => {
    const logged: string[] = [];
    // Wall time: generous, since a shared machine may slow an honest batch of the tiny model.
    const model = await tinyModel('wedging-model-worker', logged, 3000);
    // Three items a batch, so the three-item request fills one batch and the other waits behind it.
    const service = await buildApp({ config: loadConfig({ MAX_BATCH_ITEMS: '3', PREP_THREADS: '1' }), modelDir: md, model });
    try {
      await service.warmUp;
      const post = (payload: object) => service.app.inject({ method: 'POST', url: '/score', payload });
      const wedged = post({ items: items(1, 2, 3) });
      const behind = post({ items: items(4) });
      const [a, b] = await Promise.all([wedged, behind]);
      assert.equal(a.statusCode, 503, a.body);
      assert.equal(a.json().code, 'model_unavailable');
      assert.match(a.json().error, /restarting; retry after Retry-After/, 'the public 503 message, the deadline in the log');
      assert.ok(a.headers['retry-after']);
      assert.equal(b.statusCode, 200, b.body);
      assert.equal(model.restarts, 1);
      assert.match(logged.join('\n'), /model worker ran past its deadline of 3000 ms; replaced, restart #1/);
      assert.equal(model.health.troubleSince, undefined, 'the replacement has answered since');
      assert.equal((await post({ items: items(5, 6) })).statusCode, 200);
      assert.equal((await service.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    } finally {
      await service.shutdown();
    }
  });

  it('a model whose every batch fails: /health 503 once failing for UNHEALTHY_AFTER_MS, and no internal message in the 500', async () => {
    const logged: string[] = [];
    const model = await tinyModel('failing-model-worker', logged);
    const strict = await buildApp({ config: testConfig({ UNHEALTHY_AFTER_MS: '0' }), modelDir: md, model });
    try {
      await assert.rejects(strict.warmUp);
      const res = await strict.app.inject({ method: 'POST', url: '/score', payload: { items: items(1) } });
      assert.equal(res.statusCode, 500);
      assert.equal(res.json().code, 'inference_failed');
      assert.ok(!res.body.includes('CUDA') && !res.body.includes('.cc'), res.body);
      assert.ok(logged.some((line) => line.includes(RUN_ERROR)));
      const health = await strict.app.inject({ method: 'GET', url: '/health' });
      assert.equal(health.statusCode, 503);
      assert.equal(health.json().status, 'failing');
      assert.match(health.json().reason, /^model worker: failing for \d+ ms/);
      // The same failure, not yet failing for a minute (the default), keeps the pod alive.
      const patient = await buildApp({ config: testConfig(), modelDir: md, model });
      try {
        await assert.rejects(patient.warmUp);
        assert.equal((await patient.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      } finally {
        await patient.app.close();
      }
    } finally {
      await strict.shutdown();
    }
  });
});
