// The yardstick: the same prompts through onnxruntime-node in this process, with nothing around it.
// Tokenized and padded up front, sorted by length, cut by the service's batch limits, run back to
// back on a session with the service's thread count and options. Only session.run is timed.
import * as ort from 'onnxruntime-node';
import type { Config } from '../../src/config.ts';
import { extractCode } from '../../src/extract/fences.ts';
import type { ModelDir } from '../../src/model/model-dir.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { padRight } from '../../tools/make-model/index.ts';
import type { BenchItem } from './corpus.ts';
import { sum } from './stats.ts';
import { sessionOptions } from '../../src/model/session-options.ts';

export interface RawRun {
  items: number;
  batches: number;
  wallS: number;
  /** CPU seconds of this process (all threads) over the timed loop. */
  cpuS: number;
  itemsPerS: number;
  tokensPerS: number;
  paddingShare: number;
  /** Raw logit per item index. */
  logits: Map<number, number>;
}

export interface Encoded {
  index: number;
  ids: number[];
}

/** The service's prompt for each valid item: extraction, chat template, tokenization, truncation. */
export function encodeItems(items: readonly BenchItem[], md: ModelDir, config: Config): Encoded[] {
  const encoder = new PromptEncoder(md, config.MAX_LENGTH);
  return items.filter((it) => it.valid).map((it) => {
    const extracted = extractCode(it.response, 'single_block');
    if (extracted.status !== 'ok') throw new Error(`bench item ${it.index} (${it.source}): extraction ${extracted.status}`);
    return { index: it.index, ids: Array.from(encoder.encodeChat(it.question, extracted.code).ids) };
  });
}

/** Token ids of exactly `length` tokens, cut from the corpus prompts laid end to end. */
export function syntheticPrompts(prompts: readonly Encoded[], length: number, count: number): Encoded[] {
  const stream = prompts.flatMap((p) => p.ids);
  return Array.from({ length: count }, (_, index) => {
    const start = (index * 997) % Math.max(1, stream.length - length);
    const ids = stream.slice(start, start + length);
    while (ids.length < length) ids.push(...stream.slice(0, length - ids.length));
    return { index, ids };
  });
}

/**
 * Shortest first; a batch grows while it keeps within the service's limits: MAX_BATCH_TOKENS padded
 * tokens, MAX_BATCH_ATTENTION rows × length², MAX_BATCH_ITEMS items, MAX_PADDING_SHARE padding.
 */
export function cutBatches(prompts: readonly Encoded[], config: Pick<Config, 'MAX_BATCH_TOKENS' | 'MAX_BATCH_ATTENTION' | 'MAX_BATCH_ITEMS' | 'MAX_PADDING_SHARE'>): Encoded[][] {
  const sorted = [...prompts].sort((a, b) => a.ids.length - b.ids.length || a.index - b.index);
  const batches: Encoded[][] = [];
  let current: Encoded[] = [];
  let real = 0;
  for (const p of sorted) {
    const padded = (current.length + 1) * p.ids.length;
    const fits = current.length < config.MAX_BATCH_ITEMS && padded <= config.MAX_BATCH_TOKENS
      && (config.MAX_BATCH_ATTENTION === 0 || (current.length + 1) * p.ids.length ** 2 <= config.MAX_BATCH_ATTENTION)
      && padded - (real + p.ids.length) <= config.MAX_PADDING_SHARE * padded;
    if (current.length > 0 && !fits) {
      batches.push(current);
      current = [];
      real = 0;
    }
    current.push(p);
    real += p.ids.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The service's own session options, on the provider the service ended up with. */
export function createSession(onnxPath: string, config: Config, provider: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnxPath, sessionOptions(config.INTRA_OP_THREADS, provider, { prepack: config.PREPACK_WEIGHTS === 'on' }));
}

const int64 = (rows: readonly (readonly number[])[]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

export async function runRawLoop(
  session: ort.InferenceSession,
  prompts: readonly Encoded[],
  config: Config,
  progress: (done: number, total: number) => void,
): Promise<RawRun> {
  const batches = cutBatches(prompts, config);
  const feeds = batches.map((b) => {
    const padded = padRight(b.map((p) => p.ids));
    return { input_ids: int64(padded.inputIds), attention_mask: int64(padded.attentionMask) };
  });
  // One small batch first, as the service's warm-up does.
  await session.run({ input_ids: int64([prompts[0].ids]), attention_mask: int64([prompts[0].ids.map(() => 1)]) });

  const logits = new Map<number, number>();
  let done = 0;
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  for (let k = 0; k < batches.length; k++) {
    const out = await session.run(feeds[k]);
    const data = out.logits.data as Float32Array;
    batches[k].forEach((p, row) => logits.set(p.index, data[row]));
    done += batches[k].length;
    progress(done, prompts.length);
  }
  const wallS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const real = sum(prompts.map((p) => p.ids.length));
  const padded = sum(batches.map((b) => b.length * b[b.length - 1].ids.length));
  return {
    items: prompts.length,
    batches: batches.length,
    wallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    itemsPerS: prompts.length / wallS,
    tokensPerS: real / wallS,
    paddingShare: (padded - real) / padded,
    logits,
  };
}
