// model-past.onnx (the graph with past keys and values) against the float64 reference forward and
// model.onnx: scoring suffixes against a prefix's keys and values, the prefix's own keys and values
// computed by model-past.onnx itself, equals scoring prefix + suffix whole. Both graph forms on the
// tiny preset's model directories, and the bench preset's attention shape (8 query heads over 4
// key/value heads, head_dim 64, 4 layers) on a model built in memory with a small vocabulary.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { PAD_TOKEN_ID, PRESETS, type Qwen3Dims } from '../../tools/make-model/config.ts';
import { PAST_MODEL_FILE, ensureModel } from '../../tools/make-model/model-dir.ts';
import { encodeModel } from '../../tools/make-model/onnx-proto.ts';
import { onnxLogits, padRight } from '../../tools/make-model/padded-batch.ts';
import { type KeyValues, emptyPast, runPast } from '../../tools/make-model/past-run.ts';
import { type AttentionForm, DEFAULT_ATTENTION_FORM, buildQwen3Graph } from '../../tools/make-model/qwen3-graph.ts';
import { type ReferenceModel, type ReferenceSequence, loadReferenceModel, referenceSequence } from '../../tools/make-model/reference-forward.ts';
import { generateWeights } from '../../tools/make-model/weights.ts';

const MODEL_DIR = fileURLToPath(new URL('../../models/tiny-random-qwen3-rm', import.meta.url));
const modelDir = (form: AttentionForm): string => (form === DEFAULT_ATTENTION_FORM ? MODEL_DIR : `${MODEL_DIR}-${form}`);
const TOLERANCE = 1e-4;

interface Model {
  reference: ReferenceModel;
  whole: ort.InferenceSession;
  past: ort.InferenceSession;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

/**
 * Largest |diff| between rows[r]'s keys/values [batch, kv, len, d] (positions 0..lengths[r]-1) and
 * the reference's at positions offset + j.
 */
function keyValueDiff(got: KeyValues, want: ReferenceSequence[], lengths: number[], offset: number): number {
  let worst = 0;
  for (const [kind, tensors] of [['keys', got.keys], ['values', got.values]] as const) {
    tensors.forEach((tensor, layer) => {
      const [batch, kvHeads, len, headDim] = tensor.dims;
      assert.equal(batch, want.length);
      const data = tensor.data as Float32Array;
      for (let row = 0; row < batch; row++) {
        for (let head = 0; head < kvHeads; head++) {
          for (let j = 0; j < lengths[row]; j++) {
            const start = ((row * kvHeads + head) * len + j) * headDim;
            const expected = want[row][kind][layer][offset + j].subarray(head * headDim, (head + 1) * headDim);
            worst = Math.max(worst, maxAbsDiff(data.subarray(start, start + headDim), expected));
          }
        }
      }
    });
  }
  return worst;
}

/** A token: mostly ordinary ids, some special ids, the pad id among them (HF's read-out skips it even unmasked). */
const tokenArbitrary = (vocab: number, padId: number) =>
  fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: vocab - 1 }) }, { weight: 1, arbitrary: fc.constant(padId) });

/**
 * A prefix and the suffixes that share it. A suffix must hold a token other than the pad id:
 * model.onnx reads the last such token of the whole sequence, and the past graph can only read
 * within the suffix.
 */
function groupArbitrary(dims: Qwen3Dims, maxPrefix: number, maxSuffix: number, maxRows: number) {
  const token = tokenArbitrary(dims.vocab_size, dims.pad_token_id);
  const suffix = fc
    .array(token, { minLength: 1, maxLength: maxSuffix })
    .filter((s) => s.some((id) => id !== dims.pad_token_id));
  return fc.record({
    prefix: fc.oneof(fc.constant<number[]>([]), fc.array(token, { minLength: 1, maxLength: maxPrefix })),
    suffixes: fc.array(suffix, { minLength: 1, maxLength: maxRows }),
    extraPadding: fc.nat(4),
  });
}

interface Worst {
  reference: number;
  whole: number;
  present: number;
}

/** Runs one group both ways and asserts every figure within TOLERANCE; returns them. */
async function checkGroup(
  model: Model,
  { prefix, suffixes, extraPadding }: { prefix: number[]; suffixes: number[][]; extraPadding: number },
): Promise<Worst> {
  const { reference, whole, past } = model;
  const dims = reference.dims;
  const shape = { layers: dims.num_hidden_layers, kvHeads: dims.num_key_value_heads, headDim: dims.head_dim };
  const full = suffixes.map((s) => referenceSequence(reference, [...prefix, ...s]));

  // Prefix pass: batch 1, past_len 0; its present keys/values become the suffixes' past.
  let prefixPast = emptyPast(shape);
  let present = 0;
  if (prefix.length > 0) {
    const prefixRun = await runPast(past, padRight([prefix], prefix.length, dims.pad_token_id), emptyPast(shape));
    present = keyValueDiff(prefixRun.present, [full[0]], [prefix.length], 0);
    prefixPast = prefixRun.present;
  }
  const batch = padRight(suffixes, Math.max(...suffixes.map((s) => s.length)) + extraPadding, dims.pad_token_id);
  const suffixRun = await runPast(past, batch, prefixPast);
  for (const tensor of [...suffixRun.present.keys, ...suffixRun.present.values]) {
    assert.deepEqual(tensor.dims, [suffixes.length, dims.num_key_value_heads, batch.inputIds[0].length, dims.head_dim]);
  }
  present = Math.max(present, keyValueDiff(suffixRun.present, full, suffixes.map((s) => s.length), prefix.length));
  const wholeRows = suffixes.map((s) => [...prefix, ...s]);
  const wholeLogits = await onnxLogits(whole, padRight(wholeRows, Math.max(...wholeRows.map((r) => r.length)), dims.pad_token_id));
  const worst = {
    reference: maxAbsDiff(suffixRun.logits, full.map((r) => r.logit)),
    whole: maxAbsDiff(suffixRun.logits, wholeLogits),
    present,
  };
  const where = `prefix ${prefix.length}, suffixes ${suffixes.map((s) => s.length).join('/')} + ${extraPadding} padding`;
  assert.ok(worst.reference <= TOLERANCE, `${where}: logits vs reference ${worst.reference}`);
  assert.ok(worst.whole <= TOLERANCE, `${where}: logits vs model.onnx ${worst.whole}`);
  assert.ok(worst.present <= TOLERANCE, `${where}: present keys/values vs reference ${worst.present}`);
  return worst;
}

async function checkGroups(t: { diagnostic: (m: string) => void }, model: Model, groups: fc.Arbitrary<Parameters<typeof checkGroup>[1]>, numRuns: number) {
  const worst: Worst = { reference: 0, whole: 0, present: 0 };
  let rows = 0;
  await fc.assert(
    fc.asyncProperty(groups, async (group) => {
      const diff = await checkGroup(model, group);
      for (const key of Object.keys(worst) as (keyof Worst)[]) worst[key] = Math.max(worst[key], diff[key]);
      rows += group.suffixes.length;
    }),
    { numRuns },
  );
  t.diagnostic(
    `max |diff| over ${rows} rows: logits vs float64 reference ${worst.reference.toExponential(2)}, ` +
      `vs model.onnx on prefix + suffix ${worst.whole.toExponential(2)}; present keys/values vs reference ${worst.present.toExponential(2)}`,
  );
}

for (const form of ['fused', 'unfused'] as const) {
  describe(`model-past.onnx, tiny preset, ${form} form`, () => {
    let model: Model;
    before(async () => {
      ensureModel(modelDir(form), 'tiny', undefined, form);
      model = {
        reference: loadReferenceModel(modelDir(form)),
        whole: await ort.InferenceSession.create(`${modelDir(form)}/model.onnx`),
        past: await ort.InferenceSession.create(`${modelDir(form)}/${PAST_MODEL_FILE}`),
      };
    });

    test('takes input_ids, attention_mask and past_key/past_value per layer; returns logits and present_key/present_value per layer', () => {
      const layers = PRESETS.tiny.num_hidden_layers;
      const perLayer = (a: string, b: string) => Array.from({ length: layers }, (_, i) => [`${a}.${i}`, `${b}.${i}`]).flat();
      assert.deepEqual(model.past.inputNames, ['input_ids', 'attention_mask', ...perLayer('past_key', 'past_value')]);
      assert.deepEqual(model.past.outputNames, ['logits', ...perLayer('present_key', 'present_value')]);
    });

    test('attends to the shared past by broadcasting it, never by copying it per row', () => {
      const graph = readFileSync(`${modelDir(form)}/${PAST_MODEL_FILE}`);
      assert.ok(!graph.includes('Expand') && !graph.includes('Tile'), 'no Expand or Tile node');
      assert.ok(!graph.includes('GroupQueryAttention'), 'plain-operator attention');
    });

    test(`suffixes against a prefix's past score as prefix + suffix whole, within ${TOLERANCE} of the float64 reference and model.onnx`, async (t) => {
      await checkGroups(t, model, groupArbitrary(PRESETS.tiny, 40, 16, 4), 40);
    });

    test('a long prefix and a one-token suffix', async (t) => {
      const prefix = Array.from({ length: 120 }, (_, i) => (i * 7919) % PRESETS.tiny.vocab_size);
      const worst = await checkGroup(model, { prefix, suffixes: [[42], [7, 8], [PAD_TOKEN_ID, 9]], extraPadding: 0 });
      t.diagnostic(JSON.stringify(worst));
    });

    test('the past moves the logits: the same suffix scores differently after another prefix', async () => {
      const dims = model.reference.dims;
      const shape = { layers: dims.num_hidden_layers, kvHeads: dims.num_key_value_heads, headDim: dims.head_dim };
      const suffix = padRight([[11, 12, 13]]);
      const scores = [];
      for (const prefix of [[100, 200, 300], [101, 200, 300]]) {
        const { present } = await runPast(model.past, padRight([prefix]), emptyPast(shape));
        scores.push((await runPast(model.past, suffix, present)).logits[0]);
      }
      assert.ok(Math.abs(scores[0] - scores[1]) > 100 * TOLERANCE, `${scores[0]} vs ${scores[1]}`);
    });
  });
}

describe('model-past.onnx with the bench preset\'s attention shape (small vocabulary, built in memory)', () => {
  // 8 query heads over 4 key/value heads, head_dim 64, hidden 512, 4 layers; 4096 tokens, the pad id among them.
  const dims: Qwen3Dims = { ...PRESETS.bench, vocab_size: 4096, pad_token_id: 4000 };
  let model: Model;
  before(async () => {
    const weights = generateWeights(dims, 5);
    const session = (past: boolean) =>
      ort.InferenceSession.create(
        Buffer.concat(encodeModel({ producerName: 'test', producerVersion: '1', graph: buildQwen3Graph(dims, weights, { past }) })),
      );
    model = { reference: { dims, weights }, whole: await session(false), past: await session(true) };
  });

  test(`suffixes against a prefix's past score as prefix + suffix whole, within ${TOLERANCE}`, async (t) => {
    await checkGroups(t, model, groupArbitrary(dims, 20, 6, 3), 5);
  });
});
