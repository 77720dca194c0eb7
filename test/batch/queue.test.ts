import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { BatchQueue, type QueueOptions } from '../../src/batch/queue.ts';
import { CancelledError, OverloadedError } from '../../src/errors.ts';
import { FakeModel, fakeLogit } from '../support/fakes.ts';
import { until } from '../support/until.ts';

const OPTS: QueueOptions = { maxBatchTokens: 64, maxBatchAttention: 0, maxBatchItems: 8, maxPaddingShare: 1, maxWaitMs: 2, maxQueueItems: 100, admissionTimeoutMs: 1000, padTokenId: 151643, retryAfterS: 1 };

function prompt(len: number, salt = 0): Int32Array {
  return Int32Array.from({ length: len }, (_, i) => (i * 7 + salt * 13 + 1) % 5000);
}

describe('BatchQueue', () => {
  it('answers every item with its own logit, in order', async () => {
    const model = new FakeModel();
    const q = new BatchQueue(model, OPTS);
    const prompts = [3, 9, 1, 17, 5, 2].map((n, i) => prompt(n, i));
    const scored = await Promise.all(q.submit(prompts));
    prompts.forEach((p, i) => assert.equal(scored[i].logit, Math.fround(fakeLogit(p))));
  });

  it('cuts batches by the padded-token budget and the item cap', async () => {
    const model = new FakeModel({ delayMs: 5 });
    const q = new BatchQueue(model, OPTS);
    const lengths = Array.from({ length: 40 }, (_, i) => 1 + ((i * 37) % 30));
    await Promise.all(q.submit(lengths.map((n, i) => prompt(n, i))));
    assert.ok(model.batches.length > 1);
    for (const b of model.batches) {
      assert.ok(b.batchSize * b.seqLen <= OPTS.maxBatchTokens, `batch ${b.batchSize}x${b.seqLen} over budget`);
      assert.ok(b.batchSize <= OPTS.maxBatchItems);
    }
    assert.equal(model.batches.reduce((s, b) => s + b.batchSize, 0), lengths.length);
  });

  it('keeps rows x length^2 within MAX_BATCH_ATTENTION; a longer single item still runs alone', async () => {
    const model = new FakeModel({ delayMs: 2 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchTokens: 4096, maxBatchItems: 64, maxBatchAttention: 100 * 100 });
    // Short items batch by the token budget; 60-token ones at most 2 per batch; 150-token ones alone.
    const lengths = Array.from({ length: 48 }, (_, i) => [10, 60, 150][i % 3]);
    await Promise.all(q.submit(lengths.map((n, i) => prompt(n, i))));
    for (const b of model.batches) {
      assert.ok(b.batchSize === 1 || b.batchSize * b.seqLen ** 2 <= 100 * 100, `batch ${b.batchSize}x${b.seqLen}`);
    }
    assert.ok(model.batches.some((b) => b.seqLen === 150), 'the over-budget item ran');
    assert.ok(model.batches.some((b) => b.seqLen === 10 && b.batchSize > 2), 'short items still batch');
    assert.equal(model.batches.reduce((s, b) => s + b.batchSize, 0), lengths.length);
  });

  it('runs an item longer than the token budget alone, and the short ones around it in batches', async () => {
    const model = new FakeModel({ delayMs: 2 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchTokens: 64, maxBatchItems: 64 });
    const lengths = [8, 200, 8, 8, 65, 8];
    const scored = await Promise.all(q.submit(lengths.map((n, i) => prompt(n, i))));
    assert.equal(scored.length, lengths.length);
    for (const b of model.batches) {
      assert.ok(b.batchSize === 1 || b.batchSize * b.seqLen <= 64, `batch ${b.batchSize}x${b.seqLen}`);
    }
    for (const long of [200, 65]) assert.ok(model.batches.some((b) => b.seqLen === long && b.batchSize === 1), `the ${long}-token item ran alone`);
    assert.ok(model.batches.some((b) => b.seqLen === 8 && b.batchSize > 1), 'short items still batch');
  });

  it('groups by length so padding stays low on mixed lengths', async () => {
    const model = new FakeModel({ delayMs: 2 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchTokens: 4096, maxBatchItems: 16 });
    // Alternating short and long items: FIFO batching would pad every short one to the long length.
    const lengths = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? 20 + (i % 7) : 200 + (i % 11)));
    await Promise.all(q.submit(lengths.map((n, i) => prompt(n, i))));
    const real = model.batches.reduce((s, b) => s + b.realTokens, 0);
    const padded = model.batches.reduce((s, b) => s + b.batchSize * b.seqLen, 0);
    const paddingShare = 1 - real / padded;
    assert.ok(paddingShare < 0.1, `padding share ${paddingShare.toFixed(3)}`);
  });

  it('keeps each batch under MAX_PADDING_SHARE; items that would exceed it wait for another batch', async () => {
    const model = new FakeModel({ delayMs: 2 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchTokens: 4096, maxBatchItems: 64, maxPaddingShare: 0.1 });
    // Random lengths arriving together: one unconstrained batch would pad most of them.
    const lengths = Array.from({ length: 40 }, (_, i) => 5 + ((i * 53) % 97));
    await Promise.all(q.submit(lengths.map((n, i) => prompt(n, i))));
    for (const b of model.batches) {
      const share = 1 - b.realTokens / (b.batchSize * b.seqLen);
      assert.ok(share <= 0.1 + 1e-9, `batch ${b.batchSize}x${b.seqLen} padding ${share.toFixed(3)}`);
    }
    assert.equal(model.batches.reduce((s, b) => s + b.batchSize, 0), lengths.length);
    assert.ok(model.batches.some((b) => b.batchSize > 1), 'similar lengths still share a batch');
  });

  it('serves the oldest item in the next batch', async () => {
    const model = new FakeModel({ delayMs: 5 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchItems: 2 });
    const first = q.submit([prompt(30, 1)]);
    const rest = q.submit(Array.from({ length: 10 }, (_, i) => prompt(2, i + 2)));
    await Promise.all([...first, ...rest]);
    assert.equal(model.batches[0].rows.some((r) => r.length === 30), true);
  });

  it('admits a request larger than the queue in parts and answers all of it', async () => {
    const model = new FakeModel({ delayMs: 2 });
    const q = new BatchQueue(model, { ...OPTS, maxQueueItems: 5 });
    const prompts = Array.from({ length: 23 }, (_, i) => prompt(1 + (i % 6), i));
    const scored = await Promise.all(q.submit(prompts));
    prompts.forEach((p, i) => assert.equal(scored[i].logit, Math.fround(fakeLogit(p))));
    assert.equal(model.batches.reduce((s, b) => s + b.batchSize, 0), 23);
  });

  it('a full queue: with ADMISSION_TIMEOUT_MS 0 a request that gets no room is refused at once; one that gets some is finished', async () => {
    const model = new FakeModel();
    let release!: () => void;
    model.gate = new Promise<void>((r) => (release = r));
    const q = new BatchQueue(model, { ...OPTS, maxQueueItems: 2, admissionTimeoutMs: 0 });
    const running = q.submit([prompt(3)]);
    await until(() => model.running === 1);
    const partial = q.submit([prompt(3, 1), prompt(3, 2), prompt(3, 3), prompt(3, 4)]);
    assert.equal(q.size, 2);
    await assert.rejects(Promise.all(q.submit([prompt(2)])), OverloadedError);
    model.gate = undefined;
    release();
    assert.equal((await Promise.all([...running, ...partial])).length, 5);
  });

  it('a request that gets no room within ADMISSION_TIMEOUT_MS is refused with Retry-After; it waited that long', async () => {
    const model = new FakeModel();
    let release!: () => void;
    model.gate = new Promise<void>((r) => (release = r));
    const q = new BatchQueue(model, { ...OPTS, maxQueueItems: 2, maxBatchItems: 1, admissionTimeoutMs: 80 });
    const held = q.submit([prompt(3), prompt(3, 1), prompt(3, 2)]);
    await until(() => model.running === 1 && q.size === 2);
    // The admission timer on a mocked clock: still waiting 1 ms before the timeout, refused at it.
    mock.timers.enable({ apis: ['setTimeout'] });
    let refused: unknown;
    try {
      let settled = false;
      const outcome = Promise.all(q.submit([prompt(2)])).then(() => undefined, (e: unknown) => e).finally(() => (settled = true));
      mock.timers.tick(79);
      await new Promise((r) => setImmediate(r));
      assert.equal(settled, false, 'refused before ADMISSION_TIMEOUT_MS');
      mock.timers.tick(1);
      refused = await outcome;
    } finally {
      mock.timers.reset();
    }
    assert.ok(refused instanceof OverloadedError, String(refused));
    assert.equal(refused.retryAfterS, 1);
    model.gate = undefined;
    release();
    assert.equal((await Promise.all(held)).length, 3);
  });

  it('a waiting request is admitted as room frees, in arrival order, and reports how long it waited', async () => {
    const model = new FakeModel();
    let release!: () => void;
    model.gate = new Promise<void>((r) => (release = r));
    const q = new BatchQueue(model, { ...OPTS, maxQueueItems: 2, maxBatchItems: 1 });
    const first = q.submit([prompt(3), prompt(3, 1), prompt(3, 2)]);
    await until(() => model.running === 1 && q.size === 2);
    const second = q.submit([prompt(2, 5)]);
    const third = q.submit([prompt(2, 6)]);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(q.waitingItems, 2);
    model.gate = undefined;
    release();
    const [s2, s3] = await Promise.all([second[0], third[0]]);
    assert.ok(s2.admissionMs >= 25 && s3.admissionMs >= 20, `${s2.admissionMs} ${s3.admissionMs}`);
    const order = model.batches.map((b) => b.rows[0].join(','));
    assert.ok(order.indexOf(Array.from(prompt(2, 5)).join(',')) < order.indexOf(Array.from(prompt(2, 6)).join(',')), 'arrival order');
    await Promise.all(first);
  });

  it('a large request holds at most half the queue while others wait: later small requests are not starved by it, nor it by them', async () => {
    const model = new FakeModel({ delayMs: 1 });
    const q = new BatchQueue(model, { ...OPTS, maxQueueItems: 8, maxBatchItems: 4 });
    const large = q.submit(Array.from({ length: 200 }, (_, i) => prompt(4, i)));
    let largeDone = false;
    const largeAll = Promise.all(large).then(() => (largeDone = true));
    // A stream of small requests, each sent when the previous is answered, for as long as the large one runs.
    let smallAnswered = 0;
    let smallBeforeLargeDone = 0;
    const callers = Array.from({ length: 6 }, async (_, c) => {
      while (!largeDone) {
        await Promise.all(q.submit([prompt(4, 1000 + c)]));
        smallAnswered++;
        if (!largeDone) smallBeforeLargeDone++;
      }
    });
    await Promise.all([largeAll, ...callers]);
    assert.ok(smallBeforeLargeDone >= 6, `only ${smallBeforeLargeDone} small requests answered while the large one ran`);
    // The large one gets its share too: it finishes although small requests never stop arriving.
    assert.ok(smallAnswered > 0);
    assert.equal(q.size + q.waitingItems, 0);
  });

  it('drops items whose client went away before they run', async () => {
    const model = new FakeModel({ delayMs: 30 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchItems: 1 });
    const first = q.submit([prompt(5, 1)]);
    const controller = new AbortController();
    const gone = q.submit([prompt(6, 2), prompt(7, 3)], controller.signal).map((p) => p.then(() => null, (e: unknown) => e));
    controller.abort();
    await Promise.all(first);
    for (const outcome of await Promise.all(gone)) assert.ok(outcome instanceof CancelledError);
    await q.drain();
    assert.equal(model.calls, 1, 'cancelled items must not reach the model');
  });

  it('fails only the batch that threw; the next batch runs', async () => {
    const model = new FakeModel({ failOn: 1 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchItems: 2 });
    const [a, b, c] = q.submit([prompt(4, 1), prompt(4, 2), prompt(4, 3)]);
    await assert.rejects(a, /injected failure/);
    await assert.rejects(b, /injected failure/);
    assert.equal((await c).logit, Math.fround(fakeLogit(prompt(4, 3))));
  });

  it('runs one batch at a time and prepares the next meanwhile', async () => {
    let release!: () => void;
    const model = new FakeModel();
    model.gate = new Promise<void>((r) => (release = r));
    const q = new BatchQueue(model, { ...OPTS, maxBatchItems: 4, maxWaitMs: 0 });
    const first = q.submit([prompt(4, 1)]);
    await until(() => model.calls === 1);
    const later = q.submit(Array.from({ length: 4 }, (_, i) => prompt(4, i + 2)));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(model.calls, 1, 'no second batch while the first runs');
    assert.equal(q.size, 4, 'the next batch waits, whole, while the first runs');
    release();
    await Promise.all([...first, ...later]);
    assert.equal(model.maxRunning, 1);
    assert.deepEqual(model.batches.map((b) => b.batchSize), [1, 4]);
  });

  it('waits MAX_WAIT_MS for a partial batch to fill when the model is idle', async () => {
    const model = new FakeModel();
    const q = new BatchQueue(model, { ...OPTS, maxWaitMs: 300 });
    const a = q.submit([prompt(3, 1)]);
    await new Promise((r) => setTimeout(r, 10));
    const b = q.submit([prompt(3, 2)]);
    await Promise.all([...a, ...b]);
    assert.deepEqual(model.batches.map((x) => x.batchSize), [2]);
  });

  it('drain resolves once everything admitted is answered, then refuses new work', async () => {
    const model = new FakeModel({ delayMs: 10 });
    const q = new BatchQueue(model, { ...OPTS, maxBatchItems: 1 });
    const ps = q.submit([prompt(3, 1), prompt(3, 2), prompt(3, 3)]);
    let settled = 0;
    ps.forEach((p) => p.then(() => settled++));
    await q.drain();
    assert.equal(settled, 3);
    assert.throws(() => q.submit([prompt(2)]), /shutting down/);
  });
});
