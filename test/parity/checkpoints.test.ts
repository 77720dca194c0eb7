// Real architectures end to end: a Hugging Face checkpoint made here with random weights and a real
// model's head layout (CodeScaler-1.7B: Qwen3; Skywork-Reward-V2-Llama-3.1-8B: Llama 3.1), exported
// by scripts/export_onnx.py, served by the service's own data path and held against transformers:
//   - check_hf_parity.py (tools/service-scores.ts: template, tokenizer, batch queue, ONNX): 60 pairs,
//     rendered text, ids, truncated flag, logits within 1e-4;
//   - POST /classify of the real app, as veRL's reward loop calls vLLM: the text rendered by the
//     checkpoint's own tokenizer, leading BOS cut off, one text per request, use_activation false;
//   - every exported file with the usual mode (model.onnx.data too: the Qwen3 export puts its weights there);
//   - the fp16 export (Qwen3): a graph ONNX Runtime loads, with the declared inputs, outputs and dtypes.
//     Its numbers are compared only where ONNX Runtime has CUDA; the test says when they were not.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { startModel } from '../../src/engine.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { llama31Tokenizer, parityPairs, qwen3Tokenizer, type TemplateSource } from './chat-cases.ts';
import { parityPython, runPython } from './support.ts';

const TOLERANCE = 1e-4;
const CLASSIFY_PAIRS = 12;
/** Pairs per checkpoint (every kind, long ones truncated included): the templates are held on 288 conversations each in jinja.test.ts, so here the pairs check the model path, whose real attention widths make each pair cost. */
const PARITY_PAIRS = 60;
const tmp = mkdtempSync(join(tmpdir(), 'parity-checkpoints-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const quiet = { info() {}, warn() {}, error() {} };

function python(args: string[], input = ''): string {
  const out = runPython(parityPython(), args, input);
  assert.equal(out.status, 0, `${args.join(' ')} failed:\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
}

/** The figure a script prints after `label`, as a number. */
function figure(text: string, label: RegExp): number {
  const match = label.exec(text);
  assert.ok(match, `${label} not in:\n${text}`);
  return Number(match[1]);
}

/** Permission bits of a file this process creates as it stands (0644 under the usual umask 022). */
function usualMode(): number {
  const probe = join(tmp, 'mode-probe');
  writeFileSync(probe, '');
  return statSync(probe).mode & 0o777;
}

/** externalData: the export puts the weights in model.onnx.data (as above 1.5 GB), which the service then maps. */
const checkpoints: { layout: string; tokenizer: () => TemplateSource; fp16: boolean; externalData: boolean }[] = [
  { layout: 'codescaler-qwen3', tokenizer: qwen3Tokenizer, fp16: true, externalData: true },
  { layout: 'skywork-llama', tokenizer: llama31Tokenizer, fp16: false, externalData: false },
];

for (const { layout, tokenizer, fp16, externalData } of checkpoints) {
  describe(`${layout}: random checkpoint, exported and served`, { timeout: 1_200_000 }, () => {
    const checkpoint = join(tmp, layout);
    const exported = join(tmp, `${layout}-onnx`);

    test('made with transformers and exported to fp32 ONNX (export check within 1e-4)', () => {
      const tokenizerDir = join(tmp, `${layout}-tokenizer`);
      tokenizer().writeTokenizer(tokenizerDir);
      console.log(python(['test/parity/make_checkpoint.py', layout, tokenizerDir, checkpoint]).trim());
      const out = python(['scripts/export_onnx.py', '--model', checkpoint, '--out', exported, '--dtype', 'fp32',
        ...(externalData ? ['--external-data-above', '0'] : [])]);
      const worst = figure(out, /max \|onnx - torch fp32\| = (\S+)/);
      console.log(`${layout}: export check max |onnx - torch fp32| ${worst}`);
      assert.ok(worst <= TOLERANCE);
    });

    test(`every exported file${externalData ? ', model.onnx.data included,' : ''} has the usual mode, readable by whoever serves it`, () => {
      const files = readdirSync(exported);
      assert.equal(files.includes('model.onnx.data'), externalData);
      const mode = usualMode();
      for (const name of files) {
        assert.equal((statSync(join(exported, name)).mode & 0o777).toString(8), mode.toString(8), name);
      }
    });

    test(`check_hf_parity.py: ${PARITY_PAIRS}/${PARITY_PAIRS} pairs equal to transformers through the service`, () => {
      const out = python(['scripts/check_hf_parity.py', exported, '--hf-model', checkpoint, '--pairs', String(PARITY_PAIRS)]);
      console.log(out.trim());
      for (const what of ['chat template text equal', 'token ids equal', 'truncated flag equal']) {
        assert.match(out, new RegExp(`${what}: +${PARITY_PAIRS}/${PARITY_PAIRS}`));
      }
      assert.ok(figure(out, /max \|service - transformers\| (\S+)/) <= TOLERANCE);
      assert.match(out, /\nOK\n/);
    });

    test("POST /classify as veRL calls it: logit and token count equal to transformers on the checkpoint's own rendering", async () => {
      const pairs = parityPairs().filter((p) => p.kind !== 'long').slice(0, CLASSIFY_PAIRS);
      const reference = JSON.parse(python(['test/parity/hf_reference.py', 'classify', checkpoint], JSON.stringify({ pairs }))) as { input: string; ids: number[]; logit: number }[];
      const md = loadModelDir(exported);
      // The model as the service starts it: with the defaults, model.onnx and model-past.onnx in one session.
      const config = loadConfig({ EXECUTION_PROVIDER: 'cpu' });
      const model = await startModel(config, md, quiet);
      assert.equal(model.canSharePrefixes, true, 'the export has model-past.onnx, joined with model.onnx');
      const service = await buildApp({ config, modelDir: md, model });
      try {
        await service.warmUp;
        let worst = 0;
        for (const [i, want] of reference.entries()) {
          const res = await service.app.inject({ method: 'POST', url: '/classify', payload: { model: checkpoint, input: want.input, use_activation: false } });
          assert.equal(res.statusCode, 200, res.body);
          const body = res.json();
          assert.equal(body.usage.prompt_tokens, want.ids.length, `pair ${i}: token count`);
          const diff = Math.abs(body.data.at(-1).probs.at(-1) - want.logit);
          worst = Math.max(worst, diff);
          assert.ok(diff <= TOLERANCE, `pair ${i}: service ${body.data.at(-1).probs.at(-1)} vs transformers ${want.logit}`);
        }
        console.log(`${layout}: /classify ${reference.length}/${reference.length} equal, max |logit diff| ${worst.toExponential(3)}`);
      } finally {
        await service.shutdown();
      }
    });

    if (fp16) {
      test('fp16 export: a graph ONNX Runtime loads, int64 [batch, seq] inputs, float32 [batch, 1] logits, fp16 weights', (t) => {
        const fp16Dir = join(tmp, `${layout}-fp16`);
        const out = python(['scripts/export_onnx.py', '--model', checkpoint, '--out', fp16Dir, '--dtype', 'fp16']);
        const graph = JSON.parse(python(['test/parity/hf_reference.py', 'graph', fp16Dir])) as {
          inputs: unknown[]; outputs: unknown[]; initializers: Record<string, number>; loads_on_cpu: boolean; config_dtype: string;
          export_check: { passed: boolean | null; skipped?: string; max_abs_diff: number | null };
        };
        assert.deepEqual(graph.inputs, [['input_ids', 'INT64', ['batch', 'seq']], ['attention_mask', 'INT64', ['batch', 'seq']]]);
        assert.deepEqual(graph.outputs, [['logits', 'FLOAT', ['batch', 1]]]);
        assert.ok((graph.initializers.FLOAT16 ?? 0) > 0, JSON.stringify(graph.initializers));
        assert.ok(graph.loads_on_cpu);
        assert.equal(graph.config_dtype, 'float16');
        assert.equal(loadModelDir(fp16Dir).dtype, 'float16');
        if (graph.export_check.skipped !== undefined) {
          console.log(`${layout} fp16: numbers NOT checked (${graph.export_check.skipped}); graph, inputs, outputs and dtypes checked`);
          t.diagnostic(`fp16 numbers skipped: ${graph.export_check.skipped}`);
        } else {
          assert.equal(graph.export_check.passed, true, out);
          console.log(`${layout} fp16: max |onnx fp16 (CUDA) - torch fp32| ${graph.export_check.max_abs_diff}`);
        }
      });
    }
  });
}
