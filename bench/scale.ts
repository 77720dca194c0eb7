// `npm run bench:scale`: replicas behind deploy/nginx (tools/scale/cluster.ts, built as `npm start`
// runs it) on the bench model, GRPO groups of 8 sent one sample per request as veRL sends them, with
// the x-reward-group header and without it, at 1, 2 and 3 replicas: items/s and the compute the
// replicas saved together (reward_computed_tokens_total against the tokens asked for), side by side
// from one run. Each phase scores fresh groups, so no cache carries one phase into the next. Each
// replica gets one ONNX Runtime thread: on this 2-core machine, 1 and 2 replicas have a core each
// and 3 share them, so compare ratios, not rates.
// A group's 8 requests go together, --clients groups in flight.
// Options: --groups N (groups per phase, default 8), --clients N (groups in flight, 2),
// --question-words N (about a token each, 500), --replicas 1,2,3.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ensureModel } from '../tools/make-model/index.ts';
import { freePort } from '../tools/service-command.ts';
import { LocalCluster } from '../tools/scale/cluster.ts';
import { runClients } from './lib/load.ts';
import { grpoGroups, savedShare, tokensOf } from './lib/scale.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const GROUP = 8;

const { values: args } = parseArgs({
  options: {
    groups: { type: 'string', default: '8' },
    clients: { type: 'string', default: '2' },
    'question-words': { type: 'string', default: '500' },
    replicas: { type: 'string', default: '1,2,3' },
  },
});
const groups = Number(args.groups);
const clients = Number(args.clients);
const questionWords = Number(args['question-words']);
const replicaCounts = args.replicas.split(',').map(Number);

interface Row {
  replicas: number;
  keyed: { itemsPerS: number; saved: number };
  keyless: { itemsPerS: number; saved: number };
}

async function main(): Promise<void> {
  const modelDir = `${REPO}models/bench-random-qwen3-rm`;
  if (ensureModel(modelDir, 'bench').built) console.log('built the bench model');
  const env = { MODEL_DIR: modelDir, EXECUTION_PROVIDER: 'cpu', INTRA_OP_THREADS: '1', PREP_THREADS: '1', LOG_LEVEL: 'warn' };
  const rows: Row[] = [];
  let seed = 100;
  for (const n of replicaCounts) {
    const cluster = await LocalCluster.start({ replicas: n, port: await freePort(), env, launch: { built: true }, readyTimeoutMs: 600_000 });
    try {
      const bases = cluster.replicas.map((r) => r.base);
      const phase = async (keyed: boolean) => {
        const items = grpoGroups(seed++, groups, GROUP, questionWords);
        const before = await tokensOf(bases);
        const result = await runClients(cluster.base, items, clients, { keyed, requestsAtOnce: GROUP });
        if (Object.keys(result.failures).length > 0) throw new Error(`failed requests: ${JSON.stringify(result.failures)}`);
        const saved = savedShare(before, await tokensOf(bases));
        console.log(`${n} replica(s), ${keyed ? 'with the key   ' : 'without the key'}: ${(items.length / result.wallS).toFixed(2)} items/s, ${(100 * saved).toFixed(1)}% of the compute saved (load ${loadavg()[0].toFixed(1)})`);
        return { itemsPerS: items.length / result.wallS, saved };
      };
      // A warm-up group on every replica, so the first phase does not pay for start-up.
      await runClients(cluster.base, grpoGroups(seed++, 3 * n, GROUP, 50), clients, { keyed: false });
      rows.push({ replicas: n, keyed: await phase(true), keyless: await phase(false) });
    } finally {
      await cluster.stop();
    }
  }

  const base = rows[0].keyed.itemsPerS;
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  console.log(`\n${groups} groups of ${GROUP} (~${questionWords}-word questions), one sample a request, ${clients} groups in flight; items/s relative to ${rows[0].replicas} replica(s) with the key`);
  console.log('| replicas | items/s with key | items/s without | with / without | saved with key | saved without |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.replicas} | ${r.keyed.itemsPerS.toFixed(2)} (${(r.keyed.itemsPerS / base).toFixed(2)}x) | ${r.keyless.itemsPerS.toFixed(2)} (${(r.keyless.itemsPerS / base).toFixed(2)}x) | ${(r.keyed.itemsPerS / r.keyless.itemsPerS).toFixed(2)} | ${pct(r.keyed.saved)} | ${pct(r.keyless.saved)} |`);
  }
}

await main();
