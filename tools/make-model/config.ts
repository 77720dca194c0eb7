// Model shapes: the presets, the Hugging Face config.json they become, and the
// HF weight names and shapes that both model.safetensors and model.onnx hold.

/** The Qwen3 config keys the forward pass reads (names as in HF config.json). */
export interface Qwen3Dims {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  /** Its own key in Qwen3: heads * head_dim need not equal hidden_size. */
  head_dim: number;
  vocab_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  pad_token_id: number;
}

const QWEN3_VOCAB_SIZE = 151936;
/** `<|endoftext|>`: the pad token the classifier's last-token rule looks for. */
export const PAD_TOKEN_ID = 151643;
const EOS_TOKEN_ID = 151645;

const SHARED_DIMS = {
  vocab_size: QWEN3_VOCAB_SIZE,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  pad_token_id: PAD_TOKEN_ID,
} as const;

export const PRESETS = {
  // Fast enough for every test run; head_dim 32 with 4 heads (128) ≠ hidden 64 on purpose.
  tiny: {
    ...SHARED_DIMS,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 32,
  },
  // Big enough that inference, not HTTP or tokenization, dominates a 64 x 300-token batch on CPU.
  bench: {
    ...SHARED_DIMS,
    hidden_size: 512,
    intermediate_size: 1536,
    num_hidden_layers: 4,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    head_dim: 64,
  },
} as const satisfies Record<string, Qwen3Dims>;

export type PresetName = keyof typeof PRESETS;

export function isPresetName(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

/** Std of the normal init HF records as initializer_range (informational here). */
export const INITIALIZER_RANGE = 0.02;

/** The full HF config.json for Qwen3ForSequenceClassification with these dims. */
export function hfConfig(dims: Qwen3Dims): Record<string, unknown> {
  const config: Record<string, unknown> = {
    architectures: ['Qwen3ForSequenceClassification'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: PAD_TOKEN_ID,
    eos_token_id: EOS_TOKEN_ID,
    head_dim: dims.head_dim,
    hidden_act: 'silu',
    hidden_size: dims.hidden_size,
    id2label: { '0': 'LABEL_0' },
    initializer_range: INITIALIZER_RANGE,
    intermediate_size: dims.intermediate_size,
    label2id: { LABEL_0: 0 },
    layer_types: Array.from({ length: dims.num_hidden_layers }, () => 'full_attention'),
    max_position_embeddings: 40960,
    max_window_layers: dims.num_hidden_layers,
    model_type: 'qwen3',
    num_attention_heads: dims.num_attention_heads,
    num_hidden_layers: dims.num_hidden_layers,
    num_key_value_heads: dims.num_key_value_heads,
    num_labels: 1,
    pad_token_id: dims.pad_token_id,
    rms_norm_eps: dims.rms_norm_eps,
    rope_scaling: null,
    rope_theta: dims.rope_theta,
    sliding_window: null,
    tie_word_embeddings: false,
    torch_dtype: 'float32',
    use_cache: false,
    use_sliding_window: false,
    vocab_size: dims.vocab_size,
  };
  return config;
}

/** Reads back the dims from a parsed config.json, checking the ones this architecture fixes. */
export function dimsFromConfig(config: Record<string, unknown>): Qwen3Dims {
  if (config.model_type !== 'qwen3') throw new Error(`config.json: model_type ${String(config.model_type)}, expected qwen3`);
  if (config.rope_scaling != null) throw new Error('config.json: rope_scaling is not supported');
  const num = (key: keyof Qwen3Dims): number => {
    const value = config[key];
    if (typeof value !== 'number') throw new Error(`config.json: ${key} must be a number`);
    return value;
  };
  return {
    hidden_size: num('hidden_size'),
    intermediate_size: num('intermediate_size'),
    num_hidden_layers: num('num_hidden_layers'),
    num_attention_heads: num('num_attention_heads'),
    num_key_value_heads: num('num_key_value_heads'),
    head_dim: num('head_dim'),
    vocab_size: num('vocab_size'),
    rms_norm_eps: num('rms_norm_eps'),
    rope_theta: num('rope_theta'),
    pad_token_id: num('pad_token_id'),
  };
}

export type WeightKind = 'embedding' | 'projection' | 'norm' | 'score';

export interface WeightShape {
  name: string;
  /** HF (PyTorch) layout: linear weights are [out_features, in_features]. */
  shape: number[];
  kind: WeightKind;
}

export const layerPrefix = (layer: number): string => `model.layers.${layer}`;

/** Every parameter of Qwen3ForSequenceClassification, in HF names and layout. */
export function weightShapes(dims: Qwen3Dims): WeightShape[] {
  const { hidden_size: h, intermediate_size: inter, head_dim: d } = dims;
  const qOut = dims.num_attention_heads * d;
  const kvOut = dims.num_key_value_heads * d;
  const shapes: WeightShape[] = [{ name: 'model.embed_tokens.weight', shape: [dims.vocab_size, h], kind: 'embedding' }];
  for (let layer = 0; layer < dims.num_hidden_layers; layer++) {
    const p = layerPrefix(layer);
    shapes.push(
      { name: `${p}.input_layernorm.weight`, shape: [h], kind: 'norm' },
      { name: `${p}.self_attn.q_proj.weight`, shape: [qOut, h], kind: 'projection' },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kvOut, h], kind: 'projection' },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kvOut, h], kind: 'projection' },
      { name: `${p}.self_attn.o_proj.weight`, shape: [h, qOut], kind: 'projection' },
      { name: `${p}.self_attn.q_norm.weight`, shape: [d], kind: 'norm' },
      { name: `${p}.self_attn.k_norm.weight`, shape: [d], kind: 'norm' },
      { name: `${p}.post_attention_layernorm.weight`, shape: [h], kind: 'norm' },
      { name: `${p}.mlp.gate_proj.weight`, shape: [inter, h], kind: 'projection' },
      { name: `${p}.mlp.up_proj.weight`, shape: [inter, h], kind: 'projection' },
      { name: `${p}.mlp.down_proj.weight`, shape: [h, inter], kind: 'projection' },
    );
  }
  shapes.push({ name: 'model.norm.weight', shape: [h], kind: 'norm' }, { name: 'score.weight', shape: [1, h], kind: 'score' });
  return shapes;
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function parameterCount(dims: Qwen3Dims): number {
  return weightShapes(dims).reduce((sum, w) => sum + elementCount(w.shape), 0);
}
