// The names of the graphs' inputs and outputs, written once for the service (onnx-worker.ts,
// single-session.ts) and the model maker (tools/make-model). scripts/past_graph.py, the torch
// exporter, spells the same names in Python; test/system/graph-names.test.ts runs it and compares.
//
//   model.onnx        input_ids, attention_mask → logits
//   model-past.onnx   input_ids, attention_mask, past_key.{i}, past_value.{i}
//                       → logits, present_key.{i}, present_value.{i}
//   one session       model-past.onnx's inputs + use_past (single-session.ts) → its outputs

export const INPUT_IDS = 'input_ids';
export const ATTENTION_MASK = 'attention_mask';
export const LOGITS = 'logits';
/** The one session's bool scalar that picks model-past.onnx's graph (true) or model.onnx's (false). */
export const USE_PAST = 'use_past';

export const pastKeyName = (layer: number): string => `past_key.${layer}`;
export const pastValueName = (layer: number): string => `past_value.${layer}`;
export const presentKeyName = (layer: number): string => `present_key.${layer}`;
export const presentValueName = (layer: number): string => `present_value.${layer}`;

/** model-past.onnx's input and output names, in the graph's order. */
export function pastGraphNames(layers: number): { inputs: string[]; outputs: string[] } {
  const inputs = [INPUT_IDS, ATTENTION_MASK];
  const outputs = [LOGITS];
  for (let i = 0; i < layers; i++) {
    inputs.push(pastKeyName(i), pastValueName(i));
    outputs.push(presentKeyName(i), presentValueName(i));
  }
  return { inputs, outputs };
}
