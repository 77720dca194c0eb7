// The export and parity scripts as far as a machine without torch can take them: they compile, their
// --help and pair generator run on the standard library, and the service side of the parity check
// (tools/service-scores.ts) agrees with PromptEncoder and with /score on the tiny model.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { pyStrip } from '../../src/extract/fences.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { OnnxRewardModel } from '../../src/model/onnx-model.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import type { PairScore } from '../../tools/service-scores.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXPORT = join(ROOT, 'scripts/export_onnx.py');
const PARITY = join(ROOT, 'scripts/check_hf_parity.py');
const CLI = join(ROOT, 'tools/service-scores.ts');
const IM_END = 151645;
const quiet = { info() {}, warn() {}, error() {} };

// Compiled files go to a scratch prefix, never to scripts/__pycache__.
const pycache = mkdtempSync(join(tmpdir(), 'export-scripts-test-'));
after(() => rmSync(pycache, { recursive: true, force: true }));
const pythonEnv = { ...process.env, PYTHONPYCACHEPREFIX: pycache, PYTHONDONTWRITEBYTECODE: '1' };
const run = promisify(execFile);
/** Exit status and output of a python3 run; python starts slowly, so the runs below start at once and overlap. */
const python = (...args: string[]) =>
  run('python3', args, { env: pythonEnv, maxBuffer: 1 << 26 }).then(
    ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ status: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
const runs = {
  compile: python('-m', 'py_compile', EXPORT, PARITY),
  exportHelp: python(EXPORT, '--help'),
  parityHelp: python(PARITY, '--help'),
  hasTorch: python('-c', 'import torch'),
  exportWithoutTorch: python(EXPORT, '--model', 'LARK-Lab/CodeScaler-1.7B', '--out', join(pycache, 'never-written')),
  dumps: [python(PARITY, '--dump-pairs'), python(PARITY, '--dump-pairs')],
};

interface DumpedPair { kind: string; question: string; code: string }
interface Dump { seed: number; max_length: number; pairs: DumpedPair[] }

describe('scripts on a python3 without torch', () => {
  it('both scripts compile', async () => {
    const result = await runs.compile;
    assert.equal(result.status, 0, result.stderr);
  });

  const helps: [string, Promise<{ status: number; stdout: string }>, string[]][] = [
    ['export_onnx.py', runs.exportHelp, ['--model', '--out', '--dtype', '--opset', '--tolerance']],
    ['check_hf_parity.py', runs.parityHelp, ['model_dir', '--hf-model', '--max-length', '--dump-pairs']],
  ];
  for (const [script, result, flags] of helps) {
    it(`${script} --help prints its options`, async () => {
      const { status, stdout } = await result;
      assert.equal(status, 0);
      assert.match(stdout, /^usage: /);
      for (const flag of flags) assert.ok(stdout.includes(flag), `${flag} missing from --help`);
    });
  }

  it('without torch, the export stops naming the requirements file', async (t) => {
    if ((await runs.hasTorch).status === 0) {
      t.skip('torch is installed here');
      return;
    }
    const result = await runs.exportWithoutTorch;
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /cannot import torch .*pip install -r scripts\/requirements-export\.txt/);
  });
});

// The parts of export_onnx.py that need no torch, driven from python: the model directory it writes
// around model.onnx, the guard against a config.json this transformers misreads, and right padding.
const EXPORT_HELPERS = `
import json, sys, types
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import export_onnx as e
source, out = Path(sys.argv[2]), Path(sys.argv[3])
out.mkdir()
(out / "chat_template.jinja").write_text("left by an earlier export")
copied = e.copy_model_files(None, source, out, 151643, "float16", "LARK-Lab/CodeScaler-1.7B")
def refused(raw, read):
    d = Path(sys.argv[3] + "-cfg"); d.mkdir(exist_ok=True)
    (d / "config.json").write_text(json.dumps(raw))
    try:
        e.check_config_read(d, types.SimpleNamespace(**read))
        return False
    except SystemExit:
        return True
print(json.dumps({
    "copied": copied,
    "stale_template_left": (out / "chat_template.jinja").exists(),
    "v5_rope_misread": refused({"rope_parameters": {"rope_theta": 1000000, "rope_type": "default"}}, {"rope_theta": 10000.0}),
    "v5_rope_read": refused({"rope_parameters": {"rope_theta": 1000000, "rope_type": "default"}}, {"rope_theta": 1000000}),
    "plain_rope_read": refused({"rope_theta": 1000000}, {"rope_theta": 1000000}),
    "llama3_scaling_unread": refused({"rope_parameters": {"rope_theta": 500000, "rope_type": "llama3"}}, {"rope_theta": 500000, "rope_scaling": None}),
    "padded": e.pad_right([[5, 6, 7], [8]], 0),
    "diffs": [str(e.abs_diff(1.0, 1.25)), str(e.abs_diff(float("nan"), 1.0)), str(e.abs_diff(None, 1.0)), str(e.abs_diff(1.0, float("inf")))],
}))
`;

describe('export_onnx.py helpers that need no torch', () => {
  const md = loadModelDir(loadConfig({}).MODEL_DIR);
  const out = join(pycache, 'export-dir');
  let r: { copied: string[]; stale_template_left: boolean; padded: number[][][]; diffs: string[]; [check: string]: unknown };
  before(async () => {
    const { status, stdout, stderr } = await python('-c', EXPORT_HELPERS, join(ROOT, 'scripts'), md.dir, out);
    assert.equal(status, 0, stderr);
    r = JSON.parse(stdout);
  });

  it('writes a model directory the service loads: config (pad id, dtype, served name) and tokenizer files, no stale template', () => {
    assert.deepEqual(r.copied, ['config.json', 'tokenizer.json', 'tokenizer_config.json']);
    assert.equal(r.stale_template_left, false);
    copyFileSync(md.onnxPath, join(out, 'model.onnx'));
    const exported = loadModelDir(out);
    assert.equal(exported.name, 'LARK-Lab/CodeScaler-1.7B');
    assert.equal(exported.dtype, 'float16');
    assert.equal(exported.padTokenId, 151643);
    assert.equal(exported.chatTemplate, md.chatTemplate);
  });

  it('pads right with the pad id and a zero mask, as the batch queue does', () => {
    assert.deepEqual(r.padded, [[[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]]]);
  });

  it('a NaN, infinite or missing logit is an infinite difference, so it fails a check instead of passing it', () => {
    assert.deepEqual(r.diffs, ['0.25', 'inf', 'inf', 'inf']);
  });

  it('refuses a config.json whose rope settings this transformers did not read', () => {
    assert.equal(r.v5_rope_misread, true);
    assert.equal(r.llama3_scaling_unread, true);
    assert.equal(r.v5_rope_read, false);
    assert.equal(r.plain_rope_read, false);
  });
});

describe('parity pairs and the service side of the parity check, on the tiny model', () => {
  const md = loadModelDir(loadConfig({}).MODEL_DIR);
  let dump: Dump;
  let results: PairScore[];

  before(async () => {
    const [first, second] = await Promise.all(runs.dumps);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, second.stdout, 'the pair generator must be deterministic');
    dump = JSON.parse(first.stdout);
    const input = JSON.stringify(dump.pairs.map(({ question, code }) => ({ question, code })));
    const cli = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--model-dir', md.dir, '--max-length', String(dump.max_length)], {
      input, encoding: 'utf8', maxBuffer: 1 << 28,
    });
    assert.equal(cli.status, 0, cli.stderr);
    results = JSON.parse(cli.stdout).results;
  });

  it('200 pairs, every kind about a sixth of them', () => {
    assert.equal(dump.pairs.length, 200);
    const counts = new Map<string, number>();
    for (const p of dump.pairs) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), ['ascii', 'long', 'markdown', 'special_tokens', 'unicode', 'whitespace']);
    for (const [kind, n] of counts) assert.ok(n >= 33, `${kind}: ${n}`);
  });

  const texts = () => dump.pairs.map((p) => p.question + '\u0000' + p.code);
  const coverage: [string, (all: string[]) => boolean][] = [
    ['astral-plane characters (UTF-16 surrogate pairs)', (all) => all.some((s) => /[\u{1F300}-\u{1FAFF}]/u.test(s))],
    ['combining marks (NFC-sensitive text)', (all) => all.some((s) => /\p{M}/u.test(s))],
    ['right-to-left scripts', (all) => all.some((s) => /[\u0590-\u06FF]/.test(s))],
    ['zero-width and line-separator characters', (all) => all.some((s) => /[\u200B-\u200D\u2028]/.test(s))],
    ...['<|im_end|>', '<|im_start|>', '<think>', '</think>', '<|endoftext|>', '<tool_call>'].map(
      (tok): [string, (all: string[]) => boolean] => [`the text ${tok} inside code`, () => dump.pairs.some((p) => p.code.includes(tok))],
    ),
    ['a question wrapped in <tool_response> tags', () => dump.pairs.some((p) => p.question.startsWith('<tool_response>') && p.question.endsWith('</tool_response>'))],
    ['empty code and an empty question', () => dump.pairs.some((p) => p.code === '') && dump.pairs.some((p) => p.question === '')],
    ['CRLF line ends and tab indentation', () => dump.pairs.some((p) => p.code.includes('\r\n')) && dump.pairs.some((p) => p.code.includes('\n\t'))],
  ];
  for (const [what, has] of coverage) {
    it(`covers ${what}`, () => assert.ok(has(texts()), what));
  }

  it('long pairs hit truncation at the dumped max_length, and only they', () => {
    const truncated = results.map((r, i) => ({ r, kind: dump.pairs[i].kind })).filter(({ r }) => r.truncated);
    assert.ok(truncated.length >= 30, `${truncated.length} truncated`);
    assert.ok(truncated.every(({ kind }) => kind === 'long'), 'a short pair was truncated');
    assert.ok(truncated.every(({ r }) => r.ids.length === dump.max_length));
  });

  it('special-token text in code becomes the special token, as Hugging Face tokenizes it', () => {
    const i = dump.pairs.findIndex((p) => p.code.includes("'<|im_end|>'"));
    assert.ok(i >= 0);
    assert.ok(results[i].ids.filter((id) => id === IM_END).length >= 3, 'user turn, code, assistant turn');
  });

  it('the CLI renders and tokenizes every pair exactly as PromptEncoder does', () => {
    const encoder = new PromptEncoder(md, dump.max_length);
    dump.pairs.forEach(({ question, code }, i) => {
      const prompt = encoder.encodeChat(question, code);
      assert.equal(results[i].text, encoder.renderChat(question, code), `pair ${i}`);
      assert.deepEqual(results[i].ids, Array.from(prompt.ids), `pair ${i}`);
      assert.equal(results[i].truncated, prompt.truncated, `pair ${i}`);
    });
  });

  it("the CLI's logits are the service's /score raw_score for the same pairs (within 1e-4, the batch-invariance bound)", async () => {
    // /score strips extracted code, so only pairs that stripping leaves alone have the same input.
    const same = dump.pairs.map((p, i) => ({ p, i })).filter(({ p }) => pyStrip(p.code) === p.code);
    assert.ok(same.length >= 150, `${same.length} comparable pairs`);
    const model = await OnnxRewardModel.create({
      onnxPath: md.onnxPath, provider: 'cpu', intraOpThreads: 0, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quiet,
    });
    const service = await buildApp({ config: loadConfig({ MAX_LENGTH: String(dump.max_length) }), modelDir: md, model });
    try {
      await service.warmUp;
      const items = same.map(({ p }) => ({ question: p.question, response: p.code }));
      const res = await service.app.inject({ method: 'POST', url: '/score', payload: { items, extraction: 'none', shaping: 'none' } });
      assert.equal(res.statusCode, 200, res.body);
      res.json().results.forEach((r: { raw_score: number; prompt_tokens: number }, k: number) => {
        const cli = results[same[k].i];
        assert.equal(r.prompt_tokens, cli.ids.length, `pair ${same[k].i}`);
        assert.ok(Math.abs(r.raw_score - cli.logit) <= 1e-4, `pair ${same[k].i}: /score ${r.raw_score} vs CLI ${cli.logit}`);
      });
    } finally {
      await service.shutdown();
    }
  });

  it('the CLI refuses bad arguments and bad input with a usage line', () => {
    const noArgs = spawnSync(process.execPath, ['--import', 'tsx', CLI], { encoding: 'utf8', input: '[]' });
    assert.equal(noArgs.status, 2);
    assert.match(noArgs.stderr, /usage: service-scores/);
    const badInput = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--model-dir', md.dir, '--max-length', '64'], {
      encoding: 'utf8', input: '[{"question": "q"}]',
    });
    assert.equal(badInput.status, 1);
    assert.match(badInput.stderr, /pair 0: needs string "question" and "code"/);
  });
});
