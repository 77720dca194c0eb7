// The CUDA path proved in one run (bench/gpu/smoke.sh runs this): on a machine with a GPU, node and
// the CUDA provider (npm run setup:cuda), against a real fp16 or bf16 export in MODEL_DIR.
//
//   1. the provider's libraries and the CUDA version they were built for (setup:cuda --check-only),
//      the GPU and its driver (nvidia-smi)                                                  [GPU only]
//   2. node placement from ONNX Runtime's verbose log, for the session the service creates (both
//      graphs joined): how many nodes each provider got, and no GroupQueryAttention on the CPU
//   3. the service started with EXECUTION_PROVIDER, /info reporting that provider
//   4. a GRPO group (8 programs under one question) scored with prefix sharing and without: the
//      largest |shared - whole|, within export.json's tolerance (1e-4 without one)
//   5. the model card's golden pair: the correct program above the wrong one           [real export]
//   6. GPU memory in use by the service                                                 [GPU only]
//
// SMOKE_PROVIDER=cpu runs every step but those marked GPU only on the CPU provider (npm test runs it
// so, on the demo model: test/system/gpu-smoke.test.ts); step 5 asserts only for a CodeScaler export
// (config _name_or_path or SMOKE_GOLDEN=1), since random weights rank at random. Exits 1 on a failed step.
//
//   npx tsx bench/gpu/smoke.ts [--model-dir DIR] [--out DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../../src/config.ts';
import { freePort, launch, REPO_ROOT, untilReady, type Launched } from '../../tools/service-command.ts';
import { parsePlacement } from './placement.ts';

const { values } = parseArgs({ options: { 'model-dir': { type: 'string' }, out: { type: 'string' } } });
const provider = process.env.SMOKE_PROVIDER ?? 'cuda';
const gpu = provider === 'cuda';
const modelDir = resolve(values['model-dir'] ?? process.env.MODEL_DIR ?? DEFAULT_MODEL_DIR);
const out = resolve(values.out ?? join(REPO_ROOT, 'bench', 'out', 'gpu-smoke'));
mkdirSync(out, { recursive: true });
const READY_MS = 300_000;

let failed = 0;
const say = (line: string) => console.log(line);
function check(ok: boolean, what: string): void {
  say(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  if (!ok) failed++;
}
const skip = (what: string, why: string) => say(`SKIP ${what} (${why})`);

function step1(): void {
  if (!gpu) return skip('1. CUDA provider libraries, GPU and driver', 'GPU only');
  const setup = spawnSync('npm', ['run', '--silent', 'setup:cuda', '--', '--check-only'], { cwd: REPO_ROOT, encoding: 'utf8' });
  say(setup.stdout.trim() + (setup.stderr ? `\n${setup.stderr.trim()}` : ''));
  check(setup.status === 0, '1. every library the CUDA provider links is found');
  say(execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' }).trim());
}

function step2(): void {
  const logPath = join(out, 'ort-verbose.log');
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'gpu', 'create-session.ts'), modelDir, provider], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 1 << 30 });
  writeFileSync(logPath, run.stdout + run.stderr);
  if (run.status !== 0) return check(false, `2. the service's session created on ${provider} (log: ${logPath})`);
  const placed = parsePlacement(run.stdout + run.stderr);
  for (const [ep, { nodes, ops }] of placed) say(`  ${ep}: ${nodes} nodes${ops.size ? ` (${[...ops].map(([op, n]) => `${op} ${n}`).join(', ')})` : ''}`);
  check(placed.size > 0, `2. ONNX Runtime reported node placement (log: ${logPath})`);
  if (!gpu) return skip('2. no GroupQueryAttention on the CPU', 'GPU only');
  const onCpu = placed.get('CPUExecutionProvider')?.ops.get('GroupQueryAttention') ?? 0;
  check(placed.has('CUDAExecutionProvider') && onCpu === 0, `2. attention on CUDA: ${onCpu} GroupQueryAttention nodes on the CPU`);
}

async function start(label: string, env: Record<string, string>): Promise<{ base: string; launched: Launched }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const launched = launch({ MODEL_DIR: modelDir, EXECUTION_PROVIDER: provider, HOST: '127.0.0.1', PORT: String(port), RESULT_CACHE_ITEMS: '0', LOG_LEVEL: 'warn', ...env }, [], { logPath: join(out, `service-${label}.log`) });
  await untilReady(launched, base, READY_MS);
  return { base, launched };
}

async function stop({ launched }: { launched: Launched }): Promise<void> {
  const exited = new Promise((r) => launched.child.once('exit', r));
  launched.child.kill('SIGTERM');
  await exited;
}

const fence = (code: string) => '```python\n' + code + '\n```';
const QUESTION = 'Write a function that parses a configuration file of key = value lines, skipping blank lines and comments that start with a hash, '
  + 'and returns a dictionary; values that look like integers become ints, everything else stays a string. Raise ValueError naming the line '
  + 'number for a line without an equals sign. Keep the order of the keys as they appear in the file.';
const PROGRAMS = Array.from({ length: 8 }, (_, i) => `def parse(text):\n    out = {}\n    for n, line in enumerate(text.splitlines(), ${i}):\n        out[n] = line.strip()[:${i + 3}]\n    return out`);

async function rawScores(base: string, items: { question: string; response: string }[]): Promise<number[]> {
  const res = await fetch(`${base}/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
  if (res.status !== 200) throw new Error(`/score answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { results: { raw_score: number }[] }).results.map((r) => r.raw_score);
}

function gpuMemory(pid: number): string {
  const apps = execFileSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader'], { encoding: 'utf8' });
  return apps.split('\n').find((l) => l.startsWith(`${pid},`))?.split(',')[1]?.trim() ?? `none listed for pid ${pid}: ${apps.trim()}`;
}

async function main(): Promise<void> {
  say(`gpu smoke: ${modelDir} on ${provider}; logs in ${out}`);
  step1();
  step2();
  const group = PROGRAMS.map((code) => ({ question: QUESTION, response: fence(code) }));
  const shared = await start('shared', { PREFIX_MIN_TOKENS: '32' });
  let sharedScores: number[];
  try {
    const info = (await (await fetch(`${shared.base}/info`)).json()) as { execution_provider: string; dtype: string; batching: Record<string, number> };
    say(`  /info: ${JSON.stringify({ execution_provider: info.execution_provider, dtype: info.dtype, ...info.batching })}`);
    check(info.execution_provider === provider, `3. /info reports ${provider}`);
    const sharedItems = async () => Number(/^reward_prefix_shared_items_total (\S+)/m.exec(await (await fetch(`${shared.base}/metrics`)).text())?.[1] ?? NaN);
    const before = await sharedItems();
    sharedScores = await rawScores(shared.base, group);
    check(await sharedItems() - before === group.length, `4. the group's ${group.length} programs ran against the question's shared keys and values`);
    const card = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'model-card.json'), 'utf8')) as Record<string, string>;
    const [correct, wrong] = await rawScores(shared.base, [card.program_correct, card.program_wrong].map((code) => ({ question: card.question, response: fence(code) })));
    const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as { _name_or_path?: string };
    const real = process.env.SMOKE_GOLDEN === '1' || /codescaler/i.test(config._name_or_path ?? '');
    say(`  golden pair: correct ${correct.toFixed(4)}, wrong ${wrong.toFixed(4)} (model card, fp32: 12.51 vs -0.47)`);
    if (real) check(correct > wrong, '5. the correct program scores above the wrong one');
    else skip('5. golden ordering asserted', 'not a CodeScaler export; set SMOKE_GOLDEN=1 to assert it anyway');
    if (gpu) say(`6. GPU memory used by the service: ${gpuMemory(shared.launched.child.pid!)}`);
    else skip('6. GPU memory', 'GPU only');
  } finally {
    await stop(shared);
  }
  const whole = await start('whole', { PREFIX_MIN_TOKENS: '0' });
  let wholeScores: number[];
  try {
    wholeScores = await rawScores(whole.base, group);
  } finally {
    await stop(whole);
  }
  const exportJson = join(modelDir, 'export.json');
  const tolerance = existsSync(exportJson) ? (JSON.parse(readFileSync(exportJson, 'utf8')) as { check?: { tolerance?: number } }).check?.tolerance ?? 1e-4 : 1e-4;
  const worst = Math.max(...sharedScores.map((s, i) => Math.abs(s - wholeScores[i])));
  say(`  shared ${sharedScores.map((s) => s.toFixed(4)).join(' ')}\n  whole  ${wholeScores.map((s) => s.toFixed(4)).join(' ')}`);
  check(Number.isFinite(worst) && worst <= tolerance, `4. shared vs whole scores on a GRPO group of 8: max |diff| ${worst.toExponential(2)} (tolerance ${tolerance})`);
  say(failed === 0 ? 'gpu smoke: all steps passed' : `gpu smoke: ${failed} step(s) FAILED`);
  process.exitCode = failed === 0 ? 0 : 1;
}

await main();
