// scripts/export_onnx.py --dtype fp16 and --dtype bf16 on a random-weight Qwen3 classifier (the
// CodeScaler layout, cut down): the half-precision tolerance measured against torch's own half
// forward and the ranking check both land in export.json; the fp16 export loads and runs on ONNX
// Runtime's CPU provider (in python for the check, and in the service's worker with its fp16
// model-past.onnx, shared against whole scores); ONNX Runtime 1.30's CPU provider has no bf16
// kernels, which the export records instead of a check, and the service says so when asked to run it.
//
// Needs PARITY_PYTHON (npm run test:parity). Two exports: a few minutes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { startModel } from '../../src/engine.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { parityPython, REPO, runPython } from './support.ts';

const root = mkdtempSync(join(tmpdir(), 'half-export-'));
after(() => rmSync(root, { recursive: true, force: true }));
const checkpoint = join(root, 'checkpoint');
const quiet = { info() {}, warn() {}, error() {} };
/** Spacing of 1.0 in each format: the least the tolerance can be (scores are at least 1 in size there). */
const SPACING = { float16: 2 ** -10, bfloat16: 2 ** -7 };

function exportAs(dtype: 'fp16' | 'bf16'): { dir: string; report: Record<string, any> } {
  const dir = join(root, dtype);
  const run = runPython(parityPython(), ['scripts/export_onnx.py', '--model', checkpoint, '--out', dir, '--dtype', dtype]);
  assert.equal(run.status, 0, run.stdout.slice(-3000) + run.stderr.slice(-3000));
  return { dir, report: JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8')) };
}

/** The tolerance rule of scripts/half_check.py, restated: 3 x torch's own error, not below the dtype's spacing at the largest score. */
function assertMeasuredTolerance(check: Record<string, any>, dtype: 'float16' | 'bfloat16'): void {
  assert.ok(check.torch_half_max_abs_diff > 0, 'torch\'s own half-precision error was measured');
  assert.ok(check.tolerance >= 3 * check.torch_half_max_abs_diff - 1e-12);
  assert.ok(check.tolerance >= SPACING[dtype]);
  assert.match(check.rule, new RegExp(`3 x torch's own ${dtype} error`));
}

describe('half-precision exports of a random Qwen3 checkpoint', () => {
  before(() => {
    const made = runPython(parityPython(), ['test/parity/make_checkpoint.py', 'codescaler-qwen3', join(REPO, 'models/tiny-random-qwen3-rm'), checkpoint]);
    assert.equal(made.status, 0, made.stderr);
  });

  it('fp16: checked on the CPU provider within the measured tolerance, rankings kept, and served with prefix sharing', async () => {
    const { dir, report } = exportAs('fp16');
    assert.equal(report.dtype, 'float16');
    assert.equal(report.check.provider, 'CPUExecutionProvider');
    assert.equal(report.check.passed, true);
    assert.ok(report.check.max_abs_diff <= report.check.tolerance);
    assertMeasuredTolerance(report.check, 'float16');
    assert.equal(report.check.ranking.passed, true);
    assert.equal(report.check.ranking.groups.length, 2);
    for (const group of report.check.ranking.groups) assert.match(group.onnx.pairs_in_order, /^\d+\/21$/);
    assert.equal(report.past_check.passed, true);

    // The service on the CPU, asked for it by name: the joined graph with its fp16 past.
    const md = loadModelDir(dir);
    assert.equal(md.dtype, 'float16');
    const config = loadConfig({ EXECUTION_PROVIDER: 'cpu', PREFIX_MIN_TOKENS: '16' });
    const model = await startModel(config, md, quiet);
    try {
      assert.equal(model.canSharePrefixes, true);
      assert.equal(model.info.executionProvider, 'cpu');
    } finally {
      await model.close();
    }
    // Under auto, where CUDA cannot start, the same export is refused rather than run on the CPU unannounced.
    await assert.rejects(startModel(loadConfig({ EXECUTION_PROVIDER: 'auto' }), md, quiet), /float16, made for CUDA, and CUDA cannot start here/);
  });

  it('bf16: the tolerance is measured and recorded; the CPU provider cannot run the graph, and export.json says why', async () => {
    const { dir, report } = exportAs('bf16');
    assert.equal(report.dtype, 'bfloat16');
    assert.equal(report.check.passed, null);
    assert.match(report.check.skipped, /CPU provider cannot run this bfloat16 graph: .*NOT_IMPLEMENTED/);
    assertMeasuredTolerance(report.check, 'bfloat16');
    const md = loadModelDir(dir);
    assert.equal(md.dtype, 'bfloat16');
    const warnings: string[] = [];
    const log = { ...quiet, warn: (m: string) => warnings.push(m) };
    await assert.rejects(startModel(loadConfig({ EXECUTION_PROVIDER: 'cpu' }), md, log), /Could not find an implementation for \w+\(\d+\) node/);
    assert.deepEqual(warnings.filter((w) => /prefix sharing is off for this bfloat16 export/.test(w)).length, 1);
  });
});
