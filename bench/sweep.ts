// `npm run bench:sweep`: the measurements the CPU defaults of src/config.ts come from, in one run on
// the bench model.
//
//   bare ONNX Runtime loop in this process (the service's session options), stdlib items, fused graph:
//     token budget × attention cap                          --budgets, --caps
//     intra-op threads, at the default budgets              --threads
//   ─► item lengths (synthetic items of exactly that many tokens), each graph form  --lengths, --forms
//   ─► the service at 64 single-item clients, by prep threads  --prep-threads
//
// The bare loop's threads run at MODEL_NICE, as the service's model threads do. Per point: items/s, tokens/s, CPU ms per item and the peak RSS over the point (this process's
// high-water mark, restarted before it; the service's own for the service points), with its growth
// over the RSS before the point: sessions stay loaded between points, so the growth is what the
// point's batches themselves took. The machine may be
// shared: the 1-minute load average is printed with every point. Results: bench/results/sweep-<preset>.json
// and the length chart sweep-<preset>.svg. Options: --preset bench|tiny, --items N, --seed N,
// --slow-forms-max-length N (opset23 and unfused stop there: one 4,096-token unfused item takes minutes
// on 2 cores; bench:attention measures that one alone).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type * as ort from 'onnxruntime-node';
import { batchAttentionBudget, batchTokenBudget, loadConfig, type Config } from '../src/config.ts';
import { loadModelDir } from '../src/model/model-dir.ts';
import { modelShape } from '../src/provider-defaults.ts';
import { isPresetName } from '../tools/make-model/config.ts';
import { ensureModel } from '../tools/make-model/index.ts';
import { type AttentionForm, isAttentionForm } from '../tools/make-model/qwen3-graph.ts';
import { lengthSweepChart } from './lib/chart.ts';
import { buildCorpus } from './lib/corpus.ts';
import { runClients } from './lib/load.ts';
import { memoryOf, resetPeakOf } from './lib/proc.ts';
import { createSession, encodeItems, runRawLoop, syntheticPrompts, type Encoded } from './lib/raw-loop.ts';
import { startService } from './lib/service-process.ts';
import { cpuSecondsOf } from './lib/proc.ts';
import { MiB, sum } from './lib/stats.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SATURATED_CLIENTS = 64;

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'bench' },
    items: { type: 'string', default: '96' },
    seed: { type: 'string', default: '6' },
    budgets: { type: 'string', default: '1024,2048,4096,8192' },
    // Rows × padded length² caps; 0: none.
    caps: { type: 'string', default: '0,1048576,4194304' },
    threads: { type: 'string', default: '1,2' },
    lengths: { type: 'string', default: '64,256,1024,4096' },
    forms: { type: 'string', default: 'fused,opset23,unfused' },
    'slow-forms-max-length': { type: 'string', default: '1024' },
    // Tokens per point of the length sweep (at least one item).
    'length-tokens': { type: 'string', default: '4096' },
    'prep-threads': { type: 'string', default: '0,1,2' },
  },
});
const numbers = (list: string) => (list === '' ? [] : list.split(',').map(Number));
const forms = args.forms.split(',');
if (!isPresetName(args.preset) || forms.some((f) => !isAttentionForm(f))) {
  console.error('usage: npm run bench:sweep -- [--preset bench|tiny] [--items N] [--budgets ...] [--caps ...] [--threads ...] [--lengths ...] [--forms fused,opset23,unfused] [--prep-threads ...]');
  process.exit(2);
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const started = performance.now();
const say = (msg: string) => console.log(`[${f((performance.now() - started) / 1000, 0).padStart(4)}s] ${msg}`);

interface Point {
  part: 'budget' | 'threads' | 'length' | 'prep';
  form: AttentionForm;
  budget: number;
  cap: number;
  threads: number;
  prepThreads?: number;
  length?: number;
  items: number;
  batches?: number;
  itemsPerS: number;
  tokensPerS: number;
  cpuMsPerItem: number;
  peakRssMiB: number;
  /** Peak RSS over the point minus RSS before it: the activations and buffers of its batches. */
  growthMiB: number;
  loadavg1m: number;
}

async function main(): Promise<void> {
  const preset = args.preset as 'bench' | 'tiny';
  const base = `${REPO}models/${preset}-random-qwen3-rm`;
  const dirOf = (form: AttentionForm) => (form === 'fused' ? base : `${base}-${form}`);
  for (const form of ['fused', ...forms] as AttentionForm[]) if (ensureModel(dirOf(form), preset, undefined, form).built) say(`built ${dirOf(form)}`);
  const md = loadModelDir(base);
  const config = loadConfig(process.env);
  const defaults = { budget: batchTokenBudget(config, 'cpu', modelShape(md.config, md.dtype)), cap: batchAttentionBudget(config, 'cpu', modelShape(md.config, md.dtype)) };
  const corpus = buildCorpus({ count: Number(args.items), seed: Number(args.seed), invalidShare: 0 });
  const prompts = encodeItems(corpus.items, md, config);
  say(`${prompts.length} stdlib items, ${sum(prompts.map((p) => p.ids.length))} tokens; ${cpus().length} cores, load average ${f(loadavg()[0])}; `
    + `defaults on CPU: ${defaults.budget} tokens, cap ${defaults.cap}, intra-op threads ${config.INTRA_OP_THREADS || 'all'}, prep threads ${config.PREP_THREADS}`);

  // Sessions are created on this thread: their threads inherit its nice (Linux: setpriority on pid 0
  // acts on the calling thread), the service's model priority.
  setPriority(0, config.MODEL_NICE);
  const points: Point[] = [];
  /** One session per form and thread count, kept while its points run. */
  const sessions = new Map<string, ort.InferenceSession>();
  const sessionFor = async (form: AttentionForm, threads: number) => {
    const key = `${form}/${threads}`;
    if (!sessions.has(key)) sessions.set(key, await createSession(`${dirOf(form)}/model.onnx`, { ...config, INTRA_OP_THREADS: threads }, 'cpu'));
    return sessions.get(key)!;
  };
  const releaseAll = async () => {
    for (const s of sessions.values()) await s.release();
    sessions.clear();
  };
  const rawPoint = async (part: Point['part'], form: AttentionForm, items: readonly Encoded[], budget: number, cap: number, threads: number, length?: number) => {
    const session = await sessionFor(form, threads);
    const before = memoryOf('self').rss;
    resetPeakOf('self');
    const limits: Config = { ...config, MAX_BATCH_TOKENS: budget, MAX_BATCH_ATTENTION: cap, INTRA_OP_THREADS: threads };
    const run = await runRawLoop(session, items, limits, () => {});
    const point: Point = {
      part, form, budget, cap, threads, length, items: run.items, batches: run.batches, itemsPerS: run.itemsPerS, tokensPerS: run.tokensPerS,
      cpuMsPerItem: 1000 * run.cpuS / run.items, peakRssMiB: memoryOf('self').hwm / MiB, growthMiB: (memoryOf('self').hwm - before) / MiB, loadavg1m: loadavg()[0],
    };
    points.push(point);
    say(`  ${part.padEnd(7)} ${form.padEnd(8)} budget ${String(budget).padStart(5)} cap ${String(cap).padStart(8)} threads ${threads}${length ? ` length ${length}` : ''}: `
      + `${f(point.itemsPerS, 2)} items/s, ${f(point.tokensPerS, 0)} tokens/s, ${f(point.cpuMsPerItem, 0)} CPU ms/item, ${run.batches} batches, peak RSS ${f(point.peakRssMiB, 0)} MiB (+${f(point.growthMiB, 0)}), load ${f(point.loadavg1m)}`);
  };

  say('token budget × attention cap (fused, all intra-op threads)');
  for (const budget of numbers(args.budgets)) for (const cap of numbers(args.caps)) await rawPoint('budget', 'fused', prompts, budget, cap, config.INTRA_OP_THREADS);
  say('intra-op threads (fused, default budgets)');
  for (const threads of numbers(args.threads)) await rawPoint('threads', 'fused', prompts, defaults.budget, defaults.cap, threads);
  await releaseAll();

  say(`item lengths (default budgets, at least one item per batch; opset23 and unfused up to ${args['slow-forms-max-length']} tokens)`);
  for (const length of numbers(args.lengths)) {
    const items = syntheticPrompts(prompts, length, Math.max(1, Math.round(Number(args['length-tokens']) / length)));
    for (const form of forms as AttentionForm[]) {
      if (form !== 'fused' && length > Number(args['slow-forms-max-length'])) continue;
      await rawPoint('length', form, items, Math.max(defaults.budget, length), defaults.cap, config.INTRA_OP_THREADS, length);
    }
  }
  await releaseAll();

  say(`the service at ${SATURATED_CLIENTS} single-item clients, by prep threads`);
  for (const prepThreads of numbers(args['prep-threads'])) {
    const service = await startService({
      modelDir: base,
      env: { ...process.env, RESULT_CACHE_ITEMS: '0', PREP_THREADS: String(prepThreads) },
      logPath: `${REPO}bench/out/sweep-service.log`,
    });
    try {
      await runClients(service.base, corpus.items.slice(0, 32), 16);
      const before = service.memory().rss;
      service.resetPeak();
      const cpuBefore = cpuSecondsOf(service.pid);
      const load = await runClients(service.base, corpus.items, SATURATED_CLIENTS);
      const tokens = sum([...load.answers.values()].map((a) => a.prompt_tokens));
      const point: Point = {
        part: 'prep', form: 'fused', budget: defaults.budget, cap: defaults.cap, threads: config.INTRA_OP_THREADS, prepThreads, items: load.answers.size,
        itemsPerS: load.answers.size / load.wallS, tokensPerS: tokens / load.wallS, cpuMsPerItem: 1000 * (cpuSecondsOf(service.pid) - cpuBefore) / load.answers.size,
        peakRssMiB: service.memory().hwm / MiB, growthMiB: (service.memory().hwm - before) / MiB, loadavg1m: loadavg()[0],
      };
      points.push(point);
      say(`  prep threads ${prepThreads}: ${f(point.itemsPerS, 2)} items/s, ${f(point.tokensPerS, 0)} tokens/s, ${f(point.cpuMsPerItem, 0)} CPU ms/item, peak RSS ${f(point.peakRssMiB, 0)} MiB (+${f(point.growthMiB, 0)}), load ${f(point.loadavg1m)}`
        + (Object.keys(load.failures).length ? `, failures ${JSON.stringify(load.failures)}` : ''));
    } finally {
      await service.stop();
    }
  }

  const rows = (part: Point['part'], key: (p: Point) => string) => points.filter((p) => p.part === part).map((p) =>
    `| ${key(p)} | ${f(p.itemsPerS, 2)} | ${f(p.tokensPerS, 0)} | ${f(p.cpuMsPerItem, 0)} | ${f(p.peakRssMiB, 0)} (+${f(p.growthMiB, 0)}) | ${f(p.loadavg1m)} |`);
  const head = (first: string) => [`| ${first} | items/s | tokens/s | CPU ms/item | peak RSS MiB (+ over the point) | load avg |`, '|---|---:|---:|---:|---:|---:|'];
  console.log('');
  console.log([...head('budget, cap (fused)'), ...rows('budget', (p) => `${p.budget}, ${p.cap || 'none'}`)].join('\n'));
  console.log('');
  console.log([...head('intra-op threads (fused, default budgets)'), ...rows('threads', (p) => String(p.threads || 'all'))].join('\n'));
  console.log('');
  console.log([...head('length, form'), ...rows('length', (p) => `${p.length}, ${p.form}`)].join('\n'));
  console.log('');
  console.log([...head(`prep threads (service, ${SATURATED_CLIENTS} clients)`), ...rows('prep', (p) => String(p.prepThreads))].join('\n'));
  const fusedOverUnfused = points.filter((p) => p.part === 'length' && p.form === 'unfused').map((u) => {
    const fused = points.find((p) => p.part === 'length' && p.form === 'fused' && p.length === u.length)!;
    return `${u.length}: ${f(fused.tokensPerS / u.tokensPerS, 2)}`;
  });
  console.log(`\nfused / unfused tokens/s by length: ${fusedOverUnfused.join(', ')}`);

  const resultsDir = `${REPO}bench/results`;
  mkdirSync(resultsDir, { recursive: true });
  const lengthSeries = (forms as AttentionForm[]).map((form) => ({
    label: `ONNX Runtime, ${form}`,
    points: points.filter((p) => p.part === 'length' && p.form === form).map((p) => ({ length: p.length!, tokensPerS: p.tokensPerS })),
  }));
  writeFileSync(`${resultsDir}/sweep-${preset}.svg`, lengthSweepChart(lengthSeries, `Bare ONNX Runtime: tokens/s by item length (${preset} preset)`,
    `${cpus().length} cores, load average ${f(loadavg()[0])} at the end; default budgets; one run`));
  writeFileSync(`${resultsDir}/sweep-${preset}.json`, `${JSON.stringify({ date: new Date().toISOString(), preset, cores: cpus().length, defaults, points }, null, 2)}\n`);
  say(`wrote bench/results/sweep-${preset}.json and .svg`);
}

await main();
