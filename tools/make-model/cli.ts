// npm run make-model -- --preset tiny|bench --out DIR [--seed N] [--if-missing]
//
// Writes a random-weight Qwen3ForSequenceClassification: model.onnx, model.safetensors
// (same weights, HF names), config.json and the Qwen3 tokenizer files.

import { parseArgs } from 'node:util';
import { isPresetName } from './config.ts';
import { DEFAULT_SEED, ensureModel, writeModel } from './model-dir.ts';

const USAGE = 'usage: make-model --preset tiny|bench --out DIR [--seed N] [--if-missing]';

function main(): void {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      // Skip the build when DIR already holds a complete build of this preset and seed.
      'if-missing': { type: 'boolean', default: false },
    },
  });
  const { preset, out } = values;
  const seed = Number(values.seed);
  if (preset === undefined || !isPresetName(preset) || out === undefined || !Number.isSafeInteger(seed) || seed < 0) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const started = performance.now();
  if (!values['if-missing']) writeModel(out, preset, { seed });
  else if (!ensureModel(out, preset, seed).built) return;
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.error(`make-model: wrote ${preset} (seed ${seed}) to ${out} in ${seconds}s`);
}

main();
