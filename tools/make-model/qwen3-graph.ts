// The ONNX graph of HF Qwen3ForSequenceClassification (fp32), in three forms: fused (ONNX Runtime's
// attention and norm operators, the default), opset23 (the standard ONNX operators of opset 23 for
// the same steps) and unfused (plain opset-17 operators).
//
//   input_ids, attention_mask [batch, seq] int64
//   → embed → N × (x + attn(norm(x)); x + mlp(norm(x))) → hidden at the last non-pad token
//   → final norm → score → logits [batch, 1]
//
// The past form (model-past.onnx) is the same network for a batch of suffixes that continue one
// shared prefix: it also takes the prefix's keys and values per layer, past_key.{i} / past_value.{i}
// [1, kv_heads, past_len, head_dim], and returns this call's own, present_key.{i} / present_value.{i}
// [batch, kv_heads, seq, head_dim]; suffix token j sits at position past_len + j.
//
// Each step mirrors the order of operations in transformers' modeling_qwen3.py,
// so fp32 rounding matches a PyTorch run as closely as the kernels allow.

import {
  ATTENTION_MASK, INPUT_IDS, LOGITS, pastKeyName, pastValueName, presentKeyName, presentValueName,
} from '../../src/model/graph-names.ts';
import { type Qwen3Dims, layerPrefix } from './config.ts';
import { type AttributeValue, DataType, type GraphSpec, MS_DOMAIN, type NodeSpec, type TensorSpec } from './onnx-proto.ts';
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
  op(opType: string, inputs: string[], hint: string, attributes?: Record<string, AttributeValue>, domain?: string): string {
    return this.ops(opType, inputs, [hint], attributes, domain)[0];
  }

  /** Adds a node with several outputs, one per hint; an empty hint leaves that optional output unnamed. */
  ops(opType: string, inputs: string[], hints: string[], attributes?: Record<string, AttributeValue>, domain?: string): string[] {
    const outputs = hints.map((hint) => (hint === '' ? '' : this.uniqueName(hint)));
    this.nodes.push({ opType, domain, inputs, outputs, attributes });
    return outputs;
  }

  private uniqueName(hint: string): string {
    let name = hint;
    for (let i = 1; this.usedNames.has(name); i++) name = `${hint}_${i}`;
    this.usedNames.add(name);
    return name;
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

/** How attention, RMSNorm and rotary embedding are written into the graph. */
export type AttentionForm = 'fused' | 'opset23' | 'unfused';
export const ATTENTION_FORMS: readonly AttentionForm[] = ['fused', 'opset23', 'unfused'];
export const DEFAULT_ATTENTION_FORM: AttentionForm = 'fused';

export function isAttentionForm(name: string): name is AttentionForm {
  return (ATTENTION_FORMS as readonly string[]).includes(name);
}

export interface GraphOptions {
  /**
   * fused: ONNX Runtime's contrib operators (GroupQueryAttention with rotary inside,
   * SimplifiedLayerNormalization, SkipSimplifiedLayerNormalization), which never build the
   * [batch, heads, seq, seq] mask and score tensors out of separate nodes.
   * opset23: the same fusions as standard ONNX operators of opset 23 (Attention, RotaryEmbedding,
   * RMSNormalization), for comparison with the contrib operators.
   * unfused: plain opset-17 operators, step for step as modeling_qwen3.py; the reference form.
   */
  attention?: AttentionForm;
  /**
   * The past form (model-past.onnx): past_key.{i}/past_value.{i} in, present_key.{i}/present_value.{i}
   * out. Its attention is plain operators in both forms (GroupQueryAttention wants a past per row,
   * and the past is one prefix shared by every row); norms and projections follow `attention`.
   */
  past?: boolean;
}

/** Everything both forms share: the weights, the pieces of the graph built from them, and its inputs. */
class Qwen3Writer {
  readonly g = new GraphBuilder();
  /** int64 scalar: the padded sequence length. */
  readonly seqLen: string;
  /** int64 [seq]: 0..seq-1 within this call; right padding means every row starts at 0. */
  readonly positions: string;
  /** int64 scalar: the past's length (past form only). */
  readonly pastLen: string | undefined;
  /** int64 [seq]: the positions rotary reads, past_len + 0..seq-1 (just `positions` without a past). */
  readonly ropePositions: string;

  constructor(
    readonly dims: Qwen3Dims,
    private readonly weights: Weights,
    readonly past: boolean,
  ) {
    const { num_attention_heads: heads, num_key_value_heads: kvHeads, head_dim: headDim } = dims;
    if (heads % kvHeads !== 0) throw new Error('num_attention_heads must be a multiple of num_key_value_heads');
    if (headDim % 2 !== 0) throw new Error('head_dim must be even for rotary embeddings');
    const g = this.g;
    this.seqLen = g.op('Gather', [g.op('Shape', [INPUT_IDS], 'ids_shape'), g.int64([1], [])], 'seq_len', { axis: 0 });
    this.positions = g.op('Range', [g.int64([0], []), this.seqLen, g.int64([1], [])], 'positions');
    if (past) {
      const pastShape = g.op('Shape', [pastKeyName(0)], 'past_shape');
      this.pastLen = g.op('Gather', [pastShape, g.int64([2], [])], 'past_len', { axis: 0 });
      this.ropePositions = g.op('Add', [this.positions, this.pastLen], 'rope_positions');
    } else {
      this.ropePositions = this.positions;
    }
  }

  tensor(name: string): { shape: number[]; data: Float32Array } {
    const w = this.weights.get(name);
    if (w === undefined) throw new Error(`missing weight ${name}`);
    return w;
  }

  vector(name: string): string {
    const { shape, data } = this.tensor(name);
    return this.g.weight(name, shape, data);
  }

  /** nn.Linear without bias: x @ W^T, with W^T stored pre-transposed. */
  linear(x: string, name: string, hint: string): string {
    return this.g.op('MatMul', [x, this.transposedWeight([name], `${name}.T`)], hint);
  }

  /** Several nn.Linear of one input as one MatMul: their W^T side by side, [in, sum(out)]. */
  transposedWeight(names: string[], stored: string): string {
    const parts = names.map((name) => this.tensor(name));
    const inFeatures = parts[0].shape[1];
    if (parts.some((p) => p.shape[1] !== inFeatures)) throw new Error(`${names.join(', ')}: input sizes differ`);
    const outTotal = parts.reduce((sum, p) => sum + p.shape[0], 0);
    const out = new Float32Array(inFeatures * outTotal);
    let column = 0;
    for (const { shape, data } of parts) {
      const outFeatures = shape[0];
      for (let r = 0; r < outFeatures; r++) {
        for (let c = 0; c < inFeatures; c++) out[c * outTotal + column + r] = data[r * inFeatures + c];
      }
      column += outFeatures;
    }
    return this.g.weight(stored, [inFeatures, outTotal], out);
  }

  /** Float32 rotary angles [seq, head_dim / 2]: position * inv_freq, as HF computes them. */
  ropeFrequencies(): string {
    const g = this.g;
    const { head_dim: headDim, rope_theta: theta } = this.dims;
    const positionsF = g.op('Cast', [this.ropePositions], 'positions_f', { to: DataType.FLOAT });
    const invFreq = g.weight('rotary.inv_freq', [headDim / 2], ropeInverseFrequencies(headDim, theta));
    return g.op('Mul', [g.op('Unsqueeze', [positionsF, g.int64([1])], 'positions_col'), invFreq], 'rope_freqs');
  }

  embeddings(): string {
    return this.g.op('Gather', [this.vector('model.embed_tokens.weight'), INPUT_IDS], 'embeddings', { axis: 0 });
  }

  /**
   * HF's read-out index: argmax over positions of position * (input_ids != pad_token_id).
   * The final norm and score are per-token, so only the chosen token's hidden state goes through them.
   * In the past form the index is within the suffix: the past holds no ids.
   */
  readOut(x: string, rmsNorm: (x: string, name: string, hint: string) => string): GraphSpec {
    const g = this.g;
    const notPad = g.op('Not', [g.op('Equal', [INPUT_IDS, g.int64([this.dims.pad_token_id], [])], 'is_pad')], 'not_pad');
    const notPadInt = g.op('Cast', [notPad], 'not_pad_i64', { to: DataType.INT64 });
    const weightedPositions = g.op('Mul', [notPadInt, this.positions], 'weighted_positions');
    const lastIndex = g.op('ArgMax', [weightedPositions], 'last_token_index', { axis: 1, keepdims: 1 });
    const last = g.op('GatherND', [x, lastIndex], 'last_hidden', { batch_dims: 1 });
    const logits = this.linear(rmsNorm(last, 'model.norm.weight', 'final_norm'), 'score.weight', LOGITS);
    const { num_hidden_layers: layers, num_key_value_heads: kvHeads, head_dim: headDim } = this.dims;
    const perLayer = this.past ? Array.from({ length: layers }, (_, i) => i) : [];
    const kv = (name: string, batch: string | number, seq: string) => ({ name, dataType: DataType.FLOAT, dims: [batch, kvHeads, seq, headDim] });
    return {
      name: 'qwen3_sequence_classification',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: INPUT_IDS, dataType: DataType.INT64, dims: ['batch', 'seq'] },
        { name: ATTENTION_MASK, dataType: DataType.INT64, dims: ['batch', 'seq'] },
        ...perLayer.flatMap((i) => [kv(pastKeyName(i), 1, 'past_len'), kv(pastValueName(i), 1, 'past_len')]),
      ],
      outputs: [
        { name: logits, dataType: DataType.FLOAT, dims: ['batch', 1] },
        ...perLayer.flatMap((i) => [kv(presentKeyName(i), 'batch', 'seq'), kv(presentValueName(i), 'batch', 'seq')]),
      ],
    };
  }
}

/**
 * One layer's attention: q [b, s, heads, d] and k [b, s, kv_heads, d] after q_norm/k_norm (before
 * rotary), v [b, s, kv_heads * d] → the context [b, s, heads * d] that o_proj reads.
 */
type AttentionLayer = (layer: number, q: string, k: string, v: string) => string;

export function buildQwen3Graph(dims: Qwen3Dims, weights: Weights, options: GraphOptions = {}): GraphSpec {
  const w = new Qwen3Writer(dims, weights, options.past ?? false);
  const form = options.attention ?? DEFAULT_ATTENTION_FORM;
  // The past form broadcasts one prefix over the rows, which neither GroupQueryAttention nor opset
  // 23's Attention can do: it always attends with plain operators.
  if (form === 'opset23' && !w.past) return opset23Layers(w);
  const attention = form === 'fused' && !w.past ? groupQueryAttention(w) : plainAttention(w);
  return form === 'fused' ? fusedLayers(w, attention) : unfusedLayers(w, attention);
}

/**
 * Attention from plain operators, as modeling_qwen3.py's eager path: rotary, grouped scores, additive
 * causal + padding mask, softmax, weighted values.
 *
 * With a past (one shared prefix, batch dim 1) each query also scores the past's keys: the past's
 * scores come from MatMul(q [b, kv, groups, s, d], past_kᵀ [1, kv, 1, d, past_len]), whose numpy
 * broadcasting reads the one past for every row and every query head of a group, so the past is
 * never copied per row. They are concatenated before this call's own masked scores (no mask: every
 * row sees the whole past), one softmax runs over both, and the probabilities are split again to
 * weight the past's values (broadcast the same way) and this call's values.
 */
function plainAttention(w: Qwen3Writer): AttentionLayer {
  const { g, dims, positions } = w;
  const { head_dim: headDim, num_attention_heads: heads, num_key_value_heads: kvHeads } = dims;
  const groups = heads / kvHeads;

  // Rotary tables [seq, head_dim]: emb = cat(freqs, freqs), then cos/sin.
  const freqs = w.ropeFrequencies();
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

  // Additive mask [batch, 1, 1, seq(q), seq(k)] over this call's keys: 0 where the key is causal
  // and not padding, else float32 min. (Positions within the call: causality does not depend on the past.)
  const causal = g.op(
    'LessOrEqual',
    [g.op('Unsqueeze', [positions, g.int64([0])], 'key_pos'), g.op('Unsqueeze', [positions, g.int64([1])], 'query_pos')],
    'causal',
  );
  const keyValid = g.op(
    'Unsqueeze',
    [g.op('Cast', [ATTENTION_MASK], 'key_valid', { to: DataType.BOOL }), g.int64([1, 2, 3])],
    'key_valid_5d',
  );
  const attentionBias = g.op(
    'Where',
    [g.op('And', [causal, keyValid], 'attend'), g.float32([0], []), g.float32([FLOAT32_LOWEST], [])],
    'attention_bias',
  );
  const scaling = g.float32([headDim ** -0.5], []);
  // Where the softmax over [past keys, own keys] is cut again: probs[..., :past_len] and probs[..., past_len:].
  const pastEnd = w.pastLen === undefined ? undefined : g.op('Unsqueeze', [w.pastLen, g.int64([0])], 'past_end');

  return (layer, qHeads, kHeads, v) => {
    const p = layerPrefix(layer);
    const toHeadMajor = (t: string, hint: string) => g.op('Transpose', [t], hint, { perm: [0, 2, 1, 3] });
    const vHeads = g.op('Reshape', [v, g.int64([0, 0, kvHeads, headDim])], `${p}/v_proj_heads`);
    const q = rope(toHeadMajor(qHeads, `${p}/q_bhsd`), `${p}/q_rope`); // [b, heads, s, d]
    const k = rope(toHeadMajor(kHeads, `${p}/k_bhsd`), w.past ? presentKeyName(layer) : `${p}/k_rope`); // [b, kv, s, d]
    const vBhsd = toHeadMajor(vHeads, w.past ? presentValueName(layer) : `${p}/v_bhsd`); // [b, kv, s, d]

    // Grouped-query attention without copying K/V: query head i = kv * groups + r reads kv head
    // i // groups, so view q as [b, kv, groups, s, d] and broadcast K/V over the groups axis.
    const qGrouped = g.op('Reshape', [q, g.int64([0, kvHeads, groups, -1, headDim])], `${p}/q_grouped`);
    /** [n, kv, s, d] → kᵀ [n, kv, 1, d, s], the groups axis left for MatMul to broadcast. */
    const groupedTranspose = (t: string, hint: string) =>
      g.op('Unsqueeze', [g.op('Transpose', [t], `${hint}_t`, { perm: [0, 1, 3, 2] }), g.int64([2])], `${hint}_t_grouped`);
    const kT = groupedTranspose(k, `${p}/k`);
    const vGrouped = g.op('Unsqueeze', [vBhsd, g.int64([2])], `${p}/v_grouped`);
    const scores = g.op('Mul', [g.op('MatMul', [qGrouped, kT], `${p}/qk`), scaling], `${p}/scores`);
    const masked = g.op('Add', [scores, attentionBias], `${p}/masked_scores`);
    let contextGrouped: string;
    if (pastEnd === undefined) {
      const probs = g.op('Softmax', [masked], `${p}/probs`, { axis: -1 });
      contextGrouped = g.op('MatMul', [probs, vGrouped], `${p}/context_grouped`);
    } else {
      const pastKT = groupedTranspose(pastKeyName(layer), `${p}/past_k`); // [1, kv, 1, d, past_len]
      const pastV = g.op('Unsqueeze', [pastValueName(layer), g.int64([2])], `${p}/past_v_grouped`); // [1, kv, 1, past_len, d]
      const pastScores = g.op('Mul', [g.op('MatMul', [qGrouped, pastKT], `${p}/q_past_k`), scaling], `${p}/past_scores`);
      const allScores = g.op('Concat', [pastScores, masked], `${p}/all_scores`, { axis: -1 });
      const probs = g.op('Softmax', [allScores], `${p}/probs`, { axis: -1 });
      const lastAxis = g.int64([-1]);
      const pastProbs = g.op('Slice', [probs, g.int64([0]), pastEnd, lastAxis], `${p}/past_probs`);
      const ownProbs = g.op('Slice', [probs, pastEnd, g.int64([Number.MAX_SAFE_INTEGER]), lastAxis], `${p}/own_probs`);
      contextGrouped = g.op(
        'Add',
        [g.op('MatMul', [pastProbs, pastV], `${p}/past_context`), g.op('MatMul', [ownProbs, vGrouped], `${p}/own_context`)],
        `${p}/context_grouped`,
      );
    }
    const context = g.op('Reshape', [contextGrouped, g.int64([0, heads, -1, headDim])], `${p}/context`); // [b, heads, s, d]
    const contextBshd = toHeadMajor(context, `${p}/context_bshd`);
    return g.op('Reshape', [contextBshd, g.int64([0, 0, heads * headDim])], `${p}/context_merged`);
  };
}

/**
 * GroupQueryAttention with the rotary embedding applied inside (no past).
 *
 * It reads padding as per-row lengths: seqlens_k = (tokens in the row) - 1 and
 * total_sequence_length = the padded length, both derived here from attention_mask. With right
 * padding every real query sees only real keys (causality), exactly as the unfused mask allows,
 * so the read-out token's hidden state is the same; padded positions compute values nobody reads.
 */
function groupQueryAttention(w: Qwen3Writer): AttentionLayer {
  const { g, dims } = w;
  const { head_dim: headDim, num_attention_heads: heads, num_key_value_heads: kvHeads } = dims;
  const tokensPerRow = g.op('ReduceSum', [ATTENTION_MASK, g.int64([1])], 'tokens_per_row', { keepdims: 0 });
  const seqlensK = g.op('Cast', [g.op('Sub', [tokensPerRow, g.int64([1], [])], 'last_token_per_row')], 'seqlens_k', {
    to: DataType.INT32,
  });
  const totalSequenceLength = g.op('Cast', [w.seqLen], 'total_sequence_length', { to: DataType.INT32 });
  // Rotary caches [seq, head_dim / 2] in float32, the angles HF computes (its cat(freqs, freqs) halves).
  const freqs = w.ropeFrequencies();
  const cosCache = g.op('Cos', [freqs], 'rope_cos_cache');
  const sinCache = g.op('Sin', [freqs], 'rope_sin_cache');

  return (layer, qHeads, kHeads, v) => {
    const p = layerPrefix(layer);
    const merge = (t: string, n: number, hint: string) => g.op('Reshape', [t, g.int64([0, 0, n * headDim])], hint);
    const [context] = g.ops(
      'GroupQueryAttention',
      [merge(qHeads, heads, `${p}/q_norm_merged`), merge(kHeads, kvHeads, `${p}/k_norm_merged`), v, '', '', seqlensK, totalSequenceLength, cosCache, sinCache],
      [`${p}/attention`, `${p}/present_key`, `${p}/present_value`],
      { num_heads: heads, kv_num_heads: kvHeads, do_rotary: 1, rotary_interleaved: 0 },
      MS_DOMAIN,
    );
    return context;
  };
}

/** The reference form: every step of modeling_qwen3.py as plain opset-17 operators. */
function unfusedLayers(w: Qwen3Writer, attention: AttentionLayer): GraphSpec {
  const { g, dims } = w;
  const eps = g.float32([dims.rms_norm_eps], []);
  const { head_dim: headDim, num_attention_heads: heads, num_key_value_heads: kvHeads } = dims;
  /** Qwen3RMSNorm over the last axis: weight * (x * rsqrt(mean(x^2) + eps)). */
  const rmsNorm = (x: string, name: string, hint: string): string => {
    const squared = g.op('Mul', [x, x], `${hint}/sq`);
    const variance = g.op('ReduceMean', [squared], `${hint}/variance`, { axes: [-1], keepdims: 1 });
    const rms = g.op('Sqrt', [g.op('Add', [variance, eps], `${hint}/var_eps`)], `${hint}/rms`);
    const rsqrt = g.op('Reciprocal', [rms], `${hint}/rsqrt`);
    return g.op('Mul', [w.vector(name), g.op('Mul', [x, rsqrt], `${hint}/normed`)], hint);
  };

  let x = w.embeddings();

  for (let layer = 0; layer < dims.num_hidden_layers; layer++) {
    const p = layerPrefix(layer);
    const h = rmsNorm(x, `${p}.input_layernorm.weight`, `${p}/input_norm`);
    /** A q/k projection viewed per head, [b, s, n, d]; q_norm and k_norm act on this view, as in HF. */
    const projectHeads = (proj: string, n: number, norm: string): string => {
      const projected = w.linear(h, `${p}.self_attn.${proj}.weight`, `${p}/${proj}`);
      const perHead = g.op('Reshape', [projected, g.int64([0, 0, n, headDim])], `${p}/${proj}_heads`);
      return rmsNorm(perHead, `${p}.self_attn.${norm}.weight`, `${p}/${norm}`);
    };
    const q = projectHeads('q_proj', heads, 'q_norm');
    const k = projectHeads('k_proj', kvHeads, 'k_norm');
    const v = w.linear(h, `${p}.self_attn.v_proj.weight`, `${p}/v_proj`);
    const context = attention(layer, q, k, v);
    x = g.op('Add', [x, w.linear(context, `${p}.self_attn.o_proj.weight`, `${p}/o_proj`)], `${p}/attn_residual`);

    const m = rmsNorm(x, `${p}.post_attention_layernorm.weight`, `${p}/post_attention_norm`);
    const gate = w.linear(m, `${p}.mlp.gate_proj.weight`, `${p}/gate_proj`);
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate], `${p}/gate_sigmoid`)], `${p}/silu`);
    const up = w.linear(m, `${p}.mlp.up_proj.weight`, `${p}/up_proj`);
    const down = w.linear(g.op('Mul', [silu, up], `${p}/gated`), `${p}.mlp.down_proj.weight`, `${p}/down_proj`);
    x = g.op('Add', [x, down], `${p}/mlp_residual`);
  }
  return w.readOut(x, rmsNorm);
}

/**
 * The fused form: per layer one q/k/v MatMul, q_norm/k_norm as SimplifiedLayerNormalization over
 * each head, and each residual add fused with the norm that follows it
 * (SkipSimplifiedLayerNormalization). Attention is GroupQueryAttention in model.onnx (see
 * groupQueryAttention) and plain operators in the past form.
 */
function fusedLayers(w: Qwen3Writer, attention: AttentionLayer): GraphSpec {
  const { g, dims } = w;
  const { head_dim: headDim, num_attention_heads: heads, num_key_value_heads: kvHeads, rms_norm_eps: eps } = dims;
  const epsilon = { float: eps };
  /** Qwen3RMSNorm over the last axis as one operator (registered in the default domain by ONNX Runtime). */
  const rmsNorm = (x: string, name: string, hint: string): string =>
    g.op('SimplifiedLayerNormalization', [x, w.vector(name)], hint, { axis: -1, epsilon });
  /** (norm(x + residual), x + residual). */
  const addAndNorm = (x: string, residual: string, name: string, hint: string): [string, string] => {
    const [normed, , , sum] = g.ops(
      'SkipSimplifiedLayerNormalization',
      [x, residual, w.vector(name)],
      [hint, '', '', `${hint}/residual_sum`],
      { epsilon },
      MS_DOMAIN,
    );
    return [normed, sum];
  };

  const qWidth = heads * headDim;
  const kvWidth = kvHeads * headDim;
  const qkvSplit = g.int64([qWidth, kvWidth, kvWidth]);
  const intermediate = dims.intermediate_size;
  const gateUpSplit = g.int64([intermediate, intermediate]);

  let x = w.embeddings();
  let h = rmsNorm(x, `${layerPrefix(0)}.input_layernorm.weight`, `${layerPrefix(0)}/input_norm`);
  for (let layer = 0; layer < dims.num_hidden_layers; layer++) {
    const p = layerPrefix(layer);
    const proj = (name: string) => `${p}.self_attn.${name}.weight`;
    const qkvWeight = w.transposedWeight([proj('q_proj'), proj('k_proj'), proj('v_proj')], `${p}.self_attn.qkv_proj.weight.T`);
    const qkv = g.op('MatMul', [h, qkvWeight], `${p}/qkv_proj`);
    const [q, k, v] = g.ops('Split', [qkv, qkvSplit], [`${p}/q_proj`, `${p}/k_proj`, `${p}/v_proj`], { axis: -1 });
    /** q_norm / k_norm act on each head: view [b, s, n, d] and normalise. */
    const headNorm = (t: string, n: number, norm: string): string => {
      const perHead = g.op('Reshape', [t, g.int64([0, 0, n, headDim])], `${p}/${norm}_heads`);
      return rmsNorm(perHead, `${p}.self_attn.${norm}.weight`, `${p}/${norm}`);
    };
    const context = attention(layer, headNorm(q, heads, 'q_norm'), headNorm(k, kvHeads, 'k_norm'), v);
    const attnOut = w.linear(context, `${p}.self_attn.o_proj.weight`, `${p}/o_proj`);
    const [m, afterAttention] = addAndNorm(attnOut, x, `${p}.post_attention_layernorm.weight`, `${p}/post_attention_norm`);

    const mlp = (name: string) => `${p}.mlp.${name}.weight`;
    const gateUp = g.op('MatMul', [m, w.transposedWeight([mlp('gate_proj'), mlp('up_proj')], `${p}.mlp.gate_up_proj.weight.T`)], `${p}/gate_up_proj`);
    const [gate, up] = g.ops('Split', [gateUp, gateUpSplit], [`${p}/gate_proj`, `${p}/up_proj`], { axis: -1 });
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate], `${p}/gate_sigmoid`)], `${p}/silu`);
    const down = w.linear(g.op('Mul', [silu, up], `${p}/gated`), mlp('down_proj'), `${p}/down_proj`);
    if (layer + 1 < dims.num_hidden_layers) {
      const next = layerPrefix(layer + 1);
      [h, x] = addAndNorm(down, afterAttention, `${next}.input_layernorm.weight`, `${next}/input_norm`);
    } else {
      x = g.op('Add', [afterAttention, down], `${p}/mlp_residual`);
    }
  }
  return w.readOut(x, rmsNorm);
}

/**
 * The opset-23 form: the steps of the fused form written with ONNX's own operators (opset 23):
 * RMSNormalization for every norm, RotaryEmbedding on q and k (3-D, num_heads per tensor), and
 * Attention with q_num_heads/kv_num_heads and is_causal. No padding mask is needed: with right
 * padding a real query sees only earlier, real keys under the causal rule, and the read-out takes
 * a real token; padded rows compute values nobody reads.
 */
function opset23Layers(w: Qwen3Writer): GraphSpec {
  const { g, dims } = w;
  const { head_dim: headDim, num_attention_heads: heads, num_key_value_heads: kvHeads, rms_norm_eps: eps } = dims;
  const rmsNorm = (x: string, name: string, hint: string): string =>
    g.op('RMSNormalization', [x, w.vector(name)], hint, { axis: -1, epsilon: { float: eps } });

  const freqs = w.ropeFrequencies();
  const cosCache = g.op('Cos', [freqs], 'rope_cos_cache');
  const sinCache = g.op('Sin', [freqs], 'rope_sin_cache');
  // RotaryEmbedding takes position ids per row: [batch, seq], every row from 0 (right padding).
  const positionIds = g.op('Expand', [g.op('Unsqueeze', [w.positions, g.int64([0])], 'positions_row'), g.op('Shape', [INPUT_IDS], 'ids_shape_2d')], 'position_ids');

  const qkvSplit = g.int64([heads * headDim, kvHeads * headDim, kvHeads * headDim]);
  const intermediate = dims.intermediate_size;
  const gateUpSplit = g.int64([intermediate, intermediate]);

  let x = w.embeddings();
  for (let layer = 0; layer < dims.num_hidden_layers; layer++) {
    const p = layerPrefix(layer);
    const proj = (name: string) => `${p}.self_attn.${name}.weight`;
    const h = rmsNorm(x, `${p}.input_layernorm.weight`, `${p}/input_norm`);
    const qkvWeight = w.transposedWeight([proj('q_proj'), proj('k_proj'), proj('v_proj')], `${p}.self_attn.qkv_proj.weight.T`);
    const [q, k, v] = g.ops('Split', [g.op('MatMul', [h, qkvWeight], `${p}/qkv_proj`), qkvSplit], [`${p}/q_proj`, `${p}/k_proj`, `${p}/v_proj`], { axis: -1 });
    /** q_norm / k_norm on each head, then the rotary embedding: [b, s, n * d] in and out. */
    const normAndRotate = (t: string, n: number, norm: string): string => {
      const perHead = g.op('Reshape', [t, g.int64([0, 0, n, headDim])], `${p}/${norm}_heads`);
      const normed = rmsNorm(perHead, `${p}.self_attn.${norm}.weight`, `${p}/${norm}`);
      const merged = g.op('Reshape', [normed, g.int64([0, 0, n * headDim])], `${p}/${norm}_merged`);
      return g.op('RotaryEmbedding', [merged, cosCache, sinCache, positionIds], `${p}/${norm}_rope`, { num_heads: n, interleaved: 0 });
    };
    const context = g.op(
      'Attention',
      [normAndRotate(q, heads, 'q_norm'), normAndRotate(k, kvHeads, 'k_norm'), v],
      `${p}/attention`,
      { q_num_heads: heads, kv_num_heads: kvHeads, is_causal: 1 },
    );
    x = g.op('Add', [x, w.linear(context, `${p}.self_attn.o_proj.weight`, `${p}/o_proj`)], `${p}/attn_residual`);

    const m = rmsNorm(x, `${p}.post_attention_layernorm.weight`, `${p}/post_attention_norm`);
    const mlp = (name: string) => `${p}.mlp.${name}.weight`;
    const gateUp = g.op('MatMul', [m, w.transposedWeight([mlp('gate_proj'), mlp('up_proj')], `${p}.mlp.gate_up_proj.weight.T`)], `${p}/gate_up_proj`);
    const [gate, up] = g.ops('Split', [gateUp, gateUpSplit], [`${p}/gate_proj`, `${p}/up_proj`], { axis: -1 });
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate], `${p}/gate_sigmoid`)], `${p}/silu`);
    x = g.op('Add', [x, w.linear(g.op('Mul', [silu, up], `${p}/gated`), mlp('down_proj'), `${p}/down_proj`)], `${p}/mlp_residual`);
  }
  return { ...w.readOut(x, rmsNorm), opset: 23 };
}
