// Finding 1 of issue 23: a field the schema does not name never crosses to a prep thread, so a value
// that cannot be copied there (an array nested 4,000 deep, which overflows structured clone's stack)
// cannot take a prep slot and keep it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from '../support/app.ts';

/** An 8 KB JSON value: an array nested `depth` deep. */
function deepArray(depth: number): unknown {
  return JSON.parse('['.repeat(depth) + ']'.repeat(depth));
}

const NORMAL = { items: [{ question: 'q', response: '```python\nprint(2)\n```' }] };

describe('unknown item fields stay at the edge', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ PREP_THREADS: '1' });
  });
  after(() => service.shutdown());

  it('an item carrying a 4,000-deep array in an unknown field is scored, and the next request too', async () => {
    const hostile = JSON.stringify({ items: [{ ...NORMAL.items[0], extra: deepArray(4000) }] });
    assert.ok(hostile.length < 8200);
    // A prep thread per request: with one thread, a slot kept by the first would stall the rest.
    for (let i = 0; i < 3; i++) {
      const res = await service.app.inject({ method: 'POST', url: '/score', payload: hostile, headers: { 'content-type': 'application/json' } });
      assert.equal(res.statusCode, 200, res.body);
    }
    // OpenRLHF sends keys of its own beside query and prompts: they are ignored, whatever they hold.
    const query = `<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n${NORMAL.items[0].response}<|im_end|>`;
    const reward = await service.app.inject({ method: 'POST', url: '/get_reward', payload: { query: [query], prompts: ['<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n'], extra: deepArray(4000) } });
    assert.equal(reward.statusCode, 200, reward.body);
    const next = await service.app.inject({ method: 'POST', url: '/score', payload: NORMAL });
    assert.equal(next.statusCode, 200, next.body);
    assert.equal(next.json().results[0].status, 'ok');
  });
});
