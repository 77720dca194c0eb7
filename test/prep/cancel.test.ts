// A client that goes away stops its prep work within one item, not at the end of a 32-item slice:
// the prep worker looks at the job's shared cancel flag before each item and answers how many it
// did. Counted in items the worker prepared after the abort, read from its answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CancelledError } from '../../src/errors.ts';
import { PrepPool, type PrepResponse } from '../../src/prep/pool.ts';
import { ITEMS_PER_SLICE } from '../../src/prep/prepare.ts';
import { tokenizerModelDir } from '../support/fakes.ts';

describe('cancelling prep work', () => {
  let pool: PrepPool;
  const answers: PrepResponse[] = [];
  const proto = PrepPool.prototype as unknown as { settle(slot: unknown, res: PrepResponse): void };
  const settle = proto.settle;
  before(async () => {
    proto.settle = function (this: PrepPool, slot: unknown, res: PrepResponse) { answers.push(res); return settle.call(this, slot, res); };
    pool = await PrepPool.create({ ...tokenizerModelDir(), maxLength: 4096 }, 1, { error() {} });
  });
  after(async () => {
    proto.settle = settle;
    await pool.close();
  });

  const question = 'Sort the numbers 3 1 2 and print them. '.repeat(200);
  const items = Array.from({ length: ITEMS_PER_SLICE }, (_, i) => ({ question, response: `\`\`\`python\nprint(sorted([3, 1, ${i}]))\n\`\`\`` }));

  for (const [what, start] of [
    ['items (extract, check, template, tokenize)', (signal: AbortSignal) => pool.prepare(items, 'single_block', 'softplus', signal)],
    ['texts (tokenize)', (signal: AbortSignal) => pool.encodeTexts(items.map((i) => i.question + i.response), signal)],
  ] as const) {
    it(`${what}: a slice aborted once posted stops within one item; the next request is answered`, async () => {
      answers.length = 0;
      const controller = new AbortController();
      const work = start(controller.signal);
      controller.abort();
      await assert.rejects(work, CancelledError);
      assert.equal(answers.length, 1);
      const [answer] = answers;
      assert.equal(answer.kind, 'cancelled', `the worker answered ${answer.kind}`);
      assert.ok(answer.kind === 'cancelled' && answer.done <= 1, `${answer.kind === 'cancelled' ? answer.done : ITEMS_PER_SLICE} items prepared after the abort`);
      const next = await pool.prepare(items.slice(0, 2), 'single_block', 'softplus');
      assert.equal(next.length, 2);
      assert.ok(next.every((p) => p.status === 'ok' && p.prompt));
    });
  }
});
