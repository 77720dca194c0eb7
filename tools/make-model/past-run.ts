// Running model-past.onnx: a shared prefix's keys and values in, a batch of suffixes' logits and
// their own keys and values out (names in src/model/graph-names.ts, shapes in qwen3-graph.ts).

import * as ort from 'onnxruntime-node';
import { ATTENTION_MASK, INPUT_IDS, LOGITS, pastKeyName, pastValueName, presentKeyName, presentValueName } from '../../src/model/graph-names.ts';
import { type PaddedBatch, int64Matrix } from './padded-batch.ts';

/** Per layer, [batch, kv_heads, len, head_dim] tensors; a past has batch 1. */
export interface KeyValues {
  keys: ort.Tensor[];
  values: ort.Tensor[];
}

export interface PastShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

/** past_len 0: the past a prefix pass runs with. */
export function emptyPast({ layers, kvHeads, headDim }: PastShape): KeyValues {
  const empty = () => new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim]);
  return { keys: Array.from({ length: layers }, empty), values: Array.from({ length: layers }, empty) };
}

/**
 * Logits of each suffix row against `past`, and this call's present keys and values. `extra`: more
 * inputs, such as use_past for the service's one session of both graphs (src/model/single-session.ts).
 */
export async function runPast(
  session: ort.InferenceSession,
  batch: PaddedBatch,
  past: KeyValues,
  extra: Record<string, ort.Tensor> = {},
): Promise<{ logits: number[]; present: KeyValues }> {
  const feeds: Record<string, ort.Tensor> = { [INPUT_IDS]: int64Matrix(batch.inputIds), [ATTENTION_MASK]: int64Matrix(batch.attentionMask), ...extra };
  past.keys.forEach((key, i) => {
    feeds[pastKeyName(i)] = key;
    feeds[pastValueName(i)] = past.values[i];
  });
  const out = await session.run(feeds);
  const layers = past.keys.map((_, i) => i);
  return {
    logits: Array.from(out[LOGITS].data as Float32Array),
    present: { keys: layers.map((i) => out[presentKeyName(i)]), values: layers.map((i) => out[presentValueName(i)]) },
  };
}
