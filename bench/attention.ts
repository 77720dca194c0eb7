// `npm run bench:attention`: the model alone, four ways, on the same items in one run.
//
//   fused graph (GroupQueryAttention, fused norms: com.microsoft operators), opset23 graph (ONNX's own
//   Attention, RotaryEmbedding, RMSNormalization), unfused graph (plain operators), and Hugging Face
//   transformers in-process (torch CPU, sdpa; the way CodeScaler runs the model), each at every
//   batch token budget of --budgets, batches cut the same way, no attention cap;
//   ─► a length sweep: items of 64 to 4,096 tokens at the fused form's best budget;
//   ─► peak memory of one 4,096-token item per form, each in a fresh process.
//
// Transformers runs from the parity venv: PARITY_PYTHON (or --python) names its python; without it
// that column is left out. Results: bench/results/attention-<preset>.json and .svg.
// Options: --preset bench|tiny, --items N, --seed N, --budgets 1024,2048,..., --lengths 64,...,4096,
// --threads N (intra-op threads of both runtimes; 0: all cores), --python PATH.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/config.ts';
import { loadModelDir } from '../src/model/model-dir.ts';
import { sessionOptions } from '../src/model/session-options.ts';
import { isPresetName } from '../tools/make-model/config.ts';
import { ensureModel } from '../tools/make-model/index.ts';
import { ATTENTION_FORMS, type AttentionForm } from '../tools/make-model/qwen3-graph.ts';
import { lengthSweepChart } from './lib/chart.ts';
import { buildCorpus } from './lib/corpus.ts';
import { encodeItems, runRawLoop, syntheticPrompts, type Encoded } from './lib/raw-loop.ts';
import { MiB, percentile, sum } from './lib/stats.ts';
import { runTransformers } from './lib/transformers.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TOLERANCE = 1e-4;
/** One item of this many tokens is the memory probe of issue 17 (target: fused at most 1/4 of unfused). */
const MEMORY_PROBE_TOKENS = 4096;

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'bench' },
    items: { type: 'string', default: '128' },
    seed: { type: 'string', default: '6' },
    budgets: { type: 'string', default: '1024,2048,4096,8192' },
    lengths: { type: 'string', default: '64,256,1024,4096' },
    // Tokens per point of the length sweep (at least 2 items each).
    'sweep-tokens': { type: 'string', default: '16384' },
    threads: { type: 'string', default: '0' },
    python: { type: 'string', default: process.env.PARITY_PYTHON },
    // Internal: run one item of this many tokens on --model and print its memory (a fresh process per form).
    'memory-probe': { type: 'string' },
    model: { type: 'string' },
  },
});
const numbers = (list: string) => list.split(',').map(Number);
const threads = Number(args.threads);

const f = (v: number, digits = 1) => v.toFixed(digits);
const started = performance.now();
const say = (msg: string) => console.log(`[${f((performance.now() - started) / 1000, 0).padStart(4)}s] ${msg}`);

async function memoryProbe(modelPath: string, tokens: number): Promise<void> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions(threads, 'cpu'));
  const ids = BigInt64Array.from({ length: tokens }, (_, i) => BigInt(1000 + ((i * 7919) % 100_000)));
  const feeds = { input_ids: new ort.Tensor('int64', ids, [1, tokens]), attention_mask: new ort.Tensor('int64', new BigInt64Array(tokens).fill(1n), [1, tokens]) };
  // A short run first, so the weights the forward touches are resident before the baseline.
  await session.run({ input_ids: new ort.Tensor('int64', ids.slice(0, 8), [1, 8]), attention_mask: new ort.Tensor('int64', new BigInt64Array(8).fill(1n), [1, 8]) });
  const { memoryOf, resetPeakOf } = await import('./lib/proc.ts');
  const before = memoryOf('self').rss;
  resetPeakOf('self');
  const t = performance.now();
  await session.run(feeds);
  const wallS = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ rssBefore: before, peak: memoryOf('self').hwm, wallS }));
}

interface Run {
  name: string;
  form: AttentionForm | 'transformers';
  budget: number;
  items: number;
  tokens: number;
  wallS: number;
  itemsPerS: number;
  tokensPerS: number;
  /** Tokens per CPU second of this process (ONNX Runtime only): moves less than wall time when others load the cores. */
  tokensPerCpuS?: number;
  maxAbsDiffVsFused?: number;
}

const maxAbsDiff = (a: Map<number, number>, b: Map<number, number>): number => Math.max(...[...a].map(([k, v]) => Math.abs(v - b.get(k)!)));

async function main(): Promise<void> {
  if (args['memory-probe'] !== undefined) return memoryProbe(args.model!, Number(args['memory-probe']));
  const preset = args.preset;
  if (!isPresetName(preset)) throw new Error('--preset bench|tiny');
  const base = `${REPO}models/${preset}-random-qwen3-rm`;
  const dirs: Record<AttentionForm, string> = { fused: base, opset23: `${base}-opset23`, unfused: `${base}-unfused` };
  for (const form of ATTENTION_FORMS) if (ensureModel(dirs[form], preset, undefined, form).built) say(`built ${dirs[form]}`);
  const md = loadModelDir(dirs.fused);
  const config = loadConfig(process.env);
  const corpus = buildCorpus({ count: Number(args.items), seed: Number(args.seed), invalidShare: 0 });
  const prompts = encodeItems(corpus.items, md, config);
  const lengths = prompts.map((p) => p.ids.length);
  const load = loadavg()[0];
  say(`${prompts.length} items, prompt tokens p50 ${percentile(lengths, 0.5)}, max ${Math.max(...lengths)}, total ${sum(lengths)}; `
    + `${cpus().length} cores, load ${f(load)}, intra-op threads ${threads || 'all'}`);

  const sessions = new Map<AttentionForm, ort.InferenceSession>();
  for (const form of ATTENTION_FORMS) sessions.set(form, await ort.InferenceSession.create(`${dirs[form]}/model.onnx`, sessionOptions(threads, 'cpu')));

  const budgets = numbers(args.budgets);
  const runs: Run[] = [];
  const fusedLogits = new Map<string, Map<number, number>>();
  const onnxRun = async (name: string, form: AttentionForm, budget: number, items: Encoded[]): Promise<Run> => {
    const raw = await runRawLoop(sessions.get(form)!, items, { ...config, MAX_BATCH_TOKENS: budget, MAX_BATCH_ATTENTION: 0, MAX_PADDING_SHARE: 1 }, () => {});
    if (form === 'fused') fusedLogits.set(name, raw.logits);
    const reference = fusedLogits.get(name);
    const run: Run = {
      name, form, budget, items: raw.items, tokens: sum(items.map((p) => p.ids.length)), wallS: raw.wallS,
      itemsPerS: raw.itemsPerS, tokensPerS: raw.tokensPerS, tokensPerCpuS: sum(items.map((p) => p.ids.length)) / raw.cpuS,
      ...(reference && form !== 'fused' ? { maxAbsDiffVsFused: maxAbsDiff(raw.logits, reference) } : {}),
    };
    say(`  ${form.padEnd(8)} ${name.padEnd(16)} ${f(run.itemsPerS).padStart(7)} items/s ${f(run.tokensPerS, 0).padStart(7)} tokens/s ${f(run.tokensPerCpuS!, 0).padStart(7)} tokens/CPU s`
      + (run.maxAbsDiffVsFused !== undefined ? `  max |diff| vs fused ${run.maxAbsDiffVsFused.toExponential(1)}` : ''));
    runs.push(run);
    return run;
  };

  say(`budgets ${budgets.join(', ')}: fused, then unfused, on the same batches`);
  for (const budget of budgets) for (const form of ATTENTION_FORMS) await onnxRun(`budget ${budget}`, form, budget, prompts);
  const best = (form: AttentionForm) => runs.filter((r) => r.form === form && r.name.startsWith('budget')).reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));
  const bestBudget = best('fused').budget;

  const sweepLengths = numbers(args.lengths);
  const sweepItems = (length: number) => syntheticPrompts(prompts, length, Math.max(2, Math.round(Number(args['sweep-tokens']) / length)));
  say(`length sweep at ${bestBudget} tokens (the fused form's best budget; at least one item per batch)`);
  for (const length of sweepLengths) {
    for (const form of ATTENTION_FORMS) await onnxRun(`length ${length}`, form, Math.max(bestBudget, length), sweepItems(length));
  }

  let transformersVersions: string | undefined;
  if (args.python) {
    say(`transformers in-process (${args.python}): the same batches`);
    const requests = [
      ...budgets.map((budget) => ({ name: `budget ${budget}`, budget, prompts })),
      ...sweepLengths.map((length) => ({ name: `length ${length}`, budget: Math.max(bestBudget, length), prompts: sweepItems(length) })),
    ];
    const hf = runTransformers(args.python, dirs.fused, requests, threads);
    transformersVersions = hf.versions;
    for (const r of requests) {
      const { wallS, itemsPerS, tokensPerS, logits } = hf.runs.get(r.name)!;
      const tokens = sum(r.prompts.map((p) => p.ids.length));
      const run: Run = { name: r.name, form: 'transformers', budget: r.budget, items: r.prompts.length, tokens, wallS, itemsPerS, tokensPerS, maxAbsDiffVsFused: maxAbsDiff(logits, fusedLogits.get(r.name)!) };
      say(`  transformers ${r.name.padEnd(16)} ${f(run.itemsPerS).padStart(7)} items/s ${f(run.tokensPerS, 0).padStart(7)} tokens/s  max |diff| vs fused ${run.maxAbsDiffVsFused!.toExponential(1)}`);
      runs.push(run);
    }
  } else {
    say('transformers column left out: set PARITY_PYTHON (or --python) to a python with torch and transformers');
  }

  say(`peak memory of one ${MEMORY_PROBE_TOKENS}-token item, each form in a fresh process`);
  const memory: Partial<Record<AttentionForm, { rssBeforeMiB: number; peakMiB: number; growthMiB: number; wallS: number }>> = {};
  for (const form of ATTENTION_FORMS) {
    const probe = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--memory-probe', String(MEMORY_PROBE_TOKENS), '--model', `${dirs[form]}/model.onnx`, '--threads', String(threads)], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`memory probe (${form}) failed: ${probe.stderr.slice(-2000)}`);
    const m = JSON.parse(probe.stdout.trim().split('\n').pop()!) as { rssBefore: number; peak: number; wallS: number };
    memory[form] = { rssBeforeMiB: m.rssBefore / MiB, peakMiB: m.peak / MiB, growthMiB: (m.peak - m.rssBefore) / MiB, wallS: m.wallS };
    say(`  ${form.padEnd(8)} RSS ${f(m.rssBefore / MiB, 0)} MiB before, peak ${f(m.peak / MiB, 0)} MiB: +${f((m.peak - m.rssBefore) / MiB, 0)} MiB in ${f(m.wallS)} s`);
  }

  const fusedBest = best('fused');
  const unfusedBest = best('unfused');
  const opset23Best = best('opset23');
  const sameBudget = runs.find((r) => r.form === 'unfused' && r.name === `budget ${bestBudget}`)!;
  const hfBudgetRuns = runs.filter((r) => r.form === 'transformers' && r.name.startsWith('budget'));
  const hfBest = hfBudgetRuns.length ? hfBudgetRuns.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a)) : undefined;
  const worstDiff = (form: Run['form']) => Math.max(...runs.filter((r) => r.form === form).map((r) => r.maxAbsDiffVsFused ?? 0));
  const summary = {
    bestFusedBudget: bestBudget,
    fusedOverUnfusedSameBudget: fusedBest.itemsPerS / sameBudget.itemsPerS,
    fusedBestOverUnfusedBest: fusedBest.itemsPerS / unfusedBest.itemsPerS,
    /** ONNX's opset-23 operators against ONNX Runtime's contrib operators, each at its best budget. */
    opset23BestOverFusedBest: opset23Best.itemsPerS / fusedBest.itemsPerS,
    fusedBestOverTransformersBest: hfBest ? fusedBest.itemsPerS / hfBest.itemsPerS : null,
    memoryDrop4096: memory.unfused!.growthMiB / memory.fused!.growthMiB,
    maxAbsDiffUnfusedVsFused: worstDiff('unfused'),
    maxAbsDiffOpset23VsFused: worstDiff('opset23'),
    maxAbsDiffTransformersVsFused: hfBest ? worstDiff('transformers') : null,
  };
  console.log('');
  console.log(`| | best budget | items/s | tokens/s |`);
  console.log(`|---|---:|---:|---:|`);
  for (const r of [fusedBest, opset23Best, unfusedBest, ...(hfBest ? [hfBest] : [])]) {
    console.log(`| ${r.form === 'transformers' ? 'transformers in-process' : `ONNX Runtime, ${r.form} graph`} | ${r.budget} | ${f(r.itemsPerS)} | ${f(r.tokensPerS, 0)} |`);
  }
  console.log('');
  console.log(`| ONNX Runtime, tokens/s (tokens per CPU s) | ${runs.filter((r) => r.form === 'fused').map((r) => r.name).join(' | ')} |`);
  console.log(`|---|${runs.filter((r) => r.form === 'fused').map(() => '---:').join('|')}|`);
  for (const form of ATTENTION_FORMS) {
    console.log(`| ${form} | ${runs.filter((r) => r.form === form).map((r) => `${f(r.tokensPerS, 0)} (${f(r.tokensPerCpuS!, 0)})`).join(' | ')} |`);
  }
  console.log('');
  console.log(`fused / unfused at ${bestBudget} tokens: ${f(summary.fusedOverUnfusedSameBudget, 2)}x; best / best: ${f(summary.fusedBestOverUnfusedBest, 2)}x`
    + `; opset23 best / fused best: ${f(summary.opset23BestOverFusedBest, 2)}x`
    + (hfBest ? `; fused best / transformers best: ${f(summary.fusedBestOverTransformersBest!, 2)}x` : ''));
  console.log(`one ${MEMORY_PROBE_TOKENS}-token item: +${f(memory.unfused!.growthMiB, 0)} MiB unfused, +${f(memory.opset23!.growthMiB, 0)} MiB opset23, +${f(memory.fused!.growthMiB, 0)} MiB fused (${f(summary.memoryDrop4096, 1)}x less than unfused)`);
  console.log(`max |logit diff| vs fused: unfused ${summary.maxAbsDiffUnfusedVsFused.toExponential(1)}, opset23 ${summary.maxAbsDiffOpset23VsFused.toExponential(1)}`
    + (hfBest ? `, transformers ${summary.maxAbsDiffTransformersVsFused!.toExponential(1)}` : '') + ` (tolerance ${TOLERANCE})`);

  const resultsDir = `${REPO}bench/results`;
  mkdirSync(resultsDir, { recursive: true });
  const note = `${prompts.length} stdlib items / synthetic lengths, ${cpus().length} cores (load ${f(load)} at start), one run`;
  const sweep = (form: Run['form']) => runs.filter((r) => r.form === form && r.name.startsWith('length')).map((r) => ({ length: Number(r.name.split(' ')[1]), tokensPerS: r.tokensPerS }));
  const series = [
    { label: 'ONNX Runtime, fused', points: sweep('fused') },
    { label: 'ONNX Runtime, opset23', points: sweep('opset23') },
    { label: 'ONNX Runtime, unfused', points: sweep('unfused') },
    ...(hfBest ? [{ label: 'transformers in-process', points: sweep('transformers') }] : []),
  ];
  writeFileSync(`${resultsDir}/attention-${preset}.svg`, lengthSweepChart(series, `Model alone: tokens/s by item length (${preset} preset)`, note));
  writeFileSync(`${resultsDir}/attention-${preset}.json`, `${JSON.stringify({
    preset, items: prompts.length, cores: cpus().length, loadAtStart: load, threads, transformers: transformersVersions ?? null,
    runs, memory, summary,
  }, null, 2)}\n`);
  say(`wrote bench/results/attention-${preset}.json and .svg`);
  const failed = summary.maxAbsDiffUnfusedVsFused > TOLERANCE || summary.maxAbsDiffOpset23VsFused > TOLERANCE || (summary.maxAbsDiffTransformersVsFused ?? 0) > TOLERANCE;
  if (failed) {
    console.error('logits disagree beyond the tolerance');
    process.exitCode = 1;
  }
}

await main();
