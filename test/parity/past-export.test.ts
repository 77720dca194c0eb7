// scripts/export_onnx.py's model-past.onnx (scripts/past_graph.py) against Hugging Face transformers
// run with past_key_values, on random-weight Qwen3 and Llama classifiers: random prefixes (none among
// them) shared by padded batches of random suffixes. onnxruntime-node (the service's runtime) runs the
// prefix pass and feeds its present keys/values back as the past, as the service does; transformers
// fills a DynamicCache with a forward of the prefix. The same through the one session the service
// builds of model.onnx and model-past.onnx, both graph forms of it. Within 1e-4.
//
// Needs PARITY_PYTHON: a python with torch, transformers, onnx and onnxruntime (the parity venv).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PAD_TOKEN_ID } from '../../tools/make-model/config.ts';
import { ensureModel } from '../../tools/make-model/model-dir.ts';
import { type PaddedBatch, padRight } from '../../tools/make-model/padded-batch.ts';
import { emptyPast, runPast } from '../../tools/make-model/past-run.ts';
import { mulberry32 } from '../../tools/mulberry32.ts';
import { sessionOptions } from '../../src/model/session-options.ts';
import { USE_PAST } from '../../src/model/graph-names.ts';
import { singleSessionModel } from '../../src/model/single-session.ts';
import { REPO, parityPython, runPython } from './support.ts';

const CHECKPOINT_HELPER = join(REPO, 'test/parity/fused_export.py');
const HELPER = join(REPO, 'test/parity/past_export.py');
const EXPORT = join(REPO, 'scripts/export_onnx.py');
const TOKENIZER_DIR = join(REPO, 'models/tiny-random-qwen3-rm');
const TOLERANCE = 1e-4;

const root = mkdtempSync(join(tmpdir(), 'past-export-'));
after(() => rmSync(root, { recursive: true, force: true }));

function python(args: string[], input?: string): string {
  const run = runPython(parityPython(), args, input);
  assert.equal(run.status, 0, `${args.slice(0, 2).join(' ')} failed:\n${run.stderr.slice(-4000)}`);
  return run.stdout;
}

interface Group {
  prefix: number[];
  suffixes: PaddedBatch;
}

/** 10 groups: a prefix of 0 to 300 ids, 1 to 5 suffixes of 1 to 80 ids each holding a non-pad id, extra padding on some. */
function randomGroups(seed: number): Group[] {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const id = () => (rand() < 0.03 ? PAD_TOKEN_ID : int(151936));
  return Array.from({ length: 10 }, (_, k) => {
    const prefix = Array.from({ length: k === 0 ? 0 : 1 + int(300) }, id);
    const rows = Array.from({ length: 1 + int(5) }, () => [...Array.from({ length: int(80) }, id), int(PAD_TOKEN_ID)]);
    const longest = Math.max(...rows.map((r) => r.length));
    return { prefix, suffixes: padRight(rows, longest + (rand() < 0.5 ? int(20) : 0)) };
  });
}

const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

interface ExportReport {
  files: string[];
  past_check: { passed: boolean; past_copies: string[]; max_abs_diff: Record<string, number> };
}

describe('model-past.onnx export against transformers with past_key_values', () => {
  ensureModel(TOKENIZER_DIR, 'tiny');

  test('the export\'s check for per-row copies of the past finds an Expand or a Tile on it', () => {
    const [expand, tile, direct] = JSON.parse(python([HELPER, 'copies'])) as string[][];
    assert.equal(expand.length, 1);
    assert.match(expand[0], /^Expand /);
    assert.equal(tile.length, 1);
    assert.match(tile[0], /^Tile /);
    assert.deepEqual(direct, []);
  });

  // Llama's export puts its weights in model.onnx.data (threshold 0), which model-past.onnx must share.
  for (const [arch, seed, externalData] of [['qwen3', 3, false], ['llama', 4, true]] as const) {
    test(`${arch}: suffixes against the prefix's present keys/values score as transformers with past_key_values, within ${TOLERANCE}`, async (t) => {
      const checkpoint = join(root, `${arch}-checkpoint`);
      const out = join(root, `${arch}-onnx`);
      python([CHECKPOINT_HELPER, 'checkpoint', arch, checkpoint, TOKENIZER_DIR]);
      python([EXPORT, '--model', checkpoint, '--out', out, ...(externalData ? ['--external-data-above', '0'] : [])]);

      const report = JSON.parse(readFileSync(join(out, 'export.json'), 'utf8')) as ExportReport;
      assert.equal(report.past_check.passed, true, JSON.stringify(report.past_check));
      assert.deepEqual(report.past_check.past_copies, []);
      assert.ok(report.files.includes('model-past.onnx'));
      assert.equal(existsSync(join(out, 'model.onnx.data')), externalData);
      assert.ok(!existsSync(join(out, 'model-past.onnx.data')), 'model-past.onnx holds no weights of its own');

      const config = JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')) as Record<string, number>;
      const shape = { layers: config.num_hidden_layers, kvHeads: config.num_key_value_heads, headDim: config.head_dim };
      const groups = randomGroups(seed);
      const want = JSON.parse(
        python([HELPER, 'logits', checkpoint], JSON.stringify(groups.map((g) => ({ prefix: g.prefix, input_ids: g.suffixes.inputIds, attention_mask: g.suffixes.attentionMask })))),
      ) as number[][];
      // model-past.onnx on its own, and as the service loads it: in one session with model.onnx.
      const both = await ort.InferenceSession.create(
        singleSessionModel(readFileSync(join(out, 'model.onnx')), readFileSync(join(out, 'model-past.onnx'))),
        sessionOptions(0, 'cpu', { externalDataDir: out }),
      );
      const forms: { name: string; session: ort.InferenceSession; extra: Record<string, ort.Tensor> }[] = [
        { name: 'model-past.onnx', session: await ort.InferenceSession.create(join(out, 'model-past.onnx')), extra: {} },
        { name: 'one session, use_past=true', session: both, extra: { [USE_PAST]: new ort.Tensor('bool', [true], []) } },
      ];
      const worst: Record<string, number> = {};
      const spread: number[] = [];
      for (const [k, { prefix, suffixes }] of groups.entries()) {
        spread.push(...want[k]);
        const where = `group ${k} (prefix ${prefix.length}, suffixes ${suffixes.inputIds.length}x${suffixes.inputIds[0].length})`;
        for (const { name, session, extra } of forms) {
          const past = prefix.length === 0 ? emptyPast(shape) : (await runPast(session, padRight([prefix]), emptyPast(shape), extra)).present;
          const { logits } = await runPast(session, suffixes, past, extra);
          const diff = maxAbsDiff(logits, want[k]);
          worst[name] = Math.max(worst[name] ?? 0, diff);
          assert.ok(diff <= TOLERANCE, `${name}, ${where}: max |diff| ${diff}`);
        }
        // The same rows whole (prefix + each suffix's own tokens), through model.onnx's graph of the one session.
        const rows = suffixes.inputIds.map((row, r) => [...prefix, ...row.slice(0, suffixes.attentionMask[r].reduce((n, m) => n + m, 0))]);
        const { logits } = await runPast(both, padRight(rows), emptyPast(shape), { [USE_PAST]: new ort.Tensor('bool', [false], []) });
        const diff = maxAbsDiff(logits, want[k]);
        worst['one session, use_past=false'] = Math.max(worst['one session, use_past=false'] ?? 0, diff);
        assert.ok(diff <= TOLERANCE, `one session, use_past=false, ${where}: max |diff| ${diff}`);
      }
      // The logits must vary, or equal constants would pass the comparison.
      assert.ok(Math.max(...spread) - Math.min(...spread) > 0.1, `logit spread ${Math.max(...spread) - Math.min(...spread)}`);
      const figures = Object.entries(worst).map(([name, w]) => `${name} ${w.toExponential(2)}`).join(', ');
      t.diagnostic(`${arch}: max |onnx - transformers past_key_values| over ${spread.length} rows: ${figures}; export check ${JSON.stringify(report.past_check.max_abs_diff)}`);
    });
  }
});
