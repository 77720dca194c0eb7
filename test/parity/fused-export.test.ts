// scripts/export_onnx.py's fused form (GroupQueryAttention, SimplifiedLayerNormalization) against
// Hugging Face transformers itself, on random-weight Qwen3 and Llama classifiers: random right-padded
// batches, some padded past their longest row, scored by onnxruntime-node (the service's runtime) and
// by transformers in the parity venv, within 1e-4.
//
// Needs PARITY_PYTHON: a python with torch, transformers, onnx and onnxruntime (the parity venv).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { PAD_TOKEN_ID } from '../../tools/make-model/config.ts';
import { ensureModel } from '../../tools/make-model/model-dir.ts';
import { type PaddedBatch, onnxLogits, padRight } from '../../tools/make-model/padded-batch.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HELPER = join(ROOT, 'test/parity/fused_export.py');
const EXPORT = join(ROOT, 'scripts/export_onnx.py');
const TOKENIZER_DIR = join(ROOT, 'models/tiny-random-qwen3-rm');
const TOLERANCE = 1e-4;
const PYTHON = process.env.PARITY_PYTHON;

const root = mkdtempSync(join(tmpdir(), 'fused-export-'));
after(() => rmSync(root, { recursive: true, force: true }));

function python(args: string[], input?: string): string {
  assert.ok(PYTHON, 'PARITY_PYTHON must name the parity venv\'s python (torch, transformers, onnx, onnxruntime)');
  const result = spawnSync(PYTHON, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, cwd: ROOT });
  assert.equal(result.status, 0, `${args.slice(0, 2).join(' ')} failed:\n${result.stderr.slice(-4000)}`);
  return result.stdout;
}

/** A seeded generator, so a failure names batches that can be rebuilt. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 12 batches of 1 to 5 rows, 1 to 300 tokens, ids over the whole vocabulary (the pad id among them), extra padding on some. */
function randomBatches(seed: number): PaddedBatch[] {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  return Array.from({ length: 12 }, () => {
    const rows = Array.from({ length: 1 + int(5) }, () =>
      Array.from({ length: 1 + int(300) }, () => (rand() < 0.02 ? PAD_TOKEN_ID : int(151936))),
    );
    const longest = Math.max(...rows.map((r) => r.length));
    return padRight(rows, longest + (rand() < 0.5 ? int(40) : 0));
  });
}

const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe('fused export against transformers', () => {
  ensureModel(TOKENIZER_DIR, 'tiny');

  for (const [arch, seed] of [['qwen3', 1], ['llama', 2]] as const) {
    test(`${arch}: export_onnx.py's default is the fused form, within ${TOLERANCE} of transformers on random padded batches`, async (t) => {
      const checkpoint = join(root, `${arch}-checkpoint`);
      const out = join(root, `${arch}-onnx`);
      python([HELPER, 'checkpoint', arch, checkpoint, TOKENIZER_DIR]);
      python([EXPORT, '--model', checkpoint, '--out', out]);

      const report = JSON.parse(readFileSync(join(out, 'export.json'), 'utf8')) as { attention: string; check: { passed: boolean } };
      assert.equal(report.attention, 'fused');
      assert.equal(report.check.passed, true);
      const graph = readFileSync(join(out, 'model.onnx'));
      assert.ok(graph.includes('GroupQueryAttention') && graph.includes('SimplifiedLayerNormalization'), 'fused operators in model.onnx');
      assert.ok(!graph.includes('Softmax'), 'no softmax of its own in the fused graph');

      const batches = randomBatches(seed);
      const want = JSON.parse(python([HELPER, 'logits', checkpoint], JSON.stringify(batches.map((b) => ({ input_ids: b.inputIds, attention_mask: b.attentionMask }))))) as number[][];
      const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
      let worst = 0;
      const spread: number[] = [];
      for (const [k, batch] of batches.entries()) {
        const got = await onnxLogits(session, batch);
        const diff = maxAbsDiff(got, want[k]);
        worst = Math.max(worst, diff);
        spread.push(...want[k]);
        assert.ok(diff <= TOLERANCE, `batch ${k} (${batch.inputIds.length}x${batch.inputIds[0].length}): max |diff| ${diff}`);
      }
      // The logits must vary, or equal constants would pass the comparison.
      assert.ok(Math.max(...spread) - Math.min(...spread) > 0.1, `logit spread ${Math.max(...spread) - Math.min(...spread)}`);
      t.diagnostic(`${arch}: max |onnx - transformers| over ${spread.length} rows: ${worst.toExponential(2)}`);
    });
  }
});
