// npm run make-model -- --preset tiny|bench --out DIR [--seed N] [--attention fused|unfused] [--if-missing]
//
// Writes a random-weight Qwen3ForSequenceClassification: model.onnx, model-past.onnx (the same
// network with past keys/values, for prefix sharing), model.onnx.data (the weights both graphs
// read), model.safetensors (same weights, HF names), config.json and the Qwen3 tokenizer files.

import { parseArgs } from 'node:util';
import { isPresetName } from './config.ts';
import { DEFAULT_SEED, ensureModel, writeModel } from './model-dir.ts';
import { DEFAULT_ATTENTION_FORM, isAttentionForm } from './qwen3-graph.ts';

const USAGE = 'usage: make-model --preset tiny|bench --out DIR [--seed N] [--attention fused|unfused] [--if-missing]';

function main(): void {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      // fused: ONNX Runtime's attention and norm operators; unfused: plain operators, the reference form.
      attention: { type: 'string', default: DEFAULT_ATTENTION_FORM },
      // Skip the build when DIR already holds a complete build of this preset and seed.
      'if-missing': { type: 'boolean', default: false },
    },
  });
  const { preset, out, attention } = values;
  const seed = Number(values.seed);
  if (
    preset === undefined ||
    !isPresetName(preset) ||
    out === undefined ||
    !Number.isSafeInteger(seed) ||
    seed < 0 ||
    !isAttentionForm(attention)
  ) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  if (!values['if-missing']) writeModel(out, preset, { seed, attention });
  else if (!ensureModel(out, preset, seed, attention).built) return;
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.error(`make-model: wrote ${preset} (seed ${seed}, ${attention} attention) to ${out} in ${seconds}s`);
}

main();
