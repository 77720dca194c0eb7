import type { ModelBatch } from '../../src/model/reward-model.ts';

/** Qwen3's pad id (<|endoftext|>), which the tests' batches pad with. */
export const PAD = 151643;

/** Rows right-padded to seqLen (default and at least: the longest row) with `pad`, as the queue lays a batch out. */
export function batchOf(rows: readonly (readonly number[])[], opts: { seqLen?: number; pad?: number } = {}): ModelBatch {
  const seqLen = opts.seqLen ?? Math.max(...rows.map((r) => r.length));
  const inputIds = new BigInt64Array(rows.length * seqLen).fill(BigInt(opts.pad ?? PAD));
  const attentionMask = new BigInt64Array(rows.length * seqLen);
  rows.forEach((r, i) => r.forEach((id, t) => {
    inputIds[i * seqLen + t] = BigInt(id);
    attentionMask[i * seqLen + t] = 1n;
  }));
  return { inputIds, attentionMask, batchSize: rows.length, seqLen };
}
