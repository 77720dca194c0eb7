// The ONNX graph of HF Qwen3ForSequenceClassification (fp32, opset 17, no KV cache).
//
//   input_ids, attention_mask [batch, seq] int64
//   → embed → N × (x + attn(norm(x)); x + mlp(norm(x))) → hidden at the last non-pad token
//   → final norm → score → logits [batch, 1]
//
// Each step mirrors the order of operations in transformers' modeling_qwen3.py,
// so fp32 rounding matches a PyTorch run as closely as the kernels allow.

import { type Qwen3Dims, layerPrefix } from './config.ts';
import { type AttributeValue, DataType, type GraphSpec, type NodeSpec, type TensorSpec } from './onnx-proto.ts';
import type { Weights } from './weights.ts';

const FLOAT32_LOWEST = -3.4028234663852886e38; // torch.finfo(torch.float32).min, HF's mask fill value

const asBytes = (a: Float32Array | BigInt64Array | Uint8Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  private readonly constants = new Map<string, string>();
  private readonly usedNames = new Set<string>();

  /** Adds a single-output node; the output is named after `hint`, made unique. */
  op(opType: string, inputs: string[], hint: string, attributes?: Record<string, AttributeValue>): string {
    let output = hint;
    for (let i = 1; this.usedNames.has(output); i++) output = `${hint}_${i}`;
    this.usedNames.add(output);
    this.nodes.push({ opType, inputs, outputs: [output], attributes });
    return output;
  }

  /** An int64 constant (dims [] for a scalar); identical constants share one initializer. */
  int64(values: number[], dims: number[] = [values.length]): string {
    const raw = asBytes(BigInt64Array.from(values, BigInt));
    return this.constant(DataType.INT64, dims, raw, `i64${JSON.stringify([dims, values])}`);
  }

  float32(values: number[], dims: number[] = [values.length]): string {
    const raw = asBytes(Float32Array.from(values));
    return this.constant(DataType.FLOAT, dims, raw, `f32${JSON.stringify([dims, values])}`);
  }

  weight(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, raw: asBytes(data) });
    this.usedNames.add(name);
    return name;
  }

  private constant(dataType: TensorSpec['dataType'], dims: number[], raw: Uint8Array, key: string): string {
    const existing = this.constants.get(key);
    if (existing !== undefined) return existing;
    const name = `const_${this.constants.size}`;
    this.constants.set(key, name);
    this.initializers.push({ name, dataType, dims, raw });
    this.usedNames.add(name);
    return name;
  }
}

/** [out, in] row-major → [in, out], the layout MatMul(x, W^T) wants. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** rotary inv_freq = 1 / theta^(arange(0, d, 2) / d), each step rounded to float32 as torch does. */
export function ropeInverseFrequencies(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround((2 * i) / headDim);
    inv[i] = 1 / Math.fround(theta ** exponent);
  }
  return inv;
}

export function buildQwen3Graph(dims: Qwen3Dims, weights: Weights): GraphSpec {
  const g = new GraphBuilder();
  const { hidden_size: hidden, head_dim: headDim, num_attention_heads: heads, num_key_value_heads: kvHeads } = dims;
  if (heads % kvHeads !== 0) throw new Error('num_attention_heads must be a multiple of num_key_value_heads');
  if (headDim % 2 !== 0) throw new Error('head_dim must be even for rotary embeddings');
  const groups = heads / kvHeads;

  const tensor = (name: string) => {
    const w = weights.get(name);
    if (w === undefined) throw new Error(`missing weight ${name}`);
    return w;
  };
  const vector = (name: string): string => g.weight(name, tensor(name).shape, tensor(name).data);
  /** nn.Linear without bias: x @ W^T, with W^T stored pre-transposed. */
  const linear = (x: string, name: string, hint: string): string => {
    const { shape, data } = tensor(name);
    const [outFeatures, inFeatures] = shape;
    const wT = g.weight(`${name}.T`, [inFeatures, outFeatures], transpose(data, outFeatures, inFeatures));
    return g.op('MatMul', [x, wT], hint);
  };
  const eps = g.float32([dims.rms_norm_eps], []);
  /** Qwen3RMSNorm over the last axis: weight * (x * rsqrt(mean(x^2) + eps)). */
  const rmsNorm = (x: string, name: string, hint: string): string => {
    const squared = g.op('Mul', [x, x], `${hint}/sq`);
    const variance = g.op('ReduceMean', [squared], `${hint}/variance`, { axes: [-1], keepdims: 1 });
    const rms = g.op('Sqrt', [g.op('Add', [variance, eps], `${hint}/var_eps`)], `${hint}/rms`);
    const rsqrt = g.op('Reciprocal', [rms], `${hint}/rsqrt`);
    return g.op('Mul', [vector(name), g.op('Mul', [x, rsqrt], `${hint}/normed`)], hint);
  };

  // Positions 0..seq-1: right padding means every sequence starts at position 0.
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids'], 'ids_shape'), g.int64([1], [])], 'seq_len', { axis: 0 });
  const positions = g.op('Range', [g.int64([0], []), seqLen, g.int64([1], [])], 'positions');

  // Rotary tables [seq, head_dim]: emb = cat(freqs, freqs), freqs = position * inv_freq in float32.
  const positionsF = g.op('Cast', [positions], 'positions_f', { to: DataType.FLOAT });
  const invFreq = g.weight('rotary.inv_freq', [headDim / 2], ropeInverseFrequencies(headDim, dims.rope_theta));
  const freqs = g.op('Mul', [g.op('Unsqueeze', [positionsF, g.int64([1])], 'positions_col'), invFreq], 'rope_freqs');
  const ropeAngles = g.op('Concat', [freqs, freqs], 'rope_angles', { axis: -1 });
  const cos = g.op('Cos', [ropeAngles], 'rope_cos');
  const sin = g.op('Sin', [ropeAngles], 'rope_sin');
  const half = headDim / 2;
  const sliceFirst = [g.int64([0]), g.int64([half]), g.int64([-1])];
  const sliceSecond = [g.int64([half]), g.int64([headDim]), g.int64([-1])];
  /** x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x[..., d/2:], x[..., :d/2]). */
  const rope = (x: string, hint: string): string => {
    const x1 = g.op('Slice', [x, ...sliceFirst], `${hint}/x1`);
    const x2 = g.op('Slice', [x, ...sliceSecond], `${hint}/x2`);
    const rotated = g.op('Concat', [g.op('Neg', [x2], `${hint}/neg_x2`), x1], `${hint}/rotated`, { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, cos], `${hint}/cos`), g.op('Mul', [rotated, sin], `${hint}/sin`)], hint);
  };

  // Additive mask [batch, 1, 1, seq(q), seq(k)]: 0 where the key is causal and not padding, else float32 min.
  const causal = g.op(
    'LessOrEqual',
    [g.op('Unsqueeze', [positions, g.int64([0])], 'key_pos'), g.op('Unsqueeze', [positions, g.int64([1])], 'query_pos')],
    'causal',
  );
  const keyValid = g.op(
    'Unsqueeze',
    [g.op('Cast', ['attention_mask'], 'key_valid', { to: DataType.BOOL }), g.int64([1, 2, 3])],
    'key_valid_5d',
  );
  const attentionBias = g.op(
    'Where',
    [g.op('And', [causal, keyValid], 'attend'), g.float32([0], []), g.float32([FLOAT32_LOWEST], [])],
    'attention_bias',
  );
  const scaling = g.float32([headDim ** -0.5], []);

  let x = g.op('Gather', [vector('model.embed_tokens.weight'), 'input_ids'], 'embeddings', { axis: 0 });

  for (let layer = 0; layer < dims.num_hidden_layers; layer++) {
    const p = layerPrefix(layer);
    const h = rmsNorm(x, `${p}.input_layernorm.weight`, `${p}/input_norm`);
    /** A q/k/v projection viewed per head, [b, s, n, d]; q_norm and k_norm act on this view, as in HF. */
    const projectHeads = (proj: string, n: number, norm?: string): string => {
      const projected = linear(h, `${p}.self_attn.${proj}.weight`, `${p}/${proj}`);
      const perHead = g.op('Reshape', [projected, g.int64([0, 0, n, headDim])], `${p}/${proj}_heads`);
      return norm === undefined ? perHead : rmsNorm(perHead, `${p}.self_attn.${norm}.weight`, `${p}/${norm}`);
    };
    const toHeadMajor = (t: string, hint: string) => g.op('Transpose', [t], hint, { perm: [0, 2, 1, 3] });
    const q = rope(toHeadMajor(projectHeads('q_proj', heads, 'q_norm'), `${p}/q_bhsd`), `${p}/q_rope`); // [b, heads, s, d]
    const k = rope(toHeadMajor(projectHeads('k_proj', kvHeads, 'k_norm'), `${p}/k_bhsd`), `${p}/k_rope`); // [b, kv, s, d]
    const vHeads = projectHeads('v_proj', kvHeads);

    // Grouped-query attention without copying K/V: query head i = kv * groups + r reads kv head
    // i // groups, so view q as [b, kv, groups, s, d] and broadcast K/V over the groups axis.
    const qGrouped = g.op('Reshape', [q, g.int64([0, kvHeads, groups, -1, headDim])], `${p}/q_grouped`);
    const kTransposed = g.op('Transpose', [k], `${p}/k_t`, { perm: [0, 1, 3, 2] });
    const kT = g.op('Unsqueeze', [kTransposed, g.int64([2])], `${p}/k_t_grouped`);
    const v = g.op('Unsqueeze', [toHeadMajor(vHeads, `${p}/v_bhsd`), g.int64([2])], `${p}/v_grouped`);
    const scores = g.op('Mul', [g.op('MatMul', [qGrouped, kT], `${p}/qk`), scaling], `${p}/scores`);
    const masked = g.op('Add', [scores, attentionBias], `${p}/masked_scores`);
    const probs = g.op('Softmax', [masked], `${p}/probs`, { axis: -1 });
    const contextGrouped = g.op('MatMul', [probs, v], `${p}/context_grouped`);
    const context = g.op('Reshape', [contextGrouped, g.int64([0, heads, -1, headDim])], `${p}/context`); // [b, heads, s, d]
    const contextBshd = toHeadMajor(context, `${p}/context_bshd`);
    const merged = g.op('Reshape', [contextBshd, g.int64([0, 0, heads * headDim])], `${p}/context_merged`);
    x = g.op('Add', [x, linear(merged, `${p}.self_attn.o_proj.weight`, `${p}/o_proj`)], `${p}/attn_residual`);

    const m = rmsNorm(x, `${p}.post_attention_layernorm.weight`, `${p}/post_attention_norm`);
    const gate = linear(m, `${p}.mlp.gate_proj.weight`, `${p}/gate_proj`);
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate], `${p}/gate_sigmoid`)], `${p}/silu`);
    const up = linear(m, `${p}.mlp.up_proj.weight`, `${p}/up_proj`);
    const down = linear(g.op('Mul', [silu, up], `${p}/gated`), `${p}.mlp.down_proj.weight`, `${p}/down_proj`);
    x = g.op('Add', [x, down], `${p}/mlp_residual`);
  }

  // HF's read-out index: argmax over positions of position * (input_ids != pad_token_id).
  // The final norm and score are per-token, so only the chosen token's hidden state goes through them.
  const notPad = g.op('Not', [g.op('Equal', ['input_ids', g.int64([dims.pad_token_id], [])], 'is_pad')], 'not_pad');
  const notPadInt = g.op('Cast', [notPad], 'not_pad_i64', { to: DataType.INT64 });
  const weightedPositions = g.op('Mul', [notPadInt, positions], 'weighted_positions');
  const lastIndex = g.op('ArgMax', [weightedPositions], 'last_token_index', { axis: 1, keepdims: 1 });
  const last = g.op('GatherND', [x, lastIndex], 'last_hidden', { batch_dims: 1 });
  const logits = linear(rmsNorm(last, 'model.norm.weight', 'final_norm'), 'score.weight', 'logits');

  return {
    name: 'qwen3_sequence_classification',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [
      { name: 'input_ids', dataType: DataType.INT64, dims: ['batch', 'seq'] },
      { name: 'attention_mask', dataType: DataType.INT64, dims: ['batch', 'seq'] },
    ],
    outputs: [{ name: logits, dataType: DataType.FLOAT, dims: ['batch', 1] }],
  };
}
