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
