// `npm run bench:grpo`: GRPO-shaped scoring, prefix sharing and caches off against on, in one run.
//
//   stdlib docstrings ─► questions (concatenated docstrings of one module, cut to a token length)
//   stdlib functions  ─► programs (fenced), each group = one question × N programs
//   two services (node dist/server.js): off = PREFIX_MIN_TOKENS 0, RESULT_CACHE_ITEMS 0; on = defaults
//   reference: the bare ONNX Runtime loop over every item (the full forward's logits)
//   for each of 2 rounds, for each workload: off, then on, each on its own fresh groups
//   the bare loop over the target workload at each budget of --budgets (no attention cap)
//
// Workloads: groups of 8 (~600-token questions, ~200-token programs) sent one sample per request
// (veRL) and one group per request (OpenRLHF); groups of 16 with 300-1,500-token questions; groups of
// 8 with half the programs duplicated; single items (groups of one). Every phase scores fresh groups,
// so no cache answers one phase from an earlier one; every score is checked against the full forward.
// The machine is shared: on and off phases alternate, and the load average is printed with each.
// Options: --groups N (groups per workload and round), --clients N (veRL concurrency), --seed N,
// --budgets 1024,2048,4096,8192, --workloads sample,group,duplicates,mixed,single (a subset, for
// exploring one workload: the summary ratios need all five), --results PATH (where the .json and .svg
// go; default bench/results/grpo-bench, which bench/README.md quotes).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { batchAttentionBudget, batchTokenBudget, loadConfig, type Config } from '../src/config.ts';
import { loadModelDir, type ModelDir } from '../src/model/model-dir.ts';
import { modelShape } from '../src/provider-defaults.ts';
import { PromptEncoder } from '../src/prompt/prompt.ts';
import { ensureModel } from '../tools/make-model/index.ts';
import { mulberry32 } from '../tools/mulberry32.ts';
import { buildCorpus, stdlibDir, type BenchItem } from './lib/corpus.ts';
import { runClients, type LoadResult } from './lib/load.ts';
import { cpuSecondsOf, otherLoad } from './lib/proc.ts';
import { createSession, encodeItems, runRawLoop } from './lib/raw-loop.ts';
import { counterSum, scrape, type Sample } from './lib/scrape.ts';
import { startService, type ServiceHandle } from './lib/service-process.ts';
import { MiB, shuffle, sum } from './lib/stats.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SCORE_TOLERANCE = 1e-4;
/** Targets of issue 14. */
const TARGETS = { onOverOff: 2.0, onOverBare: 1.8, duplicatesFurther: 1.5, singlesWithin: 0.05, rssOverModelMiB: 600 };

const { values: args } = parseArgs({
  options: {
    groups: { type: 'string', default: '4' },
    clients: { type: 'string', default: '64' },
    seed: { type: 'string', default: '14' },
    budgets: { type: 'string', default: '1024,2048,4096,8192' },
    workloads: { type: 'string', default: '' },
    results: { type: 'string', default: 'bench/results/grpo-bench' },
  },
});
const groupsPerRound = Number(args.groups);
const clients = Number(args.clients);
const budgets = args.budgets === '' ? [] : args.budgets.split(',').map(Number);
const rounds = 2;

const started = performance.now();
const say = (msg: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

interface WorkloadSpec {
  /** The workload's name in --workloads. */
  key: string;
  name: string;
  groupSize: number;
  question: [number, number];
  program: [number, number];
  /** Each sample its own request (veRL) or each group one request (OpenRLHF). */
  transport: 'sample' | 'group';
  duplicates?: boolean;
}

const WORKLOADS: WorkloadSpec[] = [
  { key: 'sample', name: '8 x (600 + 200), one sample a request', groupSize: 8, question: [540, 660], program: [170, 230], transport: 'sample' },
  { key: 'group', name: '8 x (600 + 200), one group a request', groupSize: 8, question: [540, 660], program: [170, 230], transport: 'group' },
  { key: 'duplicates', name: '8 x (600 + 200), half duplicates', groupSize: 8, question: [540, 660], program: [170, 230], transport: 'sample', duplicates: true },
  { key: 'mixed', name: '16 x (300-1500 + 100-600), one sample a request', groupSize: 16, question: [300, 1500], program: [100, 600], transport: 'sample' },
  { key: 'single', name: 'single items (600 + 200)', groupSize: 1, question: [540, 660], program: [170, 230], transport: 'sample' },
];

/** Every docstring of each stdlib module (module, classes, functions), in source order, from CPython's own ast. */
function moduleDocstrings(): { module: string; docs: string[] }[] {
  const script = `
import ast, json, os, sys
root = sys.argv[1]
skip = {'test', 'tests', 'site-packages', 'lib2to3', 'idlelib', 'turtledemo', '__pycache__', 'ensurepip'}
out = []
for dp, dn, fn in os.walk(root):
    dn[:] = sorted(d for d in dn if d not in skip)
    for f in sorted(fn):
        if not f.endswith('.py'):
            continue
        try:
            tree = ast.parse(open(os.path.join(dp, f), encoding='utf8').read())
        except Exception:
            continue
        docs = [d for d in [ast.get_docstring(n) for n in [tree, *ast.walk(tree)] if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))] if d and len(d) > 80]
        if docs:
            out.append({'module': os.path.relpath(os.path.join(dp, f), root), 'docs': list(dict.fromkeys(docs))})
json.dump(out, sys.stdout)
`;
  return JSON.parse(execFileSync('python3', ['-c', script, stdlibDir()], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

/**
 * Problem statements of a token length in [lo, hi]: a module's docstrings joined in order until the
 * length is reached, cut at a line. A module gives further questions from where its last one ended,
 * so all are distinct (`used`: the next unused line of each module).
 */
function makeQuestions(encoder: PromptEncoder, modules: { module: string; docs: string[] }[], used: Map<string, number>, count: number, [lo, hi]: [number, number], rand: () => number): string[] {
  const out: string[] = [];
  for (let progress = true; out.length < count && progress;) {
    progress = false;
    for (const { module, docs } of shuffle(modules, rand)) {
      if (out.length === count) break;
      const all = docs.join('\n\n').split('\n');
      const start = used.get(module) ?? 0;
      const target = lo + Math.floor(rand() * (hi - lo + 1));
      const lines: string[] = [`Implement the module ${module} as its documentation describes (part from line ${start + 1}):`, ''];
      let next = start;
      for (; next < all.length; next++) {
        if (encoder.tokenize(lines.join('\n'), false).length >= target) break;
        lines.push(all[next]);
      }
      const question = lines.join('\n');
      const tokens = encoder.tokenize(question, false).length;
      if (tokens < lo || tokens > hi) continue;
      used.set(module, next);
      out.push(question);
      progress = true;
    }
  }
  if (out.length < count) throw new Error(`the stdlib's docstrings give only ${out.length} questions of ${lo}-${hi} tokens, ${count} asked`);
  return out;
}

interface Workload {
  spec: WorkloadSpec;
  /** Per round: items in group order (a group's items consecutive). */
  rounds: BenchItem[][];
}

async function buildWorkloads(md: ModelDir, config: Config): Promise<{ workloads: Workload[]; all: BenchItem[] }> {
  const encoder = new PromptEncoder(md, config.MAX_LENGTH);
  const rand = mulberry32(Number(args.seed));
  const modules = moduleDocstrings();
  const corpus = buildCorpus({ count: 1500, seed: Number(args.seed), invalidShare: 0 });
  const programs = corpus.items.map((it) => ({ response: it.response, source: it.source, tokens: encoder.tokenize(it.response.slice(10, -4), false).length }));
  const usedQuestions = new Map<string, number>();
  const all: BenchItem[] = [];
  const chosen = args.workloads === '' ? WORKLOADS : WORKLOADS.filter((w) => args.workloads.split(',').includes(w.key));
  const workloads = chosen.map((spec) => {
    // Single items need one question each; a group needs one question for all its programs.
    const groupCount = spec.groupSize === 1 ? groupsPerRound * 8 : groupsPerRound;
    const fit = programs.filter((p) => p.tokens >= spec.program[0] && p.tokens <= spec.program[1]);
    const perGroup = spec.duplicates ? spec.groupSize / 2 : spec.groupSize;
    const byRound: BenchItem[][] = [];
    for (let round = 0; round < rounds; round++) {
      const questions = makeQuestions(encoder, modules, usedQuestions, groupCount, spec.question, rand);
      const items: BenchItem[] = [];
      for (const question of questions) {
        const chosen = shuffle(fit, rand).slice(0, perGroup);
        const group = spec.duplicates ? shuffle([...chosen, ...chosen], rand) : chosen;
        for (const p of group) {
          const item: BenchItem = { index: all.length, source: p.source, question, response: p.response, valid: true };
          all.push(item);
          items.push(item);
        }
      }
      byRound.push(items);
    }
    return { spec, rounds: byRound };
  });
  return { workloads, all };
}

interface Phase {
  workload: string;
  mode: 'off' | 'on';
  round: number;
  items: number;
  wallS: number;
  itemsPerS: number;
  /** Prompt tokens of the items answered, per second: the work asked for. */
  tokensPerS: number;
  /** Tokens the network ran (reward_computed_tokens_total), per second. */
  computedTokensPerS: number;
  /** Share of requested tokens the network did not run. */
  saved: number;
  /** Model runs (reward_batch_items_count): how finely the queue cut the phase's items. */
  batches: number;
  cpuS: number;
  otherLoadCores: number;
  loadavg: number;
  maxAbsDiff: number;
  /** Peak RSS of the service during this phase (its high-water mark reset at the start), and RSS after it. */
  peakRssMiB: number;
  rssAfterMiB: number;
  failures: Record<string, number>;
}


async function phase(service: ServiceHandle, mode: 'off' | 'on', w: Workload, round: number, reference: Map<number, number>): Promise<Phase> {
  const items = w.rounds[round];
  const before = await scrape(service.base);
  const cpuBefore = cpuSecondsOf(service.pid);
  const other = otherLoad([service.pid, 'self']);
  const load0 = loadavg()[0];
  const peakReset = service.resetPeak();
  // One group a request: as many clients as groups, so requests overlap as OpenRLHF's batches do.
  const result: LoadResult = w.spec.transport === 'group'
    ? await runClients(service.base, items, Math.max(1, items.length / w.spec.groupSize), { itemsPerRequest: w.spec.groupSize })
    : await runClients(service.base, items, clients);
  const otherLoadCores = other.stop(result.wallS);
  const memory = service.memory();
  const after = await scrape(service.base);
  const computed = counterSum(after, 'reward_computed_tokens_total') - counterSum(before, 'reward_computed_tokens_total');
  const batches = counterSum(after, 'reward_batch_items_count') - counterSum(before, 'reward_batch_items_count');
  const answers = [...result.answers.entries()];
  const promptTokens = sum(answers.map(([, a]) => a.prompt_tokens));
  const maxAbsDiff = Math.max(0, ...answers.map(([i, a]) => (a.raw_score === null ? Infinity : Math.abs(a.raw_score - reference.get(i)!))));
  const p: Phase = {
    workload: w.spec.name, mode, round, items: result.answers.size, wallS: result.wallS,
    itemsPerS: result.answers.size / result.wallS, tokensPerS: promptTokens / result.wallS, computedTokensPerS: computed / result.wallS,
    saved: promptTokens > 0 ? 1 - computed / promptTokens : 0, batches, cpuS: cpuSecondsOf(service.pid) - cpuBefore, otherLoadCores,
    loadavg: (load0 + loadavg()[0]) / 2, maxAbsDiff, peakRssMiB: peakReset ? memory.hwm / MiB : NaN, rssAfterMiB: memory.rss / MiB, failures: result.failures,
  };
  say(`  ${mode.padEnd(3)} round ${round + 1}: ${f(p.itemsPerS, 2)} items/s, ${f(p.tokensPerS, 0)} tokens/s asked, ${f(p.computedTokensPerS, 0)} computed, saved ${f(100 * p.saved)}%, ${batches} batches, `
    + `load ${f(p.loadavg)}, other ${f(otherLoadCores)} cores, peak RSS ${f(p.peakRssMiB, 0)} MiB (after ${f(p.rssAfterMiB, 0)}), max |Δscore| ${maxAbsDiff.toExponential(1)}${Object.keys(result.failures).length ? `, failures ${JSON.stringify(result.failures)}` : ''}`);
  return p;
}

/** A service's peak RSS over the run: each phase resets its high-water mark, so the largest of theirs and the last. */
function peakOf(service: ServiceHandle, mode: 'off' | 'on', phases: Phase[]): number {
  return Math.max(service.memory().hwm / MiB, ...phases.filter((p) => p.mode === mode && Number.isFinite(p.peakRssMiB)).map((p) => p.peakRssMiB));
}

/** Off and on bars per workload, the bare loop as a line: plain SVG, readable as text. */
function barChart(rows: { name: string; off: number; on: number }[], bare: number, title: string): string {
  const W = 760;
  const rowH = 46;
  const left = 300;
  const top = 50;
  const H = top + rows.length * rowH + 40;
  const max = Math.max(bare, ...rows.flatMap((r) => [r.off, r.on])) * 1.1;
  const x = (v: number) => left + (v / max) * (W - left - 30);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="10" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${left}" y="30" width="12" height="10" fill="#adb5bd"/><text x="${left + 16}" y="39">sharing and caches off</text>`,
    `<rect x="${left + 170}" y="30" width="12" height="10" fill="#1f6feb"/><text x="${left + 186}" y="39">on</text>`,
    `<text x="${left + 230}" y="39" fill="#d9480f">| bare ONNX Runtime loop, best budget</text>`];
  rows.forEach((r, k) => {
    const y = top + k * rowH;
    parts.push(`<text x="${left - 8}" y="${y + 22}" text-anchor="end">${esc(r.name)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 6}" width="${(x(r.off) - left).toFixed(1)}" height="14" fill="#adb5bd"/><text x="${(x(r.off) + 4).toFixed(1)}" y="${y + 17}">${f(r.off, 2)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 22}" width="${(x(r.on) - left).toFixed(1)}" height="14" fill="#1f6feb"/><text x="${(x(r.on) + 4).toFixed(1)}" y="${y + 33}">${f(r.on, 2)} (${f(r.on / r.off, 2)}x)</text>`);
  });
  parts.push(`<line x1="${x(bare).toFixed(1)}" y1="${top}" x2="${x(bare).toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#d9480f" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${left}" y="${H - 12}">items/s, total over the rounds; the dashed line: the bare loop on the first workload's items</text></svg>`);
  return parts.join('\n');
}

async function main(): Promise<void> {
  const modelPath = `${REPO}models/bench-random-qwen3-rm`;
  if (ensureModel(modelPath, 'bench').built) say('built the bench model');
  const md = loadModelDir(modelPath);
  if (!md.pastOnnxPath) throw new Error(`${modelPath} has no model-past.onnx; rebuild it with npm run make-model -- --preset bench --out ${modelPath}`);
  const config = loadConfig({});
  const loadStart = loadavg()[0];
  say(`bench model ${f(md.onnxBytes / MiB, 0)} MiB, ${cpus().length} cores, load ${f(loadStart)}; defaults PREFIX_MIN_TOKENS ${config.PREFIX_MIN_TOKENS}, PREFIX_CACHE_MB ${config.PREFIX_CACHE_MB}, RESULT_CACHE_ITEMS ${config.RESULT_CACHE_ITEMS}`);
  const { workloads, all } = await buildWorkloads(md, config);
  for (const w of workloads) say(`workload ${w.spec.name}: ${rounds} x ${w.rounds[0].length} items`);

  const outDir = `${REPO}bench/out`;
  mkdirSync(outDir, { recursive: true });
  const off = await startService({ modelDir: modelPath, env: { ...process.env, PREFIX_MIN_TOKENS: '0', RESULT_CACHE_ITEMS: '0' }, logPath: `${outDir}/grpo-off.log` });
  const on = await startService({ modelDir: modelPath, env: { ...process.env }, logPath: `${outDir}/grpo-on.log` });
  const rawConfig = { ...config, MAX_BATCH_TOKENS: batchTokenBudget(config, on.provider, modelShape(md.config, md.dtype)), MAX_BATCH_ATTENTION: batchAttentionBudget(config, on.provider, modelShape(md.config, md.dtype)) };

  say(`reference: the bare loop over all ${all.length} items (the full forward, model.onnx)`);
  const encoded = encodeItems(all, md, config);
  const session = await createSession(md.onnxPath, config, on.provider);
  const reference = (await runRawLoop(session, encoded, rawConfig, () => {})).logits;

  const phases: Phase[] = [];
  let peakOffMiB = NaN;
  try {
    // Unmeasured warm-up of both services on items of no workload.
    const warm = buildCorpus({ count: 16, seed: 99, invalidShare: 0 }).items;
    await Promise.all([runClients(off.base, warm, 8), runClients(on.base, warm, 8)]);
    for (let round = 0; round < rounds; round++) {
      for (const w of workloads) {
        say(`${w.spec.name}, round ${round + 1}`);
        // Alternate which goes first, so a drift in the machine's load favours neither.
        const order: ['off' | 'on', ServiceHandle][] = round % 2 === 0 ? [['off', off], ['on', on]] : [['on', on], ['off', off]];
        for (const [mode, service] of order) phases.push(await phase(service, mode, w, round, reference));
      }
    }
  } finally {
    peakOffMiB = peakOf(off, 'off', phases);
    await off.stop();
  }
  const peakOnMiB = peakOf(on, 'on', phases);
  await on.stop();
  if (args.workloads !== '') {
    say(`a subset of the workloads ran: no summary written; peak RSS on ${f(peakOnMiB, 0)} MiB, off ${f(peakOffMiB, 0)} MiB`);
    await session.release();
    return;
  }

  const target = workloads[0];
  const targetItems = encoded.filter((e) => target.rounds.some((r) => r.some((it) => it.index === e.index)));
  const bare: { budget: number; itemsPerS: number; tokensPerS: number; loadavg: number }[] = [];
  for (const budget of budgets) {
    const load0 = loadavg()[0];
    const run = await runRawLoop(session, targetItems, { ...config, MAX_BATCH_TOKENS: budget, MAX_BATCH_ATTENTION: 0 }, () => {});
    bare.push({ budget, itemsPerS: run.itemsPerS, tokensPerS: run.tokensPerS, loadavg: (load0 + loadavg()[0]) / 2 });
    say(`bare loop at ${budget} tokens: ${f(run.itemsPerS, 2)} items/s, ${f(run.tokensPerS, 0)} tokens/s, load ${f(loadavg()[0])}`);
  }
  await session.release();
  // --budgets '' skips the bare loop: its ratios are then NaN.
  const bareBest = bare.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a), bare[0] ?? { budget: NaN, itemsPerS: NaN, tokensPerS: NaN, loadavg: NaN });

  const summary = workloads.map((w) => {
    const of = (mode: 'off' | 'on') => {
      const ps = phases.filter((p) => p.workload === w.spec.name && p.mode === mode);
      const wall = sum(ps.map((p) => p.wallS));
      return {
        itemsPerS: sum(ps.map((p) => p.items)) / wall,
        tokensPerS: sum(ps.map((p) => p.tokensPerS * p.wallS)) / wall,
        computedTokensPerS: sum(ps.map((p) => p.computedTokensPerS * p.wallS)) / wall,
        saved: sum(ps.map((p) => p.saved * p.tokensPerS * p.wallS)) / sum(ps.map((p) => p.tokensPerS * p.wallS)),
        loadavg: sum(ps.map((p) => p.loadavg)) / ps.length,
        maxAbsDiff: Math.max(...ps.map((p) => p.maxAbsDiff)),
        cpuMsPerItem: (1000 * sum(ps.map((p) => p.cpuS))) / sum(ps.map((p) => p.items)),
      };
    };
    return { name: w.spec.name, off: of('off'), on: of('on') };
  });
  const byName = (name: string) => summary.find((s) => s.name === name)!;
  const [verl, openrlhf, dup, , singles] = WORKLOADS.map((w) => byName(w.name));
  const ratios = {
    onOverOffVerl: verl.on.itemsPerS / verl.off.itemsPerS,
    onOverOffOpenrlhf: openrlhf.on.itemsPerS / openrlhf.off.itemsPerS,
    onOverBareVerl: verl.on.itemsPerS / bareBest.itemsPerS,
    onOverBareOpenrlhf: openrlhf.on.itemsPerS / bareBest.itemsPerS,
    bareBestBudget: bareBest.budget,
    duplicatesOverDistinctOn: dup.on.itemsPerS / verl.on.itemsPerS,
    duplicatesOnOverOff: dup.on.itemsPerS / dup.off.itemsPerS,
    singlesOnOverOff: singles.on.itemsPerS / singles.off.itemsPerS,
    peakRssOnMiB: peakOnMiB,
    peakRssOffMiB: peakOffMiB,
    modelFileMiB: md.onnxBytes / MiB,
    peakRssOverModelMiB: peakOnMiB - md.onnxBytes / MiB,
    maxAbsDiff: Math.max(...phases.map((p) => p.maxAbsDiff)),
    loadavgMean: sum(phases.map((p) => p.loadavg)) / phases.length,
  };

  const head = ['workload', 'off items/s', 'on items/s', 'on / off', 'tokens/s asked off / on', 'tokens/s computed on', 'compute saved on', 'CPU ms/item off / on', 'load avg', 'max |Δscore|'];
  const lines = summary.map((s) => [s.name, f(s.off.itemsPerS, 2), f(s.on.itemsPerS, 2), `${f(s.on.itemsPerS / s.off.itemsPerS, 2)}x`, `${f(s.off.tokensPerS, 0)} / ${f(s.on.tokensPerS, 0)}`,
    f(s.on.computedTokensPerS, 0), `${f(100 * s.on.saved)}%`, `${f(s.off.cpuMsPerItem, 0)} / ${f(s.on.cpuMsPerItem, 0)}`, f((s.off.loadavg + s.on.loadavg) / 2), Math.max(s.off.maxAbsDiff, s.on.maxAbsDiff).toExponential(1)]);
  if (bare.length > 0) lines.push([`bare ONNX Runtime loop, first workload's items, best of ${budgets.join('/')} (${bareBest.budget})`, f(bareBest.itemsPerS, 2), '', '', f(bareBest.tokensPerS, 0), '', '', '', f(bareBest.loadavg), '0']);
  const table = ['| ' + head.join(' | ') + ' |', '|' + head.map((_, k) => (k === 0 ? ':---' : '---:')).join('|') + '|', ...lines.map((l) => '| ' + l.join(' | ') + ' |')].join('\n');
  console.log(`\n${table}\n`);
  const check = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const onOverBare = (ratio: number, target = '') => (bare.length > 0 ? `on/bare ${f(ratio, 2)}x${target}` : "on/bare not measured (--budgets '')");
  console.log(`groups of 8, one sample a request: on/off ${f(ratios.onOverOffVerl, 2)}x (target ${TARGETS.onOverOff}x: ${check(ratios.onOverOffVerl >= TARGETS.onOverOff)}), ${onOverBare(ratios.onOverBareVerl, ` (target ${TARGETS.onOverBare}x: ${check(ratios.onOverBareVerl >= TARGETS.onOverBare)})`)}`);
  console.log(`groups of 8, one group a request: on/off ${f(ratios.onOverOffOpenrlhf, 2)}x, ${onOverBare(ratios.onOverBareOpenrlhf)}`);
  console.log(`half duplicates: on over distinct on ${f(ratios.duplicatesOverDistinctOn, 2)}x (target ${TARGETS.duplicatesFurther}x: ${check(ratios.duplicatesOverDistinctOn >= TARGETS.duplicatesFurther)}), on/off ${f(ratios.duplicatesOnOverOff, 2)}x`);
  console.log(`single items: on/off ${f(ratios.singlesOnOverOff, 3)}x (target within ${100 * TARGETS.singlesWithin}%: ${check(Math.abs(ratios.singlesOnOverOff - 1) <= TARGETS.singlesWithin)})`);
  console.log(`peak RSS of the sharing service ${f(peakOnMiB, 0)} MiB = model file ${f(ratios.modelFileMiB, 0)} + ${f(ratios.peakRssOverModelMiB, 0)} MiB (target +${TARGETS.rssOverModelMiB}: ${check(ratios.peakRssOverModelMiB <= TARGETS.rssOverModelMiB)}); with sharing and caches off ${f(peakOffMiB, 0)} MiB`);
  console.log(`largest |score - full forward| ${ratios.maxAbsDiff.toExponential(1)} (target ${SCORE_TOLERANCE}: ${check(ratios.maxAbsDiff <= SCORE_TOLERANCE)}); mean load average ${f(ratios.loadavgMean)} on ${cpus().length} cores`);

  const results = resolve(REPO, args.results);
  mkdirSync(dirname(results), { recursive: true });
  writeFileSync(`${results}.json`, JSON.stringify({ bench: 'grpo', date: new Date().toISOString(), cores: cpus().length, loadavgStart: loadStart, config: { PREFIX_MIN_TOKENS: config.PREFIX_MIN_TOKENS, PREFIX_CACHE_MB: config.PREFIX_CACHE_MB, RESULT_CACHE_ITEMS: config.RESULT_CACHE_ITEMS, MAX_BATCH_TOKENS: rawConfig.MAX_BATCH_TOKENS, MAX_BATCH_ATTENTION: rawConfig.MAX_BATCH_ATTENTION }, targets: TARGETS, ratios, summary, bare, phases }, null, 2));
  writeFileSync(`${results}.svg`, barChart(summary.map((s) => ({ name: s.name, off: s.off.itemsPerS, on: s.on.itemsPerS })), bareBest.itemsPerS, `GRPO groups on the bench model, ${cpus().length} shared cores, load average ${f(ratios.loadavgMean)}`));
  say(`wrote ${relative(REPO, results)}.json and .svg`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
