// Duplicate collapse and the result cache, as a RewardModel around any other: identical rows of a
// batch run once, rows seen before are answered from the cache, and only the rest reach the model,
// in a batch rebuilt with no more padding than its longest remaining row needs. A batch answered
// entirely from the cache never calls the model.
//
// A row's key is the SHA-256 of its real token ids: 44 bytes whatever the row's length, so the cache
// holds no token ids, and two different rows share a key only with probability ~2^-128 (no client
// can craft a collision to borrow another row's score). The cache belongs to one model instance, so
// the key needs no model name.
import { createHash } from 'node:crypto';
import type { Metrics } from '../metrics.ts';
import { ResultCache } from './result-cache.ts';
import { allocateBatch, type ModelBatch, type ModelInfo, type RewardModel } from './reward-model.ts';

export class DedupingRewardModel implements RewardModel {
  private readonly cache: ResultCache;

  /** cacheItems 0 turns the cache off; identical rows of one batch still run once. */
  constructor(
    private readonly inner: RewardModel,
    cacheItems: number,
    private readonly metrics?: Metrics,
  ) {
    this.cache = new ResultCache(cacheItems);
  }

  get info(): ModelInfo {
    return this.inner.info;
  }

  async predict(batch: ModelBatch): Promise<Float32Array> {
    const { batchSize } = batch;
    const logits = new Float32Array(batchSize);
    const lengths = new Int32Array(batchSize);
    /** Each row's place in the batch that runs, or -1 when the cache answered it. */
    const slot = new Int32Array(batchSize).fill(-1);
    const slotOfKey = new Map<string, number>();
    const runRows: number[] = [];
    const runKeys: string[] = [];
    let hits = 0;
    let collapsed = 0;
    for (let row = 0; row < batchSize; row++) {
      lengths[row] = rowLength(batch, row);
      const key = rowKey(batch, row, lengths[row]);
      const shared = slotOfKey.get(key);
      if (shared !== undefined) {
        slot[row] = shared;
        collapsed++;
        continue;
      }
      const cached = this.cache.get(key);
      if (cached !== undefined) {
        logits[row] = cached;
        hits++;
        continue;
      }
      slot[row] = runRows.length;
      slotOfKey.set(key, runRows.length);
      runRows.push(row);
      runKeys.push(key);
    }
    this.count(hits, runRows.length, collapsed);
    if (runRows.length === 0) return logits;

    const ran = await this.inner.predict(runRows.length === batchSize ? batch : selectRows(batch, runRows, lengths));
    runKeys.forEach((key, i) => this.cache.set(key, ran[i]));
    this.metrics?.resultCacheItems.set(this.cache.size);
    for (let row = 0; row < batchSize; row++) if (slot[row] >= 0) logits[row] = ran[slot[row]];
    return logits;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private count(hits: number, misses: number, collapsed: number): void {
    const m = this.metrics;
    if (!m) return;
    if (this.cache.capacity > 0) {
      m.resultCacheHits.inc(hits);
      m.resultCacheMisses.inc(misses);
    }
    m.collapsedItems.inc(collapsed);
  }
}

/**
 * 32-bit little-endian view of an int64 tensor, as the queue writes it: element i is words 2i (low)
 * and 2i + 1 (high). Reading BigInts one by one would allocate per token.
 */
function words(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Real tokens of a row: the mask's leading ones. A hole in the mask breaks the seam's contract. */
function rowLength(batch: ModelBatch, row: number): number {
  const mask = words(batch.attentionMask);
  const base = 2 * row * batch.seqLen;
  let length = 0;
  while (length < batch.seqLen && mask[base + 2 * length] === 1 && mask[base + 2 * length + 1] === 0) length++;
  for (let t = length; t < batch.seqLen; t++) {
    if (mask[base + 2 * t] !== 0 || mask[base + 2 * t + 1] !== 0) {
      throw new Error(`batch row ${row} is not right-padded: mask set at ${t} after padding at ${length}; this is a bug`);
    }
  }
  return length;
}

function rowKey(batch: ModelBatch, row: number, length: number): string {
  const { inputIds, seqLen } = batch;
  const bytes = new Uint8Array(inputIds.buffer, inputIds.byteOffset + row * seqLen * 8, length * 8);
  return createHash('sha256').update(bytes).digest('base64');
}

/**
 * The given rows, each cut to the longest of them: its own padding comes along, so no pad id is
 * needed. A subset of a prefix group still shares its prefix.
 */
function selectRows(batch: ModelBatch, rows: readonly number[], lengths: Int32Array): ModelBatch {
  const seqLen = rows.reduce((max, row) => Math.max(max, lengths[row]), 0);
  const selected: ModelBatch = { ...allocateBatch(rows.length, seqLen), ...(batch.prefixLength !== undefined && { prefixLength: batch.prefixLength }) };
  rows.forEach((row, i) => {
    const from = row * batch.seqLen;
    selected.inputIds.set(batch.inputIds.subarray(from, from + seqLen), i * seqLen);
    selected.attentionMask.set(batch.attentionMask.subarray(from, from + seqLen), i * seqLen);
  });
  return selected;
}
