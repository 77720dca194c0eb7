// Issue 23: a prep slice that throws or runs past PREP_SLICE_TIMEOUT_MS fails its own request only.
// The slot is freed (a thrown slice) or its thread replaced (an overdue one), requests queued behind
// it are prepared, and the answer carries no internal message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceError } from '../../src/errors.ts';
import { toErrorBody } from '../../src/http/errors.ts';
import { PrepPool } from '../../src/prep/pool.ts';
import type { ScoreItem } from '../../src/prep/prepare.ts';
import { tokenizerModelDir } from '../support/fakes.ts';
import { fence } from '../support/fence.ts';
import {
  INTERNAL_MESSAGE, SPIN_JS_QUESTION, SPIN_NATIVE_QUESTION, THROW_QUESTION,
} from '../support/misbehaving-prep-worker.ts';

const md = tokenizerModelDir();
const WORKER = new URL('../support/misbehaving-prep-worker.ts', import.meta.url);

function items(n: number, question = 'q'): ScoreItem[] {
  return Array.from({ length: n }, (_, i) => ({ question, response: fence(`x = ${i}\n`) }));
}

/** One prep thread, so a slot that stayed taken would stall every request after it. */
async function onePool(sliceTimeoutMs = 0): Promise<{ pool: PrepPool; logged: string[] }> {
  const logged: string[] = [];
  const pool = await PrepPool.create({ ...md, maxLength: 64 }, 1, { error: (m) => logged.push(m) }, { workerUrl: WORKER, sliceTimeoutMs });
  return { pool, logged };
}

describe('a prep slice that fails', { timeout: 120_000 }, () => {
  it('throwing: its request fails with a 500 that says nothing internal, the log has why, the slot serves on', async () => {
    const { pool, logged } = await onePool();
    try {
      const bad = pool.prepare([...items(5), { question: THROW_QUESTION, response: fence('y = 1') }], 'single_block', 'softplus');
      const behind = pool.prepare(items(40), 'single_block', 'softplus');
      const err = await bad.then(() => assert.fail('the throwing slice was answered'), (e: unknown) => e);
      assert.ok(err instanceof ServiceError);
      const { status, body } = toErrorBody(err);
      assert.equal(status, 500);
      assert.equal(body.code, 'internal');
      assert.ok(!body.error.includes('secret') && !body.error.includes('/srv/'), body.error);
      assert.match(logged.join('\n'), new RegExp(INTERNAL_MESSAGE.split(' ')[0]));
      assert.equal((await behind).length, 40);
      assert.equal((await pool.prepare(items(3), 'single_block', 'softplus')).length, 3);
      assert.equal(pool.health.troubleSince, undefined, 'an input that throws is not a failing worker');
    } finally {
      await pool.close();
    }
  });

  for (const [where, question] of [['plain JavaScript', SPIN_JS_QUESTION], ['a tree-sitter parse', SPIN_NATIVE_QUESTION]]) {
    it(`never ending in ${where}: 422 naming PREP_SLICE_TIMEOUT_MS, the thread replaced, the queue behind it served`, async () => {
      const { pool, logged } = await onePool(300);
      try {
        const wedged = pool.prepare([...items(3), { question, response: fence('y = 1') }], 'single_block', 'softplus');
        const behind = pool.prepare(items(40), 'single_block', 'softplus');
        const err = await wedged.then(() => assert.fail('the wedged slice was answered'), (e: unknown) => e);
        // Its one thread is being replaced: the pool cannot serve (/ready 503) and is failing.
        assert.equal(pool.health.serving, false);
        assert.equal(typeof pool.health.troubleSince, 'number');
        const { status, body } = toErrorBody(err);
        assert.equal(status, 422);
        assert.match(body.error, /PREP_SLICE_TIMEOUT_MS \(300 ms/);
        assert.match(logged.join('\n'), /prep worker ran past its deadline of 300 ms; replaced, restart #1/);
        assert.equal((await behind).length, 40);
        assert.equal((await pool.prepare(items(3), 'single_block', 'softplus')).length, 3);
        assert.equal(pool.health.troubleSince, undefined, 'the replacement has served since');
        assert.equal(pool.threads, 1);
      } finally {
        await pool.close();
      }
    });
  }

  it('closing while a slice never ends: the thread is stopped at the deadline and close returns', async () => {
    const { pool, logged } = await onePool(300);
    const wedged = pool.prepare([{ question: SPIN_JS_QUESTION, response: fence('y = 1') }], 'single_block', 'softplus');
    const settled = wedged.then(() => 'answered', () => 'failed');
    await pool.close();
    assert.equal(await settled, 'failed');
    assert.match(logged.join('\n'), /prep worker ran past its deadline of 300 ms while closing; stopped/);
  });
});
