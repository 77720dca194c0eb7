// `npx tsx bench/profile-summary.ts DIR`: where the service's CPU went, from the .cpuprofile files that
// `npm run bench -- --cpu-prof` writes (one per thread: the event loop, each prep thread, the model
// worker). Self time is summed by part of the data path, so a change can be judged by the share of
// each part before and after it. The model worker's time inside ONNX Runtime's own threads is not in
// any profile (native threads are not sampled); its JavaScript thread shows only the call into it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** First match wins: the part of the data path a frame belongs to, by its script and function. */
const PARTS: [string, RegExp][] = [
  ['idle', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['native / runtime', /^\((program|root)\)$/],
  ['ONNX Runtime call', /onnxruntime-node|onnx-worker/],
  ['tokenizer', /@huggingface\/transformers|tokenizer-qwen3|src\/prompt\/prompt/],
  ['chat template', /@huggingface\/jinja|src\/prompt\/(python-|jinja-)/],
  ['extract + syntax check', /src\/(extract|python)\/|tree-sitter/],
  ['response serialisation', /fast-json-stringify|fastify\/lib\/(reply|schemas)|serializ/i],
  ['request parse + validation', /secure-json-parse|ajv|json-body|content-type-parser|fastify\/lib\/(validation|contentTypeParser)/],
  ['Fastify routing + hooks', /fastify|find-my-way|avvio|light-my-request|src\/http\//],
  ['HTTP (node:http, net)', /node:(_http|http|net|stream|internal\/(http|streams|stream_base)|_stream)/],
  ['batch queue', /src\/batch\//],
  ['model seam (dedup, message passing)', /src\/model\/|worker-supervisor|node:internal\/worker|MessagePort/],
  ['prep pool + scorer', /src\/(prep|scorer|shape|engine)/],
  ['metrics', /prom-client|src\/metrics/],
  ['logging', /pino|src\/log/],
  ['other node internals', /^node:/],
];

function partOf(frame: ProfileNode['callFrame']): string {
  const key = frame.url === '' ? frame.functionName : frame.url;
  for (const [part, pattern] of PARTS) if (pattern.test(key) || pattern.test(frame.functionName)) return part;
  return frame.url === '' ? `native: ${frame.functionName || '(anonymous)'}` : 'other';
}

/** Self time in ms by part within [fromUs, toUs) of the monotonic clock (the whole profile by default). */
export function summarize(profile: CpuProfile, fromUs = -Infinity, toUs = Infinity): { wallMs: number; byPart: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byPart = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, k) => {
    at += profile.timeDeltas[k];
    if (at < fromUs || at >= toUs) return;
    const part = partOf(byId.get(id)!.callFrame);
    byPart.set(part, (byPart.get(part) ?? 0) + profile.timeDeltas[k] / 1000);
  });
  return { wallMs: (Math.min(toUs, profile.endTime) - Math.max(fromUs, profile.startTime)) / 1000, byPart };
}

interface Phase {
  name: string;
  items: number;
  windowUs: [number, number];
}

/** The event loop writes the first profile; a worker is told by what it spends its time on. */
function threadLabel(profile: CpuProfile, k: number): string {
  if (k === 0) return 'event loop';
  const parts = summarize(profile).byPart;
  return (parts.get('tokenizer') ?? 0) > 0 ? 'prep thread' : (parts.get('ONNX Runtime call') ?? 0) > 0 ? 'model worker' : `worker ${k}`;
}

function main(): void {
  const dir = process.argv[2];
  const only = process.argv[3];
  if (!dir) {
    console.error('usage: npx tsx bench/profile-summary.ts DIR [PHASE] (a bench/out/profile-* folder; PHASE: e.g. "64 clients")');
    process.exit(2);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const profiles = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
  const phasesPath = join(dir, 'phases.json');
  const phases: Phase[] = existsSync(phasesPath) ? JSON.parse(readFileSync(phasesPath, 'utf8')) : [{ name: 'whole run', items: 0, windowUs: [-Infinity, Infinity] }];
  for (const phase of phases.filter((p) => only === undefined || p.name === only)) {
    console.log(`\n## ${phase.name}${phase.items ? `: ${phase.items} items, ${((phase.windowUs[1] - phase.windowUs[0]) / 1e6).toFixed(1)} s` : ''}`);
    profiles.forEach((profile, k) => {
      const { wallMs, byPart } = summarize(profile, ...phase.windowUs);
      const busy = [...byPart].filter(([part]) => part !== 'idle').reduce((sum, [, ms]) => sum + ms, 0);
      const perItem = (ms: number) => (phase.items ? `${(ms / phase.items).toFixed(2).padStart(6)} ms/item` : '');
      console.log(`${threadLabel(profile, k)}: busy ${(busy / 1000).toFixed(2)} s of ${(wallMs / 1000).toFixed(1)} s (${(100 * busy / wallMs).toFixed(0)}%) ${perItem(busy)}`);
      for (const [part, ms] of [...byPart].sort((a, b) => b[1] - a[1])) {
        if (part === 'idle' || ms < busy * 0.01) continue;
        console.log(`  ${part.padEnd(38)} ${(ms / 1000).toFixed(2).padStart(6)} s ${(100 * ms / busy).toFixed(1).padStart(5)}% ${perItem(ms)}`);
      }
    });
  }
}

main();
