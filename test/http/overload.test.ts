// Overload and hostile input at the route level: a burst gets only 200s and 503s with Retry-After,
// the service recovers as soon as it ends, and hostile code is answered at a cost linear in its size
// without holding up other clients' items for longer than that.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from '../support/app.ts';
import { FakeModel } from '../support/fakes.ts';
import { until } from '../support/until.ts';
import { fence } from '../support/fence.ts';
import { assertLinearCost } from '../support/cost.ts';

describe('overload', () => {
  it('a burst of 200 concurrent requests gets only 200s and 503s with Retry-After, then recovers', async () => {
    const model = new FakeModel({ delayMs: 20 });
    const service = await fakeApp({ MAX_QUEUE_ITEMS: '16', MAX_BATCH_ITEMS: '4', ADMISSION_TIMEOUT_MS: '0', RETRY_AFTER_S: '2' }, model);
    try {
      const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => service.app.inject({
        method: 'POST',
        url: i % 3 === 0 ? '/v1/rank' : '/score',
        payload: i % 3 === 0
          ? { question: 'q', responses: [fence(`x = ${i}`), fence(`y = ${i}`)] }
          : { items: [{ question: 'q', response: fence(`x = ${i}`) }] },
      })));
      const statuses = new Map<number, number>();
      for (const r of burst) statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      assert.deepEqual([...statuses.keys()].sort(), [200, 503], JSON.stringify([...statuses]));
      for (const r of burst.filter((x) => x.statusCode === 503)) {
        assert.equal(r.headers['retry-after'], '2');
        assert.equal(r.json().code, 'overloaded');
      }
      for (const r of burst.filter((x) => x.statusCode === 200)) assert.ok(r.json().results.length >= 1);
      assert.equal(service.queue.size, 0);
      const after = await service.app.inject({ method: 'POST', url: '/score', payload: { items: Array.from({ length: 16 }, () => ({ question: 'q', response: fence('z = 1') })) } });
      assert.equal(after.statusCode, 200, 'the full queue is available again the moment the burst ends');
    } finally {
      await service.shutdown();
    }
  });
});

describe('admission under mixed load', () => {
  it('MAX_QUEUE_ITEMS 64: one 8,192-query OpenRLHF request and 256 single-query callers are all answered 200, none waits past ADMISSION_TIMEOUT_MS', async () => {
    const timeoutMs = 30_000;
    const model = new FakeModel({ delayMs: 3 });
    const service = await fakeApp({ MAX_QUEUE_ITEMS: '64', ADMISSION_TIMEOUT_MS: String(timeoutMs), RETRY_AFTER_S: '1' }, model);
    const prompt = '<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n';
    const query = (i: number) => prompt + fence(`def add(a, b):\n    return a + b + ${i}`) + '<|im_end|>';
    try {
      let bigDone = false;
      const big = service.app.inject({
        method: 'POST', url: '/get_reward',
        payload: { query: Array.from({ length: 8192 }, (_, i) => query(i)), prompts: Array(8192).fill(prompt) },
      }).finally(() => (bigDone = true));
      // The callers start once the big request holds the queue and waits for more room; each sends
      // one query at a time, the next when the last is answered (8 at most), while the big one runs.
      await until(() => service.queue.waitingItems > 0);
      const answers: { statusCode: number; admissionMs: number }[] = [];
      let answeredWhileBigRan = 0;
      const callers = Array.from({ length: 256 }, async (_, c) => {
        for (let n = 0; n < 8 && !bigDone; n++) {
          const r = await service.app.inject({ method: 'POST', url: '/get_reward', payload: { query: [query(100_000 + c)], prompts: [prompt] } });
          answers.push({ statusCode: r.statusCode, admissionMs: Number(r.headers['x-admission-time']) });
          assert.equal(r.statusCode, 200, r.body);
          if (!bigDone) answeredWhileBigRan++;
        }
      });
      await Promise.all(callers);
      // Small requests were not held behind the big one.
      assert.ok(answeredWhileBigRan >= 128, `${answeredWhileBigRan} single-query requests answered while the big one ran`);
      const bigReply = await big;
      assert.equal(bigReply.statusCode, 200, bigReply.body);
      assert.equal(bigReply.json().rewards.length, 8192);
      answers.push({ statusCode: bigReply.statusCode, admissionMs: Number(bigReply.headers['x-admission-time']) });
      assert.ok(answers.length > 256);
      assert.ok(answers.every((a) => a.statusCode === 200));
      const longest = Math.max(...answers.map((a) => a.admissionMs));
      assert.ok(answers.every((a) => Number.isFinite(a.admissionMs)));
      assert.ok(longest < timeoutMs, `a request waited ${longest} ms for admission`);
      console.log(`# ${answers.length} requests (${answeredWhileBigRan} single-query ones answered while the big one ran), all 200; longest admission wait ${longest.toFixed(0)} ms (timeout ${timeoutMs} ms)`);
      assert.equal(service.queue.size + service.queue.waitingItems, 0);
    } finally {
      await service.shutdown();
    }
  });
});

describe('hostile code through /score', () => {
  // Each shape at size n; the cost of one request at n is compared with that of requests at n/4
  // carrying as many characters in all (test/support/cost.ts), while another client's request runs
  // beside the large one, within the cost measured.
  const hostile: [string, (n: number) => string, number][] = [
    ['open parentheses', (n) => fence('x = ' + '('.repeat(n)), 100_000],
    ['a 2 MB one-line program', (n) => fence('x = ' + '1 + '.repeat(n) + '1'), 500_000],
    ['nested blocks', (n) => fence(Array.from({ length: n }, (_, i) => ' '.repeat(i) + 'if x:').join('\n') + '\n' + ' '.repeat(n) + 'pass'), 5000],
    ['20,000 fences', (n) => '```python\nx = 1\n```\n'.repeat(n), 20_000],
  ];
  // Limits raised so that the hostile code reaches the checks (MAX_TEXT_CHARS refuses it by default);
  // prepared on a prep thread, as the defaults serve it. One service for every shape.
  let service: RewardApp;
  before(async () => { service = await fakeApp({ BODY_LIMIT: String(32 * 1024 * 1024), MAX_TEXT_CHARS: String(16 * 1024 * 1024), PREP_THREADS: '1' }); });
  after(() => service.shutdown());
  const score = (response: string) => service.app.inject({ method: 'POST', url: '/score', payload: { items: [{ question: 'q', response }], extraction: 'last_block' } });

  for (const [what, make, size] of hostile) {
    it(`${what}: answered at a cost linear in its size, and a concurrent client's item is not held up longer`, async () => {
      const big = make(size);
      const small = make(Math.round(size / 4));
      let verdict: { status: string } = { status: 'unset' };
      let other = { statusCode: 0, status: 'unset' };
      const alongside = async () => {
        const [h, n] = await Promise.all([score(big), score(fence('y = 2'))]);
        other = { statusCode: n.statusCode, status: n.json().results[0].status };
        assert.equal(h.statusCode, 200);
        verdict = h.json().results[0];
      };
      await assertLinearCost(what, { run: alongside, size: big.length }, { run: async () => assert.equal((await score(small)).statusCode, 200), size: small.length });
      assert.equal(other.statusCode, 200);
      assert.equal(other.status, 'ok');
      if (what !== '20,000 fences') assert.equal(verdict.status, 'syntax_error', JSON.stringify(verdict));
    });
  }
});
