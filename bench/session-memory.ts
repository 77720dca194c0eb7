// Where the model worker's memory goes, part by part: ONNX Runtime sessions made the way the service
// makes them (src/model/session-options.ts; model.onnx alone, or joined with model-past.onnx under an
// If as src/model/single-session.ts does), with and without prepacked weights, each in a fresh process:
// resident bytes split into anonymous and file-backed (/proc/self/smaps_rollup) after creation and
// after a batch, and the peak. Then the speed that prepacking buys: both sessions in one process,
// batches alternating, so the shared machine's load falls on both alike.
//
//   npx tsx bench/session-memory.ts MODEL_DIR [--batch 2] [--seq 512] [--rounds 3]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../src/model/session-options.ts';
import { USE_PAST } from '../src/model/graph-names.ts';
import { singleSessionModel } from '../src/model/single-session.ts';
import { MiB } from './lib/stats.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batch: { type: 'string', default: '2' },
    seq: { type: 'string', default: '512' },
    rounds: { type: 'string', default: '3' },
    variant: { type: 'string' },
  },
});
const dir = positionals[0];
if (!dir) throw new Error('usage: bench/session-memory.ts MODEL_DIR');
const batch = Number(args.batch);
const seq = Number(args.seq);

interface Variant { joined: boolean; prepack: boolean }
const VARIANTS: Record<string, Variant> = {
  'model.onnx, prepacked': { joined: false, prepack: true },
  'model.onnx, not prepacked': { joined: false, prepack: false },
  'joined, prepacked': { joined: true, prepack: true },
  'joined, not prepacked': { joined: true, prepack: false },
};

function resident(): { anonymous: number; fileBacked: number; peak: number } {
  const text = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)![1]) * 1024;
  const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
  return { anonymous: kib('Anonymous'), fileBacked: kib('Rss') - kib('Anonymous'), peak };
}

async function create(v: Variant): Promise<ort.InferenceSession> {
  const options = sessionOptions(0, 'cpu', { externalDataDir: dir, prepack: v.prepack });
  return v.joined
    ? ort.InferenceSession.create(singleSessionModel(readFileSync(join(dir, 'model.onnx')), readFileSync(join(dir, 'model-past.onnx'))), options)
    : ort.InferenceSession.create(join(dir, 'model.onnx'), options);
}

function feeds(session: ort.InferenceSession, joined: boolean): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(batch * seq).map((_, i) => BigInt(1000 + ((i * 7919) % 100_000)));
  const out: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [batch, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
  };
  if (!joined) return out;
  out[USE_PAST] = new ort.Tensor('bool', [false], []);
  for (const name of session.inputNames.filter((n) => n.startsWith('past_'))) out[name] = new ort.Tensor('float32', new Float32Array(0), [1, 8, 0, 128]);
  return out;
}

async function timedRun(session: ort.InferenceSession, input: Record<string, ort.Tensor>): Promise<{ s: number; logit: number }> {
  const t = performance.now();
  const out = await session.run(input, ['logits']);
  return { s: (performance.now() - t) / 1000, logit: (out.logits.data as Float32Array)[0] };
}

if (args.variant) {
  // Child: one variant, fresh process.
  const v = VARIANTS[args.variant];
  const t = performance.now();
  const session = await create(v);
  const createS = (performance.now() - t) / 1000;
  const afterCreate = resident();
  await timedRun(session, feeds(session, v.joined));
  console.log(JSON.stringify({ createS, afterCreate, afterRun: resident() }));
} else {
  const mib = (b: number) => (b / MiB).toFixed(0).padStart(6);
  console.log(`${dir}: resident MiB per variant (fresh process each), batch ${batch}x${seq}`);
  console.log(`${'variant'.padEnd(28)} create s   anon  file  | after a batch: anon  file  | peak`);
  for (const name of Object.keys(VARIANTS)) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dir, '--variant', name, '--batch', String(batch), '--seq', String(seq)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${name}: ${child.stderr.slice(-2000)}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!);
    console.log(`${name.padEnd(28)} ${r.createS.toFixed(1).padStart(7)} ${mib(r.afterCreate.anonymous)} ${mib(r.afterCreate.fileBacked)}  |            ${mib(r.afterRun.anonymous)} ${mib(r.afterRun.fileBacked)}  | ${mib(r.afterRun.peak)}`);
  }
  // Speed: joined sessions, as the service runs, alternating.
  const on = await create(VARIANTS['joined, prepacked']);
  const off = await create(VARIANTS['joined, not prepacked']);
  const inputOn = feeds(on, true);
  const inputOff = feeds(off, true);
  await timedRun(on, inputOn);
  await timedRun(off, inputOff);
  const ratios: number[] = [];
  for (let r = 0; r < Number(args.rounds); r++) {
    const a = await timedRun(on, inputOn);
    const b = await timedRun(off, inputOff);
    ratios.push(b.s / a.s);
    console.log(`round ${r + 1}: prepacked ${a.s.toFixed(2)} s, not prepacked ${b.s.toFixed(2)} s (x${(b.s / a.s).toFixed(3)}); logits ${a.logit.toFixed(5)} / ${b.logit.toFixed(5)}`);
  }
  ratios.sort((x, y) => x - y);
  console.log(`not prepacked / prepacked time, median of ${ratios.length}: ${ratios[Math.floor(ratios.length / 2)].toFixed(3)}`);
}
