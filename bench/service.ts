// `npm run bench`: the service against a plain ONNX Runtime loop over the same items, in one run.
//
//   stdlib functions ─► service child process (node --import tsx src/server.ts), idle while:
//                       raw loop #1: in this process, same prompts, batches and threads; reference logits
//                     ─► 1, 4, 16, 64, 256 closed-loop clients, one item per request (/health probed at 64+)
//                     ─► one request holding every item
//                     ─► 64 clients with 30% of the items broken (they must get 0 without the model)
//                     ─► raw loop at each budget of --budgets (no attention cap): the bare loop at its best
//                     ─► --rounds R: raw loop at its best budget, then 64 clients, R times in turn; the
//                        median of the R ratios is service / raw-best (load on the shared machine hits both)
//                     ─► [--soak-minutes M: 64 clients, RSS every 10 s]
//                     ─► raw loop #2 (the machine is shared: two raw runs bound the drift)
//                     ─► [PARITY_PYTHON or --python: transformers in-process, same batches at each budget]
//
// The bare loop and transformers run at the service's MODEL_NICE, as its model threads do, so that
// other work on shared cores takes the same share from each side.
//
// Per phase: items/s, tokens/s, CPU ms per item (all threads of the process: moves less than wall
// time when other jobs share the cores), latency, and from /metrics batch sizes, padding and model
// busy time. Results: bench/results/service-<model>.json and .svg; every ratio printed at the end
// comes from this one run. Options: --items N, --preset bench|tiny or --model-dir DIR, --seed N,
// --clients 1,4,16,64,256, --soak-minutes M, --soak-only, --cpu-prof (service profiles in bench/out/),
// --budgets 1024,2048,4096,8192 ('' to skip), --rounds R (0 to skip), --python PATH.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, setPriority, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { batchAttentionBudget, batchTokenBudget, loadConfig, type Config } from '../src/config.ts';
import { loadModelDir } from '../src/model/model-dir.ts';
import { modelShape } from '../src/provider-defaults.ts';
import { isPresetName } from '../tools/make-model/config.ts';
import { ensureModel } from '../tools/make-model/index.ts';
import { throughputChart } from './lib/chart.ts';
import { buildCorpus, type BenchItem } from './lib/corpus.ts';
import { probe, runClients, runOneRequest, type LoadResult } from './lib/load.ts';
import { createSession, encodeItems, runRawLoop, type Encoded, type RawRun } from './lib/raw-loop.ts';
import { phaseMetrics, scrape, type PhaseMetrics } from './lib/scrape.ts';
import { cpuSecondsOf, memoryOf, otherLoad, resetPeakOf } from './lib/proc.ts';
import { startService, type ServiceHandle } from './lib/service-process.ts';
import { median, MiB, percentile, sum } from './lib/stats.ts';
import { runTransformers } from './lib/transformers.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const INVALID_SHARE = 0.3;
const SATURATED_CLIENTS = 64;
const HEALTH_GAP_MS = 20;
const SOAK_SAMPLE_MS = 10_000;
/** Targets of issues 6 and 17. */
const TARGETS = { serviceOverRaw: 0.9, serviceOverRawBest: 0.95, serviceOverTransformers: 1.3, batchingGain: 4, healthP99Ms: 50, rssOverModelMiB: 400, soakSpread: 0.05 };

const { values: args } = parseArgs({
  options: {
    items: { type: 'string', default: '384' },
    preset: { type: 'string', default: 'bench' },
    // A model directory to serve instead of the preset's random build (e.g. a real CodeScaler export).
    'model-dir': { type: 'string' },
    seed: { type: 'string', default: '6' },
    clients: { type: 'string', default: '1,4,16,64,256' },
    'soak-minutes': { type: 'string', default: '0' },
    'soak-only': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    // Token budgets of the bare loop's and transformers' runs (no attention cap); the best of each is the yardstick.
    budgets: { type: 'string', default: '1024,2048,4096,8192' },
    // Interleaved rounds of the bare loop at its best budget and the service at 64 clients.
    rounds: { type: 'string', default: '3' },
    // The parity venv's python, for the transformers in-process column.
    python: { type: 'string', default: process.env.PARITY_PYTHON },
  },
});
const budgets = args.budgets === '' ? [] : args.budgets.split(',').map(Number);
const itemCount = Number(args.items);
const seed = Number(args.seed);
const clientCounts = args.clients.split(',').map(Number);
const soakMinutes = Number(args['soak-minutes']);
const roundCount = Number(args.rounds);
if (!Number.isInteger(roundCount) || roundCount < 0 || !isPresetName(args.preset) || !(itemCount > 0) || !Number.isInteger(seed) || clientCounts.some((c) => !(c > 0)) || !(soakMinutes >= 0)) {
  console.error('usage: npm run bench -- [--items N] [--preset bench|tiny | --model-dir DIR] [--seed N] [--clients 1,4,16,64,256] [--soak-minutes M] [--soak-only] [--cpu-prof]');
  process.exit(2);
}
if (args['soak-only'] && soakMinutes === 0) {
  console.error('--soak-only needs --soak-minutes M');
  process.exit(2);
}

const benchStarted = performance.now();
const elapsed = () => `${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)}s`;
const say = (msg: string) => console.log(`[${elapsed()}] ${msg}`);

/** At most one line every 5 s per phase, so a long phase never looks like a hang. */
function ticker(label: string, total: number | undefined): (done: number) => void {
  const started = performance.now();
  let last = started;
  return (done) => {
    const now = performance.now();
    if (now - last < 5000) return;
    last = now;
    const rate = done / ((now - started) / 1000);
    say(`  ${label}: ${done}${total ? `/${total}` : ''} items, ${rate.toFixed(1)} items/s`);
  };
}

type PhaseKind = 'sweep' | 'one_request' | 'invalid' | 'round';

interface PhaseResult {
  kind: PhaseKind;
  name: string;
  /** Start and end on the monotonic clock in µs, the clock of .cpuprofile timestamps (bench/profile-summary.ts). */
  windowUs: [number, number];
  clients: number;
  itemsPerRequest: number;
  items: number;
  wallS: number;
  /** CPU seconds of the service process (all threads) over the phase. */
  cpuS: number;
  /** Cores' worth of CPU used by other processes on the machine meanwhile. */
  otherLoadCores: number;
  /** The machine's 1-minute load average at the end of the phase. */
  loadavg1m: number;
  itemsPerS: number;
  tokensPerS: number;
  latencyMs: { p50: number; p99: number; max: number };
  failures: Record<string, number>;
  metrics: PhaseMetrics;
  peakRssMiB: number;
  scores: ScoreCheck;
  health?: { probes: number; failures: number; p50Ms: number; p99Ms: number; maxMs: number };
}

interface ScoreCheck {
  compared: number;
  maxAbsDiff: number;
  overTolerance: number;
  /** Items whose answer disagrees with CPython's verdict, or a broken item that got a score. */
  wrongVerdicts: number;
  missing: number;
}

const SCORE_TOLERANCE = 1e-4;

function checkScores(items: readonly BenchItem[], load: LoadResult, reference: Map<number, number>): ScoreCheck {
  const check: ScoreCheck = { compared: 0, maxAbsDiff: 0, overTolerance: 0, wrongVerdicts: 0, missing: 0 };
  for (const it of items) {
    const a = load.answers.get(it.index);
    if (!a) {
      check.missing++;
      continue;
    }
    if (!it.valid) {
      if (a.valid || a.status !== 'syntax_error' || a.raw_score !== null || a.reward !== 0) check.wrongVerdicts++;
      continue;
    }
    if (!a.valid || a.raw_score === null) {
      check.wrongVerdicts++;
      continue;
    }
    const diff = Math.abs(a.raw_score - reference.get(it.index)!);
    check.compared++;
    check.maxAbsDiff = Math.max(check.maxAbsDiff, diff);
    if (diff > SCORE_TOLERANCE) check.overTolerance++;
  }
  return check;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

const clientsLabel = (n: number) => `${n} client${n === 1 ? '' : 's'}`;

/** `clients` 0 sends every item in one request. */
async function measurePhase(
  service: ServiceHandle,
  kind: PhaseKind,
  name: string,
  items: readonly BenchItem[],
  clients: number,
  reference: Map<number, number>,
  withHealthProbe: boolean,
): Promise<PhaseResult> {
  const oneRequest = clients === 0;
  say(`${name}: ${items.length} items, ${oneRequest ? 'one request' : `${clientsLabel(clients)}, one item per request`}${withHealthProbe ? ', probing /health' : ''}`);
  service.resetPeak();
  let peakRss = service.memory().rss;
  const rssPoll = setInterval(() => {
    peakRss = Math.max(peakRss, service.memory().rss);
  }, 250);
  const before = await scrape(service.base);
  const cpuBefore = cpuSecondsOf(service.pid);
  const other = otherLoad([service.pid, 'self']);
  const health = withHealthProbe ? probe(service.base, '/health', HEALTH_GAP_MS) : undefined;
  const fromUs = monotonicUs();
  const load = oneRequest
    ? await runOneRequest(service.base, items)
    : await runClients(service.base, items, clients, { onAnswer: ticker(name, items.length) });
  const windowUs: [number, number] = [fromUs, monotonicUs()];
  const cpuS = cpuSecondsOf(service.pid) - cpuBefore;
  const otherLoadCores = other.stop(load.wallS);
  const probed = await health?.stop();
  const after = await scrape(service.base);
  clearInterval(rssPoll);
  const { hwm } = service.memory();
  const tokens = sum([...load.answers.values()].map((a) => a.prompt_tokens));
  const result: PhaseResult = {
    kind,
    name,
    windowUs,
    clients,
    itemsPerRequest: oneRequest ? items.length : 1,
    items: load.answers.size,
    wallS: load.wallS,
    cpuS,
    otherLoadCores,
    loadavg1m: loadavg()[0],
    itemsPerS: load.answers.size / load.wallS,
    tokensPerS: tokens / load.wallS,
    latencyMs: { p50: percentile(load.latenciesMs, 0.5), p99: percentile(load.latenciesMs, 0.99), max: Math.max(...load.latenciesMs) },
    failures: load.failures,
    metrics: phaseMetrics(before, after, load.wallS),
    // The kernel's high-water mark when it could be reset for the phase, else the 250 ms samples.
    peakRssMiB: (Number.isFinite(hwm) ? Math.max(hwm, peakRss) : peakRss) / MiB,
    scores: checkScores(items, load, reference),
    ...(probed && {
      health: {
        probes: probed.latenciesMs.length,
        failures: probed.failures,
        p50Ms: percentile(probed.latenciesMs, 0.5),
        p99Ms: percentile(probed.latenciesMs, 0.99),
        maxMs: Math.max(...probed.latenciesMs),
      },
    }),
  };
  const m = result.metrics;
  say(`  ${result.itemsPerS.toFixed(2)} items/s, ${result.tokensPerS.toFixed(0)} tokens/s, p50 ${result.latencyMs.p50.toFixed(0)} ms, p99 ${result.latencyMs.p99.toFixed(0)} ms, `
    + `${m.batches} batches of ${m.meanBatchItems.toFixed(1)} items, padding ${(100 * m.paddingShare).toFixed(1)}%, model busy ${(100 * m.modelBusyShare).toFixed(0)}%, `
    + `${(1000 * cpuS / result.items).toFixed(0)} CPU ms/item, other load ${otherLoadCores.toFixed(1)} cores, load average ${result.loadavg1m.toFixed(1)}, `
    + `max |Δscore| ${result.scores.maxAbsDiff.toExponential(1)}${result.health ? `, /health p99 ${result.health.p99Ms.toFixed(1)} ms` : ''}`);
  if (Object.keys(load.failures).length > 0) say(`  failures: ${JSON.stringify(load.failures)}`);
  return result;
}

type RawResult = RawRun & { provider: string; peakRssMiB: number; sessionRssMiB: number; otherLoadCores: number; loadavg1m: number };

/**
 * Linux nice of the calling thread (setpriority on pid 0 acts on the thread there); threads started
 * from it inherit it, as ONNX Runtime's pool does from the model worker's thread. Root may lower it again.
 */
function setThreadNice(nice: number): void {
  try {
    setPriority(0, nice);
  } catch {
    // Not permitted: the bare loop runs at the bench's own priority.
  }
}

/** The raw loop on the service's provider; RSS of this process is taken around it, ORT's share being the growth. */
async function rawPhase(label: string, onnxPath: string, prompts: readonly Encoded[], config: Config, service: ServiceHandle): Promise<RawResult> {
  say(`${label}: ${prompts.length} items through onnxruntime-node in this process (${service.provider}, nice ${config.MODEL_NICE})`);
  const before = memoryOf('self').rss;
  resetPeakOf('self');
  // The session's threads start at the service's model priority.
  setThreadNice(config.MODEL_NICE);
  const session = await createSession(onnxPath, config, service.provider);
  const other = otherLoad([service.pid, 'self']);
  const run = await runRawLoop(session, prompts, config, ticker(label, prompts.length));
  const otherLoadCores = other.stop(run.wallS);
  const peak = memoryOf('self').hwm;
  await session.release();
  setThreadNice(0);
  const result = { ...run, provider: service.provider, peakRssMiB: peak / MiB, sessionRssMiB: (peak - before) / MiB, otherLoadCores, loadavg1m: loadavg()[0] };
  say(`  ${run.itemsPerS.toFixed(2)} items/s, ${run.tokensPerS.toFixed(0)} tokens/s, ${run.batches} batches, padding ${(100 * run.paddingShare).toFixed(1)}%, ${(1000 * run.cpuS / run.items).toFixed(0)} CPU ms/item, other load ${otherLoadCores.toFixed(1)} cores, load average ${result.loadavg1m.toFixed(1)}, `
    + `this process's RSS grew by ${result.sessionRssMiB.toFixed(0)} MiB to ${result.peakRssMiB.toFixed(0)} MiB`);
  return result;
}

interface SoakResult {
  minutes: number;
  clients: number;
  itemsPerS: number;
  warmUpS: number;
  samplesMiB: { t: number; rss: number }[];
  afterWarmUp: { minMiB: number; maxMiB: number; medianMiB: number; spread: number; trendMiBPerMin: number };
  peakMiB: number;
}

/** Least-squares slope of RSS over time, MiB/s: a leak climbs steadily; an allocator step does not. */
function slope(points: readonly { t: number; rss: number }[]): number {
  const mt = sum(points.map((p) => p.t)) / points.length;
  const mr = sum(points.map((p) => p.rss)) / points.length;
  const cov = sum(points.map((p) => (p.t - mt) * (p.rss - mr)));
  const vt = sum(points.map((p) => (p.t - mt) ** 2));
  return vt > 0 ? cov / vt : NaN;
}

async function soak(service: ServiceHandle, items: readonly BenchItem[], minutes: number): Promise<SoakResult> {
  const durationMs = minutes * 60_000;
  // The first fifth (at most a minute) is warm-up: allocator arenas and JIT settle there.
  const warmUpS = Math.min(60, (durationMs / 1000) * 0.2);
  say(`soak: ${clientsLabel(SATURATED_CLIENTS)} for ${minutes} min, RSS every ${SOAK_SAMPLE_MS / 1000} s (warm-up ${warmUpS.toFixed(0)} s not judged)`);
  service.resetPeak();
  const started = Date.now();
  const samples: { t: number; rss: number }[] = [];
  const sampler = setInterval(() => {
    const t = (Date.now() - started) / 1000;
    const rss = service.memory().rss / MiB;
    samples.push({ t, rss });
    say(`  soak ${t.toFixed(0)} s: RSS ${rss.toFixed(0)} MiB`);
  }, SOAK_SAMPLE_MS);
  const load = await runClients(service.base, items, SATURATED_CLIENTS, { until: started + durationMs });
  clearInterval(sampler);
  const judgedSamples = samples.filter((s) => s.t >= warmUpS);
  const judged = judgedSamples.map((s) => s.rss);
  const median = percentile(judged, 0.5);
  const minMiB = Math.min(...judged);
  const maxMiB = Math.max(...judged);
  return {
    minutes,
    clients: SATURATED_CLIENTS,
    itemsPerS: load.requests / load.wallS,
    warmUpS,
    samplesMiB: samples,
    afterWarmUp: { minMiB, maxMiB, medianMiB: median, spread: Math.max(maxMiB - median, median - minMiB) / median, trendMiBPerMin: 60 * slope(judgedSamples) },
    peakMiB: service.memory().hwm / MiB,
  };
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function table(rows: PhaseResult[], raws: RawResult[]): string {
  const head = ['phase', 'items', 'items/s', 'tokens/s', 'CPU ms/item', 'other load', 'p50 ms', 'p99 ms', 'batch items', 'padding', 'model busy', 'peak RSS MiB', 'max |Δscore|'];
  const lines = [
    ...raws.map((r, k) => [`raw ORT loop #${k + 1}`, String(r.items), f(r.itemsPerS, 2), f(r.tokensPerS, 0), f(1000 * r.cpuS / r.items, 0), f(r.otherLoadCores), '-', '-', f(r.items / r.batches), `${f(100 * r.paddingShare)}%`, '100%', `(${f(r.peakRssMiB, 0)})`, '0']),
    ...rows.map((r) => [r.name, String(r.items), f(r.itemsPerS, 2), f(r.tokensPerS, 0), f(1000 * r.cpuS / r.items, 0), f(r.otherLoadCores), f(r.latencyMs.p50, 0), f(r.latencyMs.p99, 0),
      f(r.metrics.meanBatchItems), `${f(100 * r.metrics.paddingShare)}%`, `${f(100 * r.metrics.modelBusyShare, 0)}%`, f(r.peakRssMiB, 0),
      r.scores.compared > 0 ? r.scores.maxAbsDiff.toExponential(1) : '-']),
  ];
  const widths = head.map((h, k) => Math.max(h.length, ...lines.map((l) => l[k].length)));
  const fmtRow = (cells: string[]) => '| ' + cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join(' | ') + ' |';
  return [fmtRow(head), '|' + widths.map((w, k) => (k === 0 ? ':' : '') + '-'.repeat(w + 1) + (k === 0 ? '' : ':')).join('|') + '|', ...lines.map(fmtRow)].join('\n');
}

/** What every phase uses: the model, the configuration and the items, encoded as the service encodes them. */
interface BenchSetup {
  preset: 'bench' | 'tiny';
  modelPath: string;
  md: ReturnType<typeof loadModelDir>;
  /** Names the result files: the preset, or the served model's name made safe for a file name. */
  label: string;
  config: Config;
  loadStart: number;
  corpus: ReturnType<typeof buildCorpus>;
  prompts: Encoded[];
  lengths: number[];
  outDir: string;
  resultsDir: string;
  profileDir: string;
}

function setUp(): BenchSetup {
  const preset = args.preset as 'bench' | 'tiny';
  const modelPath = args['model-dir'] ?? `${REPO}models/${preset}-random-qwen3-rm`;
  const outDir = `${REPO}bench/out`;
  const resultsDir = `${REPO}bench/results`;
  mkdirSync(outDir, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  const loadStart = loadavg()[0];

  say(`model: ${args['model-dir'] ? '' : `${preset} preset at `}${modelPath}`);
  if (!args['model-dir'] && ensureModel(modelPath, preset).built) say('  built it');
  const md = loadModelDir(modelPath);
  const label = args['model-dir'] ? md.name.replace(/[^\w.-]+/g, '_') : preset;
  const config = loadConfig(process.env);
  say(`  model.onnx ${f(md.onnxBytes / MiB, 0)} MiB; MAX_BATCH_TOKENS ${config.MAX_BATCH_TOKENS || 'by provider'}, MAX_BATCH_ITEMS ${config.MAX_BATCH_ITEMS}, MAX_PADDING_SHARE ${config.MAX_PADDING_SHARE}, `
    + `MAX_WAIT_MS ${config.MAX_WAIT_MS}, INTRA_OP_THREADS ${config.INTRA_OP_THREADS}, ${cpus().length} cores, load ${loadStart.toFixed(1)}`);

  const corpus = buildCorpus({ count: itemCount, seed, invalidShare: INVALID_SHARE });
  const prompts = encodeItems(corpus.items, md, config);
  const lengths = prompts.map((p) => p.ids.length);
  say(`items: ${corpus.items.length} of ${corpus.candidates} top-level functions in ${corpus.stdlib} (seed ${seed}); `
    + `prompt tokens p50 ${percentile(lengths, 0.5)}, p90 ${percentile(lengths, 0.9)}, max ${Math.max(...lengths)}, total ${sum(lengths)}`);
  return { preset, modelPath, md, label, config, loadStart, corpus, prompts, lengths, outDir, resultsDir, profileDir: `${outDir}/profile-${Date.now()}` };
}

interface Round { rawItemsPerS: number; serviceItemsPerS: number; ratio: number; rawCpuMsPerItem: number; serviceCpuMsPerItem: number; loadavg1m: number[] }

/** Everything measured with the service running, and the bare loop's runs around it. */
interface ServiceRun {
  provider: string;
  logPath: string;
  /** The bare loop at the service's budgets, before and after the service's phases. */
  raws: RawResult[];
  /** Logits of raw #1 by item index: the scores every phase is checked against. */
  reference: Map<number, number>;
  /** The configuration with the budgets the service chose for its provider. */
  rawConfig: Config;
  phases: PhaseResult[];
  rawByBudget: RawResult[];
  rawBest: RawResult | undefined;
  rounds: Round[];
  soak: SoakResult | undefined;
  /** Start-up and warm-up, before the first phase restarts the high-water mark. */
  preludePeakMiB: number;
}

const budgetConfig = (config: Config, budget: number): Config => ({ ...config, MAX_BATCH_TOKENS: budget, MAX_BATCH_ATTENTION: 0 });

async function runService(setup: BenchSetup): Promise<ServiceRun> {
  const { md, config, corpus, prompts, label } = setup;
  const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', setup.profileDir] : [];
  say(`service: starting on ${label}${nodeArgs.length ? ` with ${nodeArgs.join(' ')}` : ''}`);
  // Every phase sends the same items: with the result cache on, later phases would be answered from
  // it and never reach the model. The cache is measured on its own by bench/dedup.ts.
  const service = await startService({ modelDir: setup.modelPath, env: { ...process.env, RESULT_CACHE_ITEMS: '0' }, nodeArgs, logPath: `${setup.outDir}/service.log` });
  let preludePeakMiB = service.memory().hwm / MiB;
  say(`  ready (pid ${service.pid}, ${service.provider}), RSS at ready ${f(service.memory().rss / MiB, 0)} MiB, peak so far ${f(preludePeakMiB, 0)} MiB`);

  // The service sits idle meanwhile; the raw loop runs on the provider it reported.
  const raws: RawResult[] = [];
  // The raw loop cuts its batches by the budgets the service chose for that provider.
  const rawConfig = { ...config, MAX_BATCH_TOKENS: batchTokenBudget(config, service.provider, modelShape(md.config, md.dtype)), MAX_BATCH_ATTENTION: batchAttentionBudget(config, service.provider, modelShape(md.config, md.dtype)) };
  say(`  batch budgets on ${service.provider}: ${rawConfig.MAX_BATCH_TOKENS} tokens, ${rawConfig.MAX_BATCH_ATTENTION || 'no'} rows × length²`);
  if (!args['soak-only']) raws.push(await rawPhase('raw #1', md.onnxPath, prompts, rawConfig, service));
  const reference = raws[0]?.logits ?? new Map<number, number>();

  const phases: PhaseResult[] = [];
  let soakResult: SoakResult | undefined;
  const rawByBudget: RawResult[] = [];
  let rawBest: RawResult | undefined;
  const rounds: Round[] = [];
  try {
    if (!args['soak-only']) {
      // Unmeasured: JIT, allocator and connection set-up.
      await runClients(service.base, corpus.items.slice(0, Math.min(64, corpus.items.length)), 16);
      preludePeakMiB = Math.max(preludePeakMiB, service.memory().hwm / MiB);
      for (const clients of clientCounts) {
        phases.push(await measurePhase(service, 'sweep', clientsLabel(clients), corpus.items, clients, reference, clients >= SATURATED_CLIENTS));
      }
      phases.push(await measurePhase(service, 'one_request', '1 request, all items', corpus.items, 0, reference, false));
      phases.push(await measurePhase(service, 'invalid', `${clientsLabel(SATURATED_CLIENTS)}, ${100 * INVALID_SHARE}% invalid`, corpus.withInvalid, SATURATED_CLIENTS, reference, false));
      // The service sits idle meanwhile.
      for (const budget of budgets) rawByBudget.push(await rawPhase(`raw at ${budget} tokens`, md.onnxPath, prompts, budgetConfig(config, budget), service));
      rawBest = rawByBudget.reduce<RawResult | undefined>((a, b) => (a === undefined || b.itemsPerS > a.itemsPerS ? b : a), undefined);
      if (rawBest) rounds.push(...await interleavedRounds(setup, service, budgets[rawByBudget.indexOf(rawBest)], reference));
    }
    if (soakMinutes > 0) soakResult = await soak(service, corpus.items, soakMinutes);
  } finally {
    const code = await service.stop();
    say(`service stopped (exit ${code}); log in ${service.logPath}`);
  }
  if (!args['soak-only']) raws.push(await rawPhase('raw #2', md.onnxPath, prompts, rawConfig, service));
  return { provider: service.provider, logPath: service.logPath, raws, reference, rawConfig, phases, rawByBudget, rawBest, rounds, soak: soakResult, preludePeakMiB };
}

/** --rounds R: the bare loop at its best budget, then the service at 64 clients, R times in turn. */
async function interleavedRounds(setup: BenchSetup, service: ServiceHandle, bestBudget: number, reference: Map<number, number>): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let r = 1; r <= roundCount; r++) {
    const raw = await rawPhase(`round ${r}/${roundCount}: raw at ${bestBudget} tokens`, setup.md.onnxPath, setup.prompts, budgetConfig(setup.config, bestBudget), service);
    // No /health probe here: its requests are load the bare loop does not carry.
    const served = await measurePhase(service, 'round', `round ${r}/${roundCount}: ${clientsLabel(SATURATED_CLIENTS)}`, setup.corpus.items, SATURATED_CLIENTS, reference, false);
    rounds.push({ rawItemsPerS: raw.itemsPerS, serviceItemsPerS: served.itemsPerS, ratio: served.itemsPerS / raw.itemsPerS, rawCpuMsPerItem: 1000 * raw.cpuS / raw.items, serviceCpuMsPerItem: 1000 * served.cpuS / served.items, loadavg1m: [raw.loadavg1m, served.loadavg1m] });
    say(`  round ${r}: service / raw ${f(served.itemsPerS / raw.itemsPerS, 2)}`);
  }
  return rounds;
}

interface TransformersRuns {
  versions: string;
  byBudget: { budget: number; itemsPerS: number; tokensPerS: number; maxAbsDiff: number }[];
}

/** --python: transformers in-process over the same items at each budget, its logits against raw #1's. */
function runTransformersColumn(setup: BenchSetup, reference: Map<number, number>): TransformersRuns | undefined {
  if (args['soak-only'] || !args.python || budgets.length === 0) return undefined;
  const { prompts, config } = setup;
  say(`transformers in-process (${args.python}): the same items at ${budgets.join(', ')} tokens`);
  const hf = runTransformers(args.python, setup.modelPath, budgets.map((budget) => ({ name: String(budget), prompts, budget: budgetConfig(config, budget) })), config.INTRA_OP_THREADS, config.MODEL_NICE);
  return {
    versions: hf.versions,
    byBudget: budgets.map((budget) => {
      const run = hf.runs.get(String(budget))!;
      const maxAbsDiff = Math.max(...prompts.map((p) => Math.abs(run.logits.get(p.index)! - reference.get(p.index)!)));
      say(`  ${budget} tokens: ${f(run.itemsPerS, 2)} items/s, ${f(run.tokensPerS, 0)} tokens/s, max |logit - raw| ${maxAbsDiff.toExponential(1)}`);
      return { budget, itemsPerS: run.itemsPerS, tokensPerS: run.tokensPerS, maxAbsDiff };
    }),
  };
}

/** The phases the ratios read. */
function keyPhases(run: ServiceRun) {
  const sweep = (clients: number) => run.phases.find((p) => p.kind === 'sweep' && p.clients === clients);
  return {
    sat: sweep(SATURATED_CLIENTS),
    single: sweep(1),
    invalid: run.phases.find((p) => p.kind === 'invalid'),
    rawMean: run.raws.length > 0 ? sum(run.raws.map((r) => r.itemsPerS)) / run.raws.length : NaN,
  };
}

function ratiosOf(setup: BenchSetup, run: ServiceRun, transformers: TransformersRuns | undefined) {
  const { phases, raws, rounds, rawBest, rawByBudget } = run;
  const { sat, single, invalid, rawMean } = keyPhases(run);
  const transformersBest = transformers?.byBudget.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));
  const modelMiB = setup.md.onnxBytes / MiB;
  const peakMiB = Math.max(run.preludePeakMiB, ...phases.map((p) => p.peakRssMiB), run.soak?.peakMiB ?? 0);
  const validTokensInvalidRun = invalid ? sum(setup.prompts.filter((p) => setup.corpus.withInvalid[p.index].valid).map((p) => p.ids.length)) : NaN;
  const serviceRate = rounds.length > 0 ? median(rounds.map((r) => r.serviceItemsPerS)) : sat?.itemsPerS ?? NaN;
  return {
    serviceAt64OverRaw: sat ? sat.itemsPerS / rawMean : NaN,
    serviceAt64OverRawRange: sat ? raws.map((r) => sat.itemsPerS / r.itemsPerS) : [],
    /** The same ratio in items per CPU second: less sensitive to other load on a shared machine. */
    serviceAt64OverRawPerCpuS: sat ? (sat.items / sat.cpuS) / (sum(raws.map((r) => r.items)) / sum(raws.map((r) => r.cpuS))) : NaN,
    /**
     * Against the bare loop at its best budget of --budgets (issue 17's yardstick): the median of the
     * interleaved rounds' ratios, or without rounds the 64-client phase against the budget sweep.
     */
    serviceAt64OverRawBest: rounds.length > 0 ? median(rounds.map((r) => r.ratio)) : sat && rawBest ? sat.itemsPerS / rawBest.itemsPerS : NaN,
    serviceAt64OverRawBestRounds: rounds.map((r) => r.ratio),
    rawBestBudget: rawBest ? budgets[rawByBudget.indexOf(rawBest)] : NaN,
    /** The service's median rate over the rounds (the 64-client phase without rounds) against transformers at its best budget. */
    serviceAt64OverTransformersBest: transformersBest ? serviceRate / transformersBest.itemsPerS : NaN,
    transformersBestBudget: transformersBest?.budget ?? NaN,
    batchingGain64Over1: sat && single ? sat.itemsPerS / single.itemsPerS : NaN,
    oneRequestOverRaw: (phases.find((p) => p.kind === 'one_request')?.itemsPerS ?? NaN) / rawMean,
    healthP99MsAt64: sat?.health?.p99Ms ?? NaN,
    peakRssMiB: peakMiB,
    modelFileMiB: modelMiB,
    peakRssOverModelMiB: peakMiB - modelMiB,
    invalid30OverValidItemsPerS: invalid && sat ? invalid.itemsPerS / sat.itemsPerS : NaN,
    /** Real tokens the model saw in the 30%-invalid phase minus those of its valid items: 0 means no broken item ran. */
    invalidTokensReachingModel: invalid ? invalid.metrics.realTokens - validTokensInvalidRun : NaN,
  };
}

type Ratios = ReturnType<typeof ratiosOf>;

function resultsOf(setup: BenchSetup, run: ServiceRun, transformers: TransformersRuns | undefined, ratios: Ratios) {
  const { md, config, corpus, lengths } = setup;
  const { rawConfig, raws, rawByBudget, phases, rounds } = run;
  return {
    bench: 'service',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMiB: Math.round(totalmem() / MiB), node: process.version, loadavg1mStart: setup.loadStart, loadavg1mEnd: loadavg()[0], loadavg1mMedian: median([...raws, ...rawByBudget, ...phases].map((p) => p.loadavg1m)) },
    model: { name: md.name, preset: args['model-dir'] ? null : setup.preset, onnxMiB: ratios.modelFileMiB },
    config: {
      MAX_LENGTH: config.MAX_LENGTH, MAX_BATCH_TOKENS: rawConfig.MAX_BATCH_TOKENS, MAX_BATCH_ATTENTION: rawConfig.MAX_BATCH_ATTENTION, MAX_BATCH_ITEMS: config.MAX_BATCH_ITEMS, MAX_PADDING_SHARE: config.MAX_PADDING_SHARE, MAX_WAIT_MS: config.MAX_WAIT_MS,
      MAX_QUEUE_ITEMS: config.MAX_QUEUE_ITEMS, INTRA_OP_THREADS: config.INTRA_OP_THREADS, MODEL_NICE: config.MODEL_NICE, EXECUTION_PROVIDER: config.EXECUTION_PROVIDER, LOG_LEVEL: config.LOG_LEVEL,
    },
    items: { count: corpus.items.length, seed, candidates: corpus.candidates, invalidShare: INVALID_SHARE, promptTokens: { p50: percentile(lengths, 0.5), p90: percentile(lengths, 0.9), max: Math.max(...lengths), total: sum(lengths) } },
    raw: raws.map(({ logits: _, ...r }) => r),
    rawByBudget: rawByBudget.map(({ logits: _, ...r }) => r),
    transformers,
    rounds,
    phases,
    preludePeakRssMiB: run.preludePeakMiB,
    soak: run.soak,
    ratios,
    targets: TARGETS,
    met: {
      serviceOverRaw: ratios.serviceAt64OverRaw >= TARGETS.serviceOverRaw,
      ...(run.rawBest && { serviceOverRawBest: ratios.serviceAt64OverRawBest >= TARGETS.serviceOverRawBest }),
      ...(transformers && { serviceOverTransformers: ratios.serviceAt64OverTransformersBest >= TARGETS.serviceOverTransformers }),
      batchingGain: ratios.batchingGain64Over1 >= TARGETS.batchingGain,
      healthP99: ratios.healthP99MsAt64 < TARGETS.healthP99Ms,
      peakRss: ratios.peakRssOverModelMiB <= TARGETS.rssOverModelMiB,
      scores: phases.every((p) => p.scores.overTolerance === 0 && p.scores.wrongVerdicts === 0 && p.scores.missing === 0),
      ...(run.soak && { soakFlat: run.soak.afterWarmUp.spread <= TARGETS.soakSpread }),
    },
  };
}

type Results = ReturnType<typeof resultsOf>;

/** bench/results/service-<label>.json and, with a client sweep, its .svg; returns the files' stem. */
function writeResults(setup: BenchSetup, run: ServiceRun, results: Results): { stem: string; chart: boolean } {
  const { phases } = run;
  if (args['cpu-prof']) {
    writeFileSync(`${setup.profileDir}/phases.json`, JSON.stringify(phases.map((p) => ({ name: p.name, items: p.items, windowUs: p.windowUs }))) + '\n');
    say(`profiles in ${setup.profileDir}: npx tsx bench/profile-summary.ts ${setup.profileDir}`);
  }
  const stem = `service-${args['soak-only'] ? 'soak-' : ''}${setup.label}`;
  writeFileSync(`${setup.resultsDir}/${stem}.json`, JSON.stringify(results, null, 2) + '\n');
  const curve = phases.filter((p) => p.kind === 'sweep');
  if (curve.length > 0) {
    writeFileSync(`${setup.resultsDir}/${stem}.svg`, throughputChart(
      curve.map((p) => ({ clients: p.clients, itemsPerS: p.itemsPerS, p99Ms: p.latencyMs.p99 })),
      keyPhases(run).rawMean,
      `code-reward-service on ${setup.label}, ${run.provider} (${cpus().length} cores)`,
      `${setup.corpus.items.length} stdlib functions, one item per request; raw = in-process ONNX Runtime over the same batches`,
    ));
  }
  return { stem, chart: curve.length > 0 };
}

/** The phase table and one line per ratio, each with its target. */
function printSummary(run: ServiceRun, transformers: TransformersRuns | undefined, results: Results): void {
  const { phases, raws, rounds, rawBest } = run;
  const { ratios, met } = results;
  const { sat, single, invalid } = keyPhases(run);
  console.log('');
  if (phases.length > 0) console.log(table(phases, raws) + '\n');
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const lines: string[] = [];
  const line = (what: string, text: string) => lines.push(`${what.padEnd(32)} ${text}`);
  if (sat) {
    line(`service @${SATURATED_CLIENTS} clients / raw`, `${f(ratios.serviceAt64OverRaw, 2)} (against raw #1, #2: ${ratios.serviceAt64OverRawRange.map((r) => f(r, 2)).join(', ')}; `
      + `per CPU second: ${f(ratios.serviceAt64OverRawPerCpuS, 2)})  target ≥ ${TARGETS.serviceOverRaw}: ${mark(met.serviceOverRaw)}`);
  }
  if (sat && rawBest) {
    const how = rounds.length > 0
      ? `median of ${rounds.length} interleaved rounds: ${rounds.map((r) => f(r.ratio, 2)).join(', ')}; load average ${rounds.map((r) => r.loadavg1m.map((l) => f(l)).join('/')).join(', ')}`
      : `raw best ${f(rawBest.itemsPerS, 2)} items/s`;
    line(`service @${SATURATED_CLIENTS} / raw at best budget`, `${f(ratios.serviceAt64OverRawBest, 2)} (raw best at ${ratios.rawBestBudget} tokens; ${how})  target ≥ ${TARGETS.serviceOverRawBest}: ${mark(met.serviceOverRawBest!)}`);
  }
  const transformersBest = transformers?.byBudget.find((b) => b.budget === ratios.transformersBestBudget);
  if (sat && transformers && transformersBest) {
    line(`service @${SATURATED_CLIENTS} / transformers`, `${f(ratios.serviceAt64OverTransformersBest, 2)} (transformers best at ${ratios.transformersBestBudget} tokens, ${f(transformersBest.itemsPerS, 2)} items/s; max |logit - raw| ${Math.max(...transformers.byBudget.map((b) => b.maxAbsDiff)).toExponential(1)})  target ≥ ${TARGETS.serviceOverTransformers}: ${mark(met.serviceOverTransformers!)}`);
  }
  if (sat && single) line(`batching gain, ${SATURATED_CLIENTS} vs 1 client`, `${f(ratios.batchingGain64Over1, 2)}×  target ≥ ${TARGETS.batchingGain}×: ${mark(met.batchingGain)}`);
  if (sat?.health) line(`/health p99 @${SATURATED_CLIENTS} clients`, `${f(ratios.healthP99MsAt64)} ms  target < ${TARGETS.healthP99Ms} ms: ${mark(met.healthP99)}`);
  if (phases.some((p) => p.kind === 'one_request')) line('one request, all items / raw', f(ratios.oneRequestOverRaw, 2));
  if (invalid && sat) {
    line(`${100 * INVALID_SHARE}% invalid vs 0% @${SATURATED_CLIENTS}`, `${f(ratios.invalid30OverValidItemsPerS, 2)}× items/s; tokens of broken items that reached the model: ${ratios.invalidTokensReachingModel}`);
  }
  line('peak RSS', `${f(ratios.peakRssMiB, 0)} MiB = model file ${f(ratios.modelFileMiB, 0)} MiB + ${f(ratios.peakRssOverModelMiB, 0)} MiB  target ≤ +${TARGETS.rssOverModelMiB}: ${mark(met.peakRss)}`);
  if (run.soak) {
    const a = run.soak.afterWarmUp;
    line(`soak ${run.soak.minutes} min @${SATURATED_CLIENTS} clients`, `RSS after warm-up ${f(a.minMiB, 0)}..${f(a.maxMiB, 0)} MiB (±${f(100 * a.spread)}% of median, trend ${f(a.trendMiBPerMin)} MiB/min)  target ±${100 * TARGETS.soakSpread}%: ${mark(met.soakFlat!)}`);
  }
  if (phases.length > 0) {
    line(`scores within ${SCORE_TOLERANCE} of raw`, `${met.scores ? 'yes' : 'NO'}, verdicts as CPython's (${sum(phases.map((p) => p.scores.compared))} scores compared)`);
  }
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  const setup = setUp();
  const run = await runService(setup);
  const transformers = runTransformersColumn(setup, run.reference);
  const results = resultsOf(setup, run, transformers, ratiosOf(setup, run, transformers));
  const { stem, chart } = writeResults(setup, run, results);
  printSummary(run, transformers, results);
  say(`wrote ${setup.resultsDir}/${stem}.json${chart ? ' and .svg' : ''}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
