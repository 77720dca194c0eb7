// The one seam between the service and whatever runs the network: a flat, right-padded batch in,
// one logit per row out. The HTTP layer never sees tensors; the model never sees HTTP.
import type { CachedPrefixes } from './prefix-cache.ts';
import type { WorkerHealth } from '../worker-supervisor.ts';

export interface ModelBatch {
  /** Row-major [batchSize, seqLen] token ids, right-padded with the pad token. */
  inputIds: BigInt64Array<ArrayBuffer>;
  /** 1 for real tokens, 0 for padding, same layout. */
  attentionMask: BigInt64Array<ArrayBuffer>;
  batchSize: number;
  seqLen: number;
  /**
   * Set by the queue on a prefix group: every row starts with the same prefixLength tokens, which
   * other waiting rows share too, so they are worth running once and caching. A model that cannot
   * share prefixes ignores it.
   */
  prefixLength?: number;
}

/**
 * An empty batch whose two tensors share one buffer (ids first, then the mask), so it crosses to the
 * model worker as one transfer. Zero-filled: every id the pad id 0 and every mask entry padding.
 */
export function allocateBatch(batchSize: number, seqLen: number): ModelBatch {
  const cells = batchSize * seqLen;
  const buffer = new ArrayBuffer(2 * cells * BigInt64Array.BYTES_PER_ELEMENT);
  return {
    inputIds: new BigInt64Array(buffer, 0, cells),
    attentionMask: new BigInt64Array(buffer, cells * BigInt64Array.BYTES_PER_ELEMENT, cells),
    batchSize,
    seqLen,
  };
}

/**
 * Rows of token ids right-padded to seqLen with the pad id, in one buffer (allocateBatch). Written
 * through 32-bit views: ids are non-negative and < 2^31, so each high word stays 0.
 */
export function rightPadded(rows: readonly ArrayLike<number>[], seqLen: number, padTokenId: number): ModelBatch {
  const batch = allocateBatch(rows.length, seqLen);
  const ids32 = new Int32Array(batch.inputIds.buffer, batch.inputIds.byteOffset, 2 * batch.inputIds.length);
  const mask32 = new Int32Array(batch.attentionMask.buffer, batch.attentionMask.byteOffset, 2 * batch.attentionMask.length);
  for (let row = 0; row < rows.length; row++) {
    const ids = rows[row];
    let k = 2 * row * seqLen;
    for (let t = 0; t < ids.length; t++, k += 2) {
      ids32[k] = ids[t];
      mask32[k] = 1;
    }
    for (let t = ids.length; t < seqLen; t++, k += 2) ids32[k] = padTokenId;
  }
  return batch;
}

/** The buffers a batch's tensors live in, each once (postMessage refuses a buffer listed twice). */
export function batchBuffers(batch: Pick<ModelBatch, 'inputIds' | 'attentionMask'>): ArrayBuffer[] {
  return [...new Set([batch.inputIds.buffer, batch.attentionMask.buffer])];
}

export interface ModelInfo {
  name: string;
  dtype: string;
  executionProvider: string;
}

export interface RewardModel {
  readonly info: ModelInfo;
  /** Present where the model runs on a supervised thread, for /ready and /health. */
  readonly health?: WorkerHealth;
  /** Raw logits, one per row. Rejects with a ServiceError when the batch cannot run. */
  predict(batch: ModelBatch): Promise<Float32Array>;
  close(): Promise<void>;
}

/**
 * Suffixes that all continue one shared prefix (model-past.onnx): the batch holds only the suffix
 * tokens, right-padded; the model computes the prefix's keys and values, or takes them from its
 * prefix cache, where they stay beside the session that uses them.
 */
export interface SuffixBatch extends ModelBatch {
  prefixIds: Int32Array;
  /** The prefix cache's key: a hash of prefixIds. The model keeps the prefix's keys and values under it when they fit its cache. */
  prefixKey: string;
  /**
   * Largest pieces × piece length × (past + piece length) of one run when the prefix must be
   * computed: a long prefix runs in pieces, each against the keys and values of those before it, so
   * its attention scores stay within MAX_BATCH_ATTENTION. 0 or unset: one run.
   */
  maxAttention?: number;
}

export interface SuffixRun {
  logits: Float32Array;
  /** The prefix's keys and values came from the cache (false: the prefix ran first). */
  prefixHit: boolean;
  /** Bytes of keys and values the prefix cache holds after this run. */
  cacheBytes: number;
}

/** A RewardModel that may also score suffixes against a shared prefix. */
export interface PrefixRewardModel extends RewardModel {
  /** False when the model has no past-keys graph (a model directory without model-past.onnx). */
  readonly canSharePrefixes: boolean;
  /** The prefixes the model holds once the suffix batches sent so far have run: the one record of its prefix cache. */
  readonly prefixCache: CachedPrefixes;
  predictSuffixes(batch: SuffixBatch): Promise<SuffixRun>;
}

export function sharesPrefixes(model: RewardModel): model is PrefixRewardModel {
  return (model as Partial<PrefixRewardModel>).canSharePrefixes === true;
}
