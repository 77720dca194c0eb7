// The one seam between the service and whatever runs the network: a flat, right-padded batch in,
// one logit per row out. The HTTP layer never sees tensors; the model never sees HTTP.

export interface ModelBatch {
  /** Row-major [batchSize, seqLen] token ids, right-padded with the pad token. */
  inputIds: BigInt64Array<ArrayBuffer>;
  /** 1 for real tokens, 0 for padding, same layout. */
  attentionMask: BigInt64Array<ArrayBuffer>;
  batchSize: number;
  seqLen: number;
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

/** The buffers a batch's tensors live in, each once (postMessage refuses a buffer listed twice). */
export function batchBuffers(batch: ModelBatch): ArrayBuffer[] {
  return [...new Set([batch.inputIds.buffer, batch.attentionMask.buffer])];
}

export interface ModelInfo {
  name: string;
  dtype: string;
  executionProvider: string;
}

export interface RewardModel {
  readonly info: ModelInfo;
  /** Raw logits, one per row. Rejects with a ServiceError when the batch cannot run. */
  predict(batch: ModelBatch): Promise<Float32Array>;
  close(): Promise<void>;
}
