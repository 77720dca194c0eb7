// A plain float64 forward pass of Qwen3ForSequenceClassification, written from
// the HF modeling code independently of the ONNX graph. It reads the weights from
// model.safetensors, so agreeing with model.onnx also proves the two files hold
// the same weights.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Qwen3Dims, dimsFromConfig, layerPrefix } from './config.ts';
import { ropeInverseFrequencies } from './qwen3-graph.ts';
import { readSafetensors } from './safetensors.ts';
import type { Weights } from './weights.ts';

/** HF fills masked attention scores with torch.finfo(float32).min (added, so a fully masked row is uniform). */
const MASK_FILL = -3.4028234663852886e38;

export interface ReferenceModel {
  dims: Qwen3Dims;
  weights: Weights;
}

export function loadReferenceModel(dir: string): ReferenceModel {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  return { dims: dimsFromConfig(config), weights: readSafetensors(join(dir, 'model.safetensors')) };
}

type Vec = Float64Array;
type TokenRows = readonly (readonly number[])[];

function param(model: ReferenceModel, name: string): Float32Array {
  const w = model.weights.get(name);
  if (w === undefined) throw new Error(`model.safetensors has no ${name}`);
  return w.data;
}

/** y = W x for an HF linear weight W [out, in]. */
function linear(w: Float32Array, x: Vec): Vec {
  const inF = x.length;
  const y = new Float64Array(w.length / inF);
  for (let o = 0; o < y.length; o++) {
    let sum = 0;
    for (let i = 0; i < inF; i++) sum += w[o * inF + i] * x[i];
    y[o] = sum;
  }
  return y;
}

/** RMSNorm of each `width`-long group of x (a whole hidden vector, or one attention head). */
function rmsNorm(x: Vec, weight: Float32Array, eps: number): Vec {
  const width = weight.length;
  const y = new Float64Array(x.length);
  for (let start = 0; start < x.length; start += width) {
    let sumSq = 0;
    for (let i = 0; i < width; i++) sumSq += x[start + i] ** 2;
    const scale = 1 / Math.sqrt(sumSq / width + eps);
    for (let i = 0; i < width; i++) y[start + i] = weight[i] * x[start + i] * scale;
  }
  return y;
}

/** Rotates each head in place: x*cos + rotate_half(x)*sin with HF's first-half/second-half pairing. */
function applyRope(x: Vec, headDim: number, cos: Vec, sin: Vec): void {
  const half = headDim / 2;
  for (let start = 0; start < x.length; start += headDim) {
    for (let j = 0; j < half; j++) {
      const a = x[start + j];
      const b = x[start + j + half];
      x[start + j] = a * cos[j] - b * sin[j];
      x[start + j + half] = b * cos[j] + a * sin[j];
    }
  }
}

/** A sequence's logit, and each layer's keys (after rotary) and values per position, [kv_heads * head_dim] each. */
export interface ReferenceSequence {
  logit: number;
  keys: Float64Array[][];
  values: Float64Array[][];
}

function forwardSequence(model: ReferenceModel, ids: readonly number[], mask: readonly number[]): ReferenceSequence {
  const { dims } = model;
  const { hidden_size: hidden, head_dim: headDim, rms_norm_eps: eps } = dims;
  const { num_attention_heads: heads, num_key_value_heads: kvHeads } = dims;
  const seq = ids.length;
  const groups = heads / kvHeads;

  // Rotary angles: position * inv_freq, both float32 in HF, then cos/sin.
  const invFreq = ropeInverseFrequencies(headDim, dims.rope_theta);
  const cos: Vec[] = [];
  const sin: Vec[] = [];
  for (let pos = 0; pos < seq; pos++) {
    const angles = Float64Array.from(invFreq, (f) => Math.fround(pos * f));
    cos.push(angles.map(Math.cos));
    sin.push(angles.map(Math.sin));
  }

  const embed = param(model, 'model.embed_tokens.weight');
  let x: Vec[] = ids.map((id) => Float64Array.from(embed.subarray(id * hidden, (id + 1) * hidden)));
  const keys: Vec[][] = [];
  const values: Vec[][] = [];

  for (let layer = 0; layer < dims.num_hidden_layers; layer++) {
    const p = layerPrefix(layer);
    const w = (name: string) => param(model, `${p}.${name}.weight`);
    const h = x.map((row) => rmsNorm(row, w('input_layernorm'), eps));
    const q = h.map((row, pos) => {
      const r = rmsNorm(linear(w('self_attn.q_proj'), row), w('self_attn.q_norm'), eps);
      applyRope(r, headDim, cos[pos], sin[pos]);
      return r;
    });
    const k = h.map((row, pos) => {
      const r = rmsNorm(linear(w('self_attn.k_proj'), row), w('self_attn.k_norm'), eps);
      applyRope(r, headDim, cos[pos], sin[pos]);
      return r;
    });
    const v = h.map((row) => linear(w('self_attn.v_proj'), row));
    keys.push(k);
    values.push(v);

    const attended = x.map((_, qi) => {
      const out = new Float64Array(heads * headDim);
      for (let head = 0; head < heads; head++) {
        const kvOffset = Math.floor(head / groups) * headDim;
        const scores = new Float64Array(seq);
        for (let ki = 0; ki < seq; ki++) {
          let dot = 0;
          for (let j = 0; j < headDim; j++) dot += q[qi][head * headDim + j] * k[ki][kvOffset + j];
          const allowed = ki <= qi && mask[ki] !== 0;
          scores[ki] = dot / Math.sqrt(headDim) + (allowed ? 0 : MASK_FILL);
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let ki = 0; ki < seq; ki++) {
          const weight = exps[ki] / total;
          for (let j = 0; j < headDim; j++) out[head * headDim + j] += weight * v[ki][kvOffset + j];
        }
      }
      return out;
    });
    x = x.map((row, i) => {
      const o = linear(w('self_attn.o_proj'), attended[i]);
      return row.map((value, j) => value + o[j]);
    });

    x = x.map((row) => {
      const m = rmsNorm(row, w('post_attention_layernorm'), eps);
      const gate = linear(w('mlp.gate_proj'), m);
      const up = linear(w('mlp.up_proj'), m);
      const gated = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = linear(w('mlp.down_proj'), gated);
      return row.map((value, j) => value + down[j]);
    });
  }

  // HF's read-out: the argmax (first on ties) of position * (id != pad).
  let last = 0;
  for (let pos = 0; pos < seq; pos++) if (ids[pos] !== dims.pad_token_id) last = pos;
  const final = rmsNorm(x[last], param(model, 'model.norm.weight'), eps);
  return { logit: linear(param(model, 'score.weight'), final)[0], keys, values };
}

/** One logit per row of a right-padded batch (input_ids and attention_mask of equal shape). */
export function referenceForward(model: ReferenceModel, inputIds: TokenRows, attentionMask: TokenRows): number[] {
  return inputIds.map((ids, row) => forwardSequence(model, ids, attentionMask[row]).logit);
}

/** One unpadded sequence: its logit and every layer's keys and values (what a past graph must reproduce). */
export function referenceSequence(model: ReferenceModel, ids: readonly number[]): ReferenceSequence {
  return forwardSequence(model, ids, ids.map(() => 1));
}
