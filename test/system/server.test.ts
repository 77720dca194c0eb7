// The real process: start-up refusals name the culprit, and SIGTERM under load answers everything
// accepted, refuses new work, and exits 0.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cudaUnavailableReason } from '../../src/model/cuda.ts';
import { ROOT, spawnService, startService } from '../support/service-process.ts';

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}

describe('server process', () => {
  const refusals: [string, Record<string, string>, string[], RegExp][] = [
    ['a bad environment value', { MAX_BATCH_TOKENS: 'lots' }, [], /cannot start: MAX_BATCH_TOKENS: must be a non-negative integer/],
    ['a bad flag value', {}, ['--execution-provider', 'tpu'], /cannot start: EXECUTION_PROVIDER: must be one of auto\|cuda\|cpu/],
    ['a model directory without model.onnx', { MODEL_DIR: fileURLToPath(new URL('../fixtures', import.meta.url)) }, [], /cannot start: .*fixtures\/model\.onnx: missing/],
  ];
  for (const [what, env, args, message] of refusals) {
    it(`refuses to start on ${what}, naming it, exit 1`, async () => {
      const { child, output } = spawnService(env, args);
      assert.equal(await exitOf(child), 1);
      assert.match(output(), message);
    });
  }

  it('the build npm start runs (dist/, plain node) serves /docs and scores through dist/model/onnx-worker.js', async () => {
    const service = await startService({}, { built: true });
    try {
      assert.equal((await fetch(`${service.base}/docs`)).status, 200);
      assert.match(await (await fetch(`${service.base}/openapi.yaml`)).text(), /^openapi: 3/m);
      const res = await fetch(`${service.base}/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ question: 'q', response: '```python\nprint(1)\n```' }] }),
      });
      assert.equal(res.status, 200);
      const [result] = ((await res.json()) as { results: { status: string; raw_score: number }[] }).results;
      assert.equal(result.status, 'ok');
      assert.ok(Number.isFinite(result.raw_score));
    } finally {
      await service.stop();
    }
    assert.doesNotMatch(service.output(), /Deprecation|Warning/);
  });

  it('npm start rebuilds dist/ only when a source changed: right after a build, the prestart compiles nothing', () => {
    const again = spawnSync(process.execPath, ['tools/build-if-stale.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /compiling/);
    assert.ok(existsSync(join(ROOT, 'dist/.build-stamp')));
  });

  it('start-up says where it listens, the model, the provider and the batching limits; the demo model is flagged', async () => {
    const service = await startService({ LOG_LEVEL: 'info', EXECUTION_PROVIDER: 'auto' });
    await service.stop();
    const lines = service.output().trim().split('\n').map((l) => JSON.parse(l));
    const serving = lines.find((l) => l.msg === 'serving; API reference at /docs');
    assert.ok(serving, service.output());
    assert.equal(serving.url, service.base);
    assert.equal(serving.model, 'tiny-random-qwen3-rm');
    for (const key of ['provider', 'max_length', 'max_batch_tokens', 'max_batch_attention', 'max_batch_items', 'max_wait_ms', 'max_queue_items']) assert.ok(key in serving, key);
    assert.equal(lines.filter((l) => l.level === 'warn' && /demo model \(random weights\).*Serve a real model/.test(l.msg)).length, 1);
    // Where CUDA cannot start, auto says why in one info line, and ONNX Runtime is never asked (no red [E:onnxruntime] line).
    const reason = cudaUnavailableReason();
    if (reason !== undefined) {
      assert.equal(serving.provider, 'cpu');
      assert.deepEqual(lines.filter((l) => /EXECUTION_PROVIDER=auto/.test(l.msg ?? '')).map((l) => [l.level, l.msg]), [['info', `EXECUTION_PROVIDER=auto: running on CPU because ${reason}`]]);
      assert.doesNotMatch(service.output(), /\[E:onnxruntime|Failed to load library/);
    }
  });

  it('SIGTERM under load: every accepted request is answered, /ready turns 503, nothing new is accepted, exit 0', async () => {
    // The model holds a partial batch for MAX_WAIT_MS (3 s here), so all 32 items wait in the queue,
    // accepted and unanswered, when the signal comes; the warm-up pays that wait once at start.
    const { child, base, output } = await startService({ MAX_BATCH_ITEMS: '64', MAX_WAIT_MS: '3000' });
    try {
      const body = JSON.stringify({ items: Array.from({ length: 4 }, (_, i) => ({ question: `q${i}`, response: "```python\n" + `x = ${i}\n` + '```' })) });
      const inFlight = Array.from({ length: 8 }, () =>
        fetch(`${base}/score`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(async (r) => ({ status: r.status, body: await r.json() })),
      );
      // SIGTERM only once every request is accepted: all its items are in the queue.
      const queued = async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return Number(/^reward_queue_items (\S+)/m.exec(text)?.[1] ?? 0);
      };
      const deadline = Date.now() + 20_000;
      while ((await queued()) < 32) {
        assert.ok(Date.now() < deadline, 'the requests were never all queued');
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill('SIGTERM');
      // The signal is handled once the event loop gets to it; /ready must turn within moments.
      let lateReady: number | string = 200;
      for (let i = 0; i < 100 && lateReady === 200; i++) {
        lateReady = await fetch(`${base}/ready`).then((r) => r.status, () => 'refused');
        if (lateReady === 200) await new Promise((r) => setTimeout(r, 20));
      }
      const late = await fetch(`${base}/score`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
        .then(async (r) => ({ status: r.status, body: await r.json() }), () => 'refused' as const);
      const answers = await Promise.all(inFlight);
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.equal(a.body.results.length, 4);
      }
      assert.ok(lateReady === 503 || lateReady === 'refused', `late /ready got ${lateReady}`);
      // Refused in the error shape when the connection still gets through.
      if (late !== 'refused') assert.deepEqual([late.status, late.body.code, Object.keys(late.body).sort()], [503, 'shutting_down', ['code', 'error']]);
      assert.equal(await exitOf(child), 0, output());
    } finally {
      child.kill('SIGKILL');
    }
  });
});
