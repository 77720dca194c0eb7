// The prep pool: the same answers as the event-loop form, fair between requests, cancellable, and a
// dead worker costs only the request it was preparing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CancelledError, ServiceError } from '../../src/errors.ts';
import { PrepPool } from '../../src/prep/pool.ts';
import { InlinePreparer, type ScoreItem } from '../../src/prep/prepare.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { EXIT_QUESTION } from '../support/exiting-prep-worker.ts';
import { tokenizerModelDir } from '../support/fakes.ts';
import { fence } from '../support/fence.ts';

const md = tokenizerModelDir();
const quiet = { error() {} };

function mixedItems(n: number): ScoreItem[] {
  const kinds = [
    (i: number) => fence(`def f${i}(x):\n    return x * ${i}`),
    () => fence('def f(:\n    pass'),
    () => 'no code here',
    () => fence('a = 1') + '\n' + fence('b = 2'),
    () => fence(''),
    (i: number) => fence(`print("${'é'.repeat(i % 50)}")`),
  ];
  return Array.from({ length: n }, (_, i) => ({ question: `Question ${i}?`, response: kinds[i % kinds.length](i) }));
}

describe('prep pool', () => {
  let pool: PrepPool;
  const inline = new InlinePreparer(new PromptEncoder(md, 64));

  before(async () => {
    pool = await PrepPool.create({ ...md, maxLength: 64 }, 2, quiet);
  });
  after(() => pool.close());

  it('prepares items, texts and templates exactly as the event-loop form does', async () => {
    const items = mixedItems(100);
    for (const shaping of ['softplus', 'none'] as const) {
      const fromPool = await pool.prepare(items, 'single_block', shaping);
      const fromLoop = await inline.prepare(items, 'single_block', shaping);
      assert.deepEqual(fromPool, fromLoop);
      // Some truncated at 64 tokens; invalid ones skipped unless every score is wanted.
      assert.ok(fromPool.some((p) => p.prompt?.truncated));
      assert.equal(fromPool.some((p) => !p.prompt), shaping === 'softplus');
    }
    const texts = items.map((it) => it.response);
    assert.deepEqual(await pool.encodeTexts(texts), await inline.encodeTexts(texts));
    assert.equal(await pool.renderChat('Q', 'x = 1'), await inline.renderChat('Q', 'x = 1'));
  });

  it('a small request is not held behind a large one submitted first', async () => {
    const order: string[] = [];
    const large = pool.prepare(mixedItems(2000), 'single_block', 'softplus').then((r) => {
      order.push('large');
      return r;
    });
    const small = pool.prepare(mixedItems(1), 'single_block', 'softplus').then((r) => {
      order.push('small');
      return r;
    });
    const [l, s] = await Promise.all([large, small]);
    assert.deepEqual(order, ['small', 'large']);
    assert.equal(l.length, 2000);
    assert.equal(s.length, 1);
  });

  it('a cancelled request stops being prepared', async () => {
    const controller = new AbortController();
    const pending = pool.prepare(mixedItems(3000), 'single_block', 'softplus', controller.signal);
    controller.abort();
    await assert.rejects(pending, CancelledError);
    // The pool goes on serving.
    assert.equal((await pool.prepare(mixedItems(3), 'single_block', 'softplus')).length, 3);
  });

  it('a cancelled request waiting its turn does not stall the requests behind it', { timeout: 60_000 }, async () => {
    // One worker, and nothing submitted after the cancellation that could wake the pool up again.
    const single = await PrepPool.create({ ...md, maxLength: 64 }, 1, quiet);
    try {
      const controller = new AbortController();
      const first = single.prepare(mixedItems(200), 'single_block', 'softplus');
      const cancelled = single.prepare(mixedItems(200), 'single_block', 'softplus', controller.signal);
      const last = single.prepare(mixedItems(50), 'single_block', 'softplus');
      controller.abort();
      await assert.rejects(cancelled, CancelledError);
      assert.equal((await first).length, 200);
      assert.equal((await last).length, 50);
    } finally {
      await single.close();
    }
  });

  it('a worker that dies fails only the request it was preparing; a new worker takes its place', async () => {
    const faulty = await PrepPool.create({ ...md, maxLength: 64 }, 2, quiet, { workerUrl: new URL('../support/exiting-prep-worker.ts', import.meta.url) });
    try {
      const items = mixedItems(300);
      items[150] = { question: EXIT_QUESTION, response: 'x' };
      await assert.rejects(faulty.prepare(items, 'single_block', 'softplus'), (err: unknown) => err instanceof ServiceError && err.status === 500 && /prep worker exited/.test(err.message));
      const after = await faulty.prepare(mixedItems(200), 'single_block', 'softplus');
      assert.deepEqual(after, await inline.prepare(mixedItems(200), 'single_block', 'softplus'));
      assert.equal(faulty.threads, 2);
    } finally {
      await faulty.close();
    }
  });
});
