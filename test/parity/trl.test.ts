// TRL's GRPOTrainer with clients/python/trl_reward.py as its reward functions (sync and async), for
// 2 steps on a tiny random Qwen2 policy made here, against the service listening on a local port
// (the app with the deterministic fake model, so that it starts in seconds on a loaded machine),
// with datasets in the plain and the conversational format. Every reward the functions returned equals /v1/score's for
// the question and the completion the trainer generated, and the trainer logged them.
// Needs PARITY_PYTHON: a python with torch, transformers, datasets and trl.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from '../support/app.ts';
import { ROOT } from '../support/service-process.ts';
import { TOKENIZER_DIR } from '../support/fakes.ts';

const PYTHON = process.env.PARITY_PYTHON;

interface Call { fn: string; prompts: unknown[]; completions: unknown[]; rewards: number[] }
type Run = { steps: number; logged: Record<string, number>[]; calls: Call[] };

const text = (value: unknown, role: string): string => {
  if (typeof value === 'string') return value;
  const messages = (value as { role: string; content: string }[]).filter((m) => m.role === role);
  return role === 'user' ? messages.at(-1)!.content : messages.map((m) => m.content).join('');
};

describe('TRL GRPOTrainer with the client\'s reward functions', () => {
  let service: RewardApp | undefined;
  let base = '';
  let result: Record<'plain' | 'conversational', Run>;
  const work = mkdtempSync(join(tmpdir(), 'trl-grpo-'));

  before(async () => {
    if (!PYTHON) throw new Error('PARITY_PYTHON is not set: run npm run test:parity, which makes the venv with scripts/requirements-parity.txt');
    service = await fakeApp();
    base = await service.app.listen({ host: '127.0.0.1', port: 0 });
    const env = { ...process.env, CODE_REWARD_URL: base, TOKENIZERS_PARALLELISM: 'false' };
    const run = await promisify(execFile)(PYTHON, [join(ROOT, 'test/parity/trl_grpo.py'), join(ROOT, 'clients/python'), TOKENIZER_DIR, work],
      { encoding: 'utf8', env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, run.stdout.slice(-2000) + run.stderr.slice(-2000));
    result = JSON.parse(line.slice('RESULT '.length));
  });

  after(async () => {
    await service?.shutdown();
    rmSync(work, { recursive: true, force: true });
  });

  for (const format of ['plain', 'conversational'] as const) {
    it(`${format} dataset: 2 steps, both functions called each step, rewards equal /v1/score's and are logged`, async () => {
      const { steps, logged, calls } = result[format];
      assert.equal(steps, 2);
      assert.deepEqual(calls.map((c) => c.fn).sort(), ['code_reward', 'code_reward', 'code_reward_async', 'code_reward_async']);
      for (const call of calls) {
        // per_device_train_batch_size 4: two prompts, two generations each.
        assert.equal(call.rewards.length, 4);
        if (format === 'conversational') assert.ok(Array.isArray(call.prompts[0]));
        const items = call.prompts.map((p, i) => ({ question: text(p, 'user'), response: text(call.completions[i], 'assistant') }));
        const res = await fetch(base + '/v1/score', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
        assert.deepEqual(call.rewards, (await res.json()).results.map((r: { reward: number }) => r.reward));
      }
      assert.equal(logged.length, 2);
      // The trainer's logged mean reward per function is the mean of what the function returned that step.
      for (const [k, entry] of logged.entries()) {
        const sync = calls.filter((c) => c.fn === 'code_reward')[k].rewards;
        const mean = sync.reduce((s, r) => s + r, 0) / sync.length;
        assert.ok(Math.abs(entry['rewards/code_reward/mean'] - mean) < 1e-4, `${entry['rewards/code_reward/mean']} vs ${mean}`);
      }
    });
  }
});
