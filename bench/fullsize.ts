// `npm run bench:fullsize`: CodeScaler-1.7B's full shape taken through the README as a new user takes a
// real model, on this machine, and held against transformers:
//
//   test/parity/make_checkpoint.py --size full   Qwen3 at 28 layers, hidden 2048, MLP 6144, vocabulary
//                                                151,936, random weights (6.9 GB of fp32 safetensors)
//   scripts/export_onnx.py                       time, peak RSS, model files
//   npm start (dist/server.js), defaults         start to /ready, peak RSS (anonymous and file-backed)
//   POST /score                                  stdlib items, MAX_BATCH_TOKENS --budget
//   transformers in-process (fp32, sdpa)         the same prompts cut by the same limits; items/s and
//                                                max |service - transformers| against the export's tolerance
//   bench/gemm_ceiling.py                        fp32 products at the model's shapes on these cores: the
//                                                arithmetic rate both speeds are held against
//
// Too slow and too big for CI: 408 s on 2 cores with the checkpoint already made (2026-12-07), 14 GB of
// disk (checkpoint and export, kept under --work for a rerun, which then skips making the checkpoint),
// and 9 GB of RAM at its peak (the export). The
// service and transformers never run at the same time. Needs PARITY_PYTHON or .venv-parity (torch,
// transformers, onnx, onnxruntime). Results: bench/results/fullsize-bench.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { loadModelDir } from '../src/model/model-dir.ts';
import { ensureModel } from '../tools/make-model/index.ts';
import { buildCorpus } from './lib/corpus.ts';
import { encodeItems } from './lib/raw-loop.ts';
import { startService } from './lib/service-process.ts';
import { MiB, sum } from './lib/stats.ts';
import { runTransformers } from './lib/transformers.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const LAYOUT = 'codescaler-qwen3';
/** Targets of the issue that asked for this bench: service RSS within model files + 1.5 GB, export peak at most 1.5x the weights, 2.4x transformers. */
const TARGETS = { serviceOverModelGB: 1.5, exportOverWeights: 1.5, overTransformers: 2.4 };
const GB = 1e9;

const { values: args } = parseArgs({
  options: {
    work: { type: 'string', default: join(tmpdir(), 'code-reward-fullsize') },
    /** An existing Hugging Face checkpoint to export instead of making the full-shape one (a narrower one tries the bench out). */
    checkpoint: { type: 'string' },
    items: { type: 'string', default: '16' },
    budget: { type: 'string', default: '1024' },
    seed: { type: 'string', default: '24' },
    python: { type: 'string', default: process.env.PARITY_PYTHON ?? join(REPO, '.venv-parity/bin/python') },
    results: { type: 'string', default: 'bench/results/fullsize-bench' },
  },
});
const started = performance.now();
const say = (msg: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)}s] ${msg}`);
const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/** Runs `argv` under the parity python, which reports its largest child's peak RSS (ru_maxrss, KiB). */
function runMeasured(argv: string[], label: string, failedOk = false): { wallS: number; peakBytes: number; stdout: string } {
  const wrapper = 'import resource, subprocess, sys\n'
    + 'code = subprocess.run(sys.argv[1:]).returncode\n'
    + 'print(f"PEAK_RSS_KIB {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)\n'
    + 'sys.exit(code)\n';
  const t0 = performance.now();
  const result = spawnSync(args.python, ['-c', wrapper, args.python, ...argv], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * MiB, stdio: ['ignore', 'pipe', 'pipe'] });
  const wallS = (performance.now() - t0) / 1000;
  if (result.status !== 0 && !(failedOk && result.status === 1)) throw new Error(`${label} failed (${result.status ?? result.error?.message}):\n${result.stdout?.slice(-3000)}\n${result.stderr?.slice(-3000)}`);
  const peak = /PEAK_RSS_KIB (\d+)/.exec(result.stderr);
  return { wallS, peakBytes: peak ? Number(peak[1]) * 1024 : NaN, stdout: result.stdout };
}

/** Resident bytes of a live process, split as the kernel counts them (smaps_rollup). */
function residentSplit(pid: number): { anonymous: number; fileBacked: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { anonymous: kib('Anonymous'), fileBacked: kib('Rss') - kib('Anonymous') };
}

const work = args.work;
const checkpoint = args.checkpoint ?? join(work, 'checkpoint');
const exported = join(work, 'export');
mkdirSync(work, { recursive: true });
mkdirSync(dirname(join(REPO, args.results)), { recursive: true });
say(`work directory ${work}; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`);

// 1. The checkpoint, kept for a rerun: making it is not what this bench measures.
const tokenizerDir = join(REPO, 'models/tiny-random-qwen3-rm');
ensureModel(tokenizerDir, 'tiny');
if (args.checkpoint !== undefined || (existsSync(join(checkpoint, 'config.json')) && JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')).num_hidden_layers === 28)) {
  say(`checkpoint: reusing ${checkpoint}`);
} else {
  say('checkpoint: making the full-shape Qwen3 classifier (random weights)');
  runMeasured(['test/parity/make_checkpoint.py', LAYOUT, tokenizerDir, checkpoint, '--size', 'full'], 'make_checkpoint.py');
}

// 2. The export, from scratch.
rmSync(exported, { recursive: true, force: true });
say('export: scripts/export_onnx.py (fp32, the defaults)');
// A check over its tolerance (exit 1, export.json written) is a figure of this bench, not the end of it.
const exportRun = runMeasured(['scripts/export_onnx.py', '--model', checkpoint, '--out', exported], 'export_onnx.py', true);
const shape = JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')) as Record<string, number>;
const exportReport = JSON.parse(readFileSync(join(exported, 'export.json'), 'utf8'));
const weightBytes: number = exportReport.weight_bytes;
const modelFiles = ['model.onnx', 'model.onnx.data', 'model-past.onnx', 'model-past.onnx.data'].filter((n) => existsSync(join(exported, n)));
const modelBytes = sum(modelFiles.map((n) => statSync(join(exported, n)).size));
say(`  ${f(exportRun.wallS, 0)} s, peak RSS ${f(exportRun.peakBytes / GB, 2)} GB for ${f(weightBytes / GB, 2)} GB of weights; check ${exportReport.check.max_abs_diff} (tolerance ${exportReport.check.tolerance}, ${exportReport.check.passed ? 'passed' : 'FAILED'}), `
  + `past check ${JSON.stringify(exportReport.past_check?.max_abs_diff)} (${exportReport.past_check?.passed ? 'passed' : 'FAILED'})`);

// 3. The prompts, as the service makes them.
const budget = Number(args.budget);
const config = loadConfig({ ...process.env, MAX_BATCH_TOKENS: String(budget) });
const md = loadModelDir(exported);
const corpus = buildCorpus({ count: Number(args.items), seed: Number(args.seed), invalidShare: 0 });
const prompts = encodeItems(corpus.items, md, config);
const tokens = sum(prompts.map((p) => p.ids.length));
say(`items: ${prompts.length} stdlib functions, ${tokens} prompt tokens, batches of at most ${budget} tokens`);

// 4. The service at its defaults, one request with every item after a one-item warm-up.
say('service: npm start (dist/server.js)');
// npm start's build step (tools/build-if-stale.mjs) first, so that start to /ready is the service's own.
execFileSync(process.execPath, ['tools/build-if-stale.mjs'], { cwd: REPO, stdio: 'inherit' });
const t0 = performance.now();
const service = await startService({ modelDir: exported, env: { ...process.env, MAX_BATCH_TOKENS: String(budget), RESULT_CACHE_ITEMS: '0' }, logPath: join(work, 'service.log') });
const readyS = (performance.now() - t0) / 1000;
const score = async (items: typeof corpus.items) => {
  const res = await fetch(`${service.base}/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: items.map((it) => ({ question: it.question, response: it.response })) }),
  });
  if (!res.ok) throw new Error(`/score answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { results: { raw_score: number | null }[] }).results;
};
await score(corpus.items.slice(0, 1));
const t1 = performance.now();
const answers = await score(corpus.items);
const serviceS = (performance.now() - t1) / 1000;
const serviceMemory = { peak: service.memory().hwm, ...residentSplit(service.pid) };
await service.stop();
const served = new Map(corpus.items.map((it, k) => [it.index, answers[k].raw_score]));
say(`  ready in ${f(readyS, 1)} s; ${f(prompts.length / serviceS, 2)} items/s; peak RSS ${f(serviceMemory.peak / GB, 2)} GB `
  + `(model files ${f(modelBytes / GB, 2)} GB); at the end ${f(serviceMemory.anonymous / GB, 2)} GB anonymous, ${f(serviceMemory.fileBacked / GB, 2)} GB file-backed`);

// 5. transformers in-process, after the service has gone.
say('transformers: the checkpoint in-process, the same prompts and limits');
const hf = runTransformers(args.python, checkpoint, [{ name: 'fullsize', prompts, budget: config }], config.INTRA_OP_THREADS, 0);
const run = hf.runs.get('fullsize')!;
const maxAbsDiff = Math.max(...prompts.map((p) => Math.abs((served.get(p.index) ?? NaN) - run.logits.get(p.index)!)));
const tolerance: number = exportReport.check.tolerance;
say(`  ${f(run.itemsPerS, 2)} items/s; max |service - transformers| ${maxAbsDiff.toExponential(2)} (tolerance ${tolerance.toExponential(2)})`);

// 6. What fp32 matrix products these cores give at the model's shapes, so the speeds above can be read
// against the arithmetic a token needs (bench/gemm_ceiling.py).
say('fp32 products at the model\'s shapes: bench/gemm_ceiling.py');
const gemm = JSON.parse(execFileSync(args.python, ['bench/gemm_ceiling.py', join(checkpoint, 'config.json'), '--rows', String(budget), '--threads', String(config.INTRA_OP_THREADS)], { cwd: REPO, encoding: 'utf8' })) as
  { flops_per_token: number; ceiling_gflops: number; shapes: { in: number; out: number; torch: number; ort_prepacked: number; ort_unpacked: number }[] };
const gflops = (itemsPerS: number) => (itemsPerS * (tokens / prompts.length) * gemm.flops_per_token) / 1e9;
const serviceGflops = gflops(prompts.length / serviceS);
const transformersGflops = gflops(run.itemsPerS);
say(`  ceiling ${f(gemm.ceiling_gflops, 0)} GFLOP/s; service ${f(serviceGflops, 0)}, transformers ${f(transformersGflops, 0)}`);

const rows: [string, string, string][] = [
  ['export time', `${f(exportRun.wallS, 0)} s`, ''],
  ['export peak RSS', `${f(exportRun.peakBytes / GB, 2)} GB = ${f(exportRun.peakBytes / weightBytes, 2)}x the weights (${f(weightBytes / GB, 2)} GB)`, `<= ${TARGETS.exportOverWeights}x`],
  ['model files', `${f(modelBytes / GB, 2)} GB (${modelFiles.join(', ')})`, ''],
  ['service peak RSS', `${f(serviceMemory.peak / GB, 2)} GB = model files ${serviceMemory.peak >= modelBytes ? '+' : '-'} ${f(Math.abs(serviceMemory.peak - modelBytes) / GB, 2)} GB`, `<= + ${TARGETS.serviceOverModelGB} GB`],
  ['service RSS after scoring', `${f(serviceMemory.anonymous / GB, 2)} GB anonymous + ${f(serviceMemory.fileBacked / GB, 2)} GB file-backed`, ''],
  ['start to /ready', `${f(readyS, 1)} s`, ''],
  ['items/s', `service ${f(prompts.length / serviceS, 2)}, transformers ${f(run.itemsPerS, 2)}: ${f(prompts.length / serviceS / run.itemsPerS, 2)}x`, `>= ${TARGETS.overTransformers}x`],
  ['fp32 products, these cores', `${f(gemm.ceiling_gflops, 0)} GFLOP/s at best (${gemm.shapes.map((x) => `${x.in}x${x.out}: ${f(Math.max(x.torch, x.ort_prepacked, x.ort_unpacked), 0)}`).join(', ')})`, ''],
  ['arithmetic rate', `service ${f(serviceGflops, 0)} GFLOP/s (${f((100 * serviceGflops) / gemm.ceiling_gflops, 0)}% of that), transformers ${f(transformersGflops, 0)} (${f((100 * transformersGflops) / gemm.ceiling_gflops, 0)}%): at most ${f(gemm.ceiling_gflops / transformersGflops, 2)}x transformers on these cores`, ''],
  ['max |service - transformers|', `${maxAbsDiff.toExponential(2)} (export tolerance ${tolerance.toExponential(2)})`, `<= tolerance`],
];
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\nQwen3 classifier, ${shape.num_hidden_layers} layers, hidden ${shape.hidden_size}, MLP ${shape.intermediate_size} (random weights), fp32 on CPU, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`);
for (const [what, figure, target] of rows) console.log(`  ${what.padEnd(width)}  ${figure}${target ? `   (target ${target})` : ''}`);

writeFileSync(join(REPO, `${args.results}.json`), JSON.stringify({
  shape: { checkpoint, layers: shape.num_hidden_layers, hidden: shape.hidden_size, intermediate: shape.intermediate_size, vocabulary: shape.vocab_size },
  machine: { cores: cpus().length, loadavg1m: loadavg()[0] },
  export: { wallS: exportRun.wallS, peakRssBytes: exportRun.peakBytes, weightBytes, check: exportReport.check, pastCheck: exportReport.past_check },
  modelFiles: { names: modelFiles, bytes: modelBytes },
  service: { readyS, itemsPerS: prompts.length / serviceS, peakRssBytes: serviceMemory.peak, atEnd: { anonymousBytes: serviceMemory.anonymous, fileBackedBytes: serviceMemory.fileBacked } },
  transformers: { versions: hf.versions, itemsPerS: run.itemsPerS },
  arithmetic: { flopsPerToken: gemm.flops_per_token, ceilingGflops: gemm.ceiling_gflops, products: gemm.shapes, serviceGflops, transformersGflops },
  items: prompts.length, promptTokens: tokens, budget,
  fidelity: { maxAbsDiff, tolerance },
  targets: TARGETS,
  totalS: (performance.now() - started) / 1000,
}, null, 2) + '\n');
say(`wrote ${args.results}.json`);
