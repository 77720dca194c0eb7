// Right-padded batches as the service builds them, and running one through an ONNX session.

import * as ort from 'onnxruntime-node';
import { ATTENTION_MASK, INPUT_IDS, LOGITS } from '../../src/model/graph-names.ts';
import { PAD_TOKEN_ID } from './config.ts';

export interface PaddedBatch {
  inputIds: number[][];
  attentionMask: number[][];
}

/** Pads every sequence on the right with the pad id (mask 0) to the longest length, or to `length`. */
export function padRight(
  sequences: readonly (readonly number[])[],
  length = Math.max(...sequences.map((s) => s.length)),
  padId = PAD_TOKEN_ID,
): PaddedBatch {
  return {
    inputIds: sequences.map((s) => [...s, ...Array<number>(length - s.length).fill(padId)]),
    attentionMask: sequences.map((s) => [...Array<number>(s.length).fill(1), ...Array<number>(length - s.length).fill(0)]),
  };
}

export const int64Matrix = (rows: readonly (readonly number[])[]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

/** One logit per row, from a session over model.onnx. */
export async function onnxLogits(session: ort.InferenceSession, batch: PaddedBatch): Promise<number[]> {
  const out = await session.run({ [INPUT_IDS]: int64Matrix(batch.inputIds), [ATTENTION_MASK]: int64Matrix(batch.attentionMask) });
  return Array.from(out[LOGITS].data as Float32Array);
}
