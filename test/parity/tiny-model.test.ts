// scripts/check_hf_parity.py on the tiny model: the service (template, tokenizer, batch queue, ONNX)
// against transformers on 200 pairs. Every pair must match: text, ids, truncated flag, logit within 1e-4.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parityPython, runPython } from './support.ts';

test('check_hf_parity.py: tiny model, 200/200 pairs equal to transformers', { timeout: 600_000 }, () => {
  const out = runPython(parityPython(), ['scripts/check_hf_parity.py', 'models/tiny-random-qwen3-rm']);
  process.stdout.write(out.stdout);
  assert.equal(out.status, 0, `check_hf_parity.py failed:\n${out.stdout}\n${out.stderr}`);
  for (const line of ['chat template text equal: 200/200', 'token ids equal:          200/200', 'truncated flag equal:     200/200']) {
    assert.ok(out.stdout.includes(line), `missing "${line}" in:\n${out.stdout}`);
  }
  const worst = Number(/max \|service - transformers\| (\S+)/.exec(out.stdout)?.[1]);
  assert.ok(worst <= 1e-4, `max |logit diff| ${worst}`);
});
