// `npx tsx bench/dedup.ts`: duplicate collapse and the result cache on GRPO-shaped groups, in one run.
//
//   stdlib functions ─► groups of G programs under one question, each group one request (OpenRLHF
//   v0.9 sends a group at once), all groups of a rollout submitted together
//   ─► the service's BatchQueue over the bare ONNX model ("off") and over DedupingRewardModel ("on"),
//      alternating off, on, off, on, each "on" with an empty cache
//   ─► workloads: every program distinct, and half of each group's programs duplicates
//
// Prints items/s per run, the on/off ratio from the best of each, the model rows each ran, and the
// largest difference between on and off logits (they must be equal). Options: --preset bench|tiny,
// --groups N, --group-size G, --seed N.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BatchQueue } from '../src/batch/queue.ts';
import { batchAttentionBudget, batchTokenBudget, loadConfig } from '../src/config.ts';
import { extractCode } from '../src/extract/fences.ts';
import { DedupingRewardModel } from '../src/model/deduping-model.ts';
import { loadModelDir } from '../src/model/model-dir.ts';
import { modelShape } from '../src/provider-defaults.ts';
import { OnnxRewardModel } from '../src/model/onnx-model.ts';
import type { ModelBatch, ModelInfo, RewardModel } from '../src/model/reward-model.ts';
import { PromptEncoder } from '../src/prompt/prompt.ts';
import { mulberry32 } from '../tools/mulberry32.ts';
import { ensureModel } from '../tools/make-model/index.ts';
import { buildCorpus } from './lib/corpus.ts';
import { shuffle } from './lib/stats.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'bench' },
    groups: { type: 'string', default: '12' },
    'group-size': { type: 'string', default: '8' },
    seed: { type: 'string', default: '14' },
  },
});

/** Counts the rows and real tokens that reach the model. */
class Counting implements RewardModel {
  rows = 0;
  tokens = 0;
  constructor(private readonly inner: RewardModel) {}
  get info(): ModelInfo {
    return this.inner.info;
  }
  predict(batch: ModelBatch): Promise<Float32Array> {
    this.rows += batch.batchSize;
    for (const m of batch.attentionMask) this.tokens += Number(m);
    return this.inner.predict(batch);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function main(): Promise<void> {
  const preset = args.preset as 'bench' | 'tiny';
  const groups = Number(args.groups);
  const groupSize = Number(args['group-size']);
  const modelPath = `${REPO}models/${preset}-random-qwen3-rm`;
  ensureModel(modelPath, preset);
  const md = loadModelDir(modelPath);
  const config = loadConfig(process.env);
  const corpus = buildCorpus({ count: groups * groupSize, seed: Number(args.seed), invalidShare: 0 });
  const encoder = new PromptEncoder(md, config.MAX_LENGTH);
  const rand = mulberry32(Number(args.seed));
  const encode = (question: string, response: string) => {
    const extracted = extractCode(response, 'single_block');
    if (extracted.status !== 'ok') throw new Error(`extraction ${extracted.status}`);
    return encoder.encodeChat(question, extracted.code).ids;
  };
  // Every group: the first item's question over groupSize programs of the corpus. "half duplicates"
  // keeps the first half of each group's programs and repeats each once, shuffled.
  const workloads: Record<string, Int32Array[][]> = { distinct: [], 'half duplicates': [] };
  for (let g = 0; g < groups; g++) {
    const members = corpus.items.slice(g * groupSize, (g + 1) * groupSize);
    const question = members[0].question;
    workloads.distinct.push(members.map((it) => encode(question, it.response)));
    const half = members.slice(0, groupSize / 2).map((it) => encode(question, it.response));
    workloads['half duplicates'].push(shuffle([...half, ...half], rand));
  }

  const bare = await OnnxRewardModel.create({
    onnxPath: md.onnxPath, provider: 'cpu', intraOpThreads: config.INTRA_OP_THREADS, nice: 0,
    name: md.name, dtype: md.dtype, retryAfterS: 1, log: { info() {}, warn: console.warn, error: console.error },
  });
  const provider = bare.info.executionProvider;
  const queueOptions = {
    maxBatchTokens: batchTokenBudget(config, provider, modelShape(md.config, md.dtype)),
    maxBatchAttention: batchAttentionBudget(config, provider, modelShape(md.config, md.dtype)),
    maxBatchItems: config.MAX_BATCH_ITEMS,
    maxPaddingShare: config.MAX_PADDING_SHARE,
    maxWaitMs: config.MAX_WAIT_MS,
    maxQueueItems: 1 << 20,
    admissionTimeoutMs: 0,
    padTokenId: md.padTokenId,
    retryAfterS: 1,
  };
  const run = async (requests: Int32Array[][], cacheOn: boolean) => {
    const counted = new Counting(bare);
    const model = cacheOn ? new DedupingRewardModel(counted, config.RESULT_CACHE_ITEMS) : counted;
    const queue = new BatchQueue(model, queueOptions);
    const started = performance.now();
    const logits = await Promise.all(requests.map((ids) => Promise.all(queue.submit(ids))));
    const wallS = (performance.now() - started) / 1000;
    await queue.drain();
    const items = requests.reduce((s, r) => s + r.length, 0);
    return { itemsPerS: items / wallS, rows: counted.rows, tokens: counted.tokens, logits: logits.flat().map((s) => s.logit) };
  };

  console.log(`model ${md.name} (${provider}), ${groups} groups of ${groupSize}, one request per group, all at once; load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
  await run([workloads.distinct[0].slice(0, 1)], false);
  for (const [name, requests] of Object.entries(workloads)) {
    const best = { off: 0, on: 0 };
    let rows = { off: 0, on: 0 };
    let maxDiff = 0;
    let reference: number[] | undefined;
    for (const cacheOn of [false, true, false, true]) {
      const r = await run(requests, cacheOn);
      const mode = cacheOn ? 'on' : 'off';
      best[mode] = Math.max(best[mode], r.itemsPerS);
      rows = { ...rows, [mode]: r.rows };
      reference ??= r.logits;
      r.logits.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - reference![i]))));
      console.log(`  ${name.padEnd(16)} ${mode.padEnd(3)} ${r.itemsPerS.toFixed(1).padStart(7)} items/s  ${r.rows} model rows, ${r.tokens} model tokens`);
    }
    console.log(`${name}: on/off ${(best.on / best.off).toFixed(2)}x items/s (best of 2 each), model rows ${rows.on} vs ${rows.off}, largest |on - off| logit ${maxDiff}`);
  }
  await bare.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
