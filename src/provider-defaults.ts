// The batching, prefix-cache and priority defaults, chosen by execution provider and by the model's
// own sizes (config.json and dtype) rather than by one constant. A setting given explicitly always
// wins (config.ts: isExplicit). The arithmetic, for Qwen3-1.7B in fp16 (28 layers, hidden 2048,
// intermediate 6144, 16 query and 8 KV heads of 128):
//
//   live activations per token  2 B × (4 × 2048 + (16 + 2 × 8) × 128 + 2 × 6144)  = 48 KiB
//   MAX_BATCH_TOKENS (CUDA)     largest power of two with tokens × 48 KiB ≤ 1 GiB    = 16,384
//   keys and values per token   28 layers × 2 × 8 heads × 128 × 2 B                = 112 KiB
//   prefix cache (CUDA)         8 questions × 1,024 tokens × 112 KiB                  = 896 MiB
//
// The CPU defaults are measured (npm run bench:sweep and bench:grpo, README); the CUDA ones are
// reasoned from sizes and have not run on a GPU.

/** The sizes of a decoder that set memory per token, from its config.json and the export's dtype. */
export interface ModelShape {
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Bytes of one activation value: 2 for fp16/bf16, 4 for fp32. */
  bytesPerValue: number;
}

function positive(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new Error(`config.json: ${key} must be a positive integer to size the defaults, got ${JSON.stringify(config[key])}`);
  return value;
}

export function modelShape(config: Record<string, unknown>, dtype: string): ModelShape {
  const hidden = positive(config, 'hidden_size');
  const heads = positive(config, 'num_attention_heads');
  return {
    layers: positive(config, 'num_hidden_layers'),
    hidden,
    intermediate: positive(config, 'intermediate_size'),
    heads,
    kvHeads: positive(config, 'num_key_value_heads', heads),
    headDim: positive(config, 'head_dim', hidden / heads),
    bytesPerValue: dtype === 'float16' || dtype === 'bfloat16' ? 2 : 4,
  };
}

/**
 * Bytes a fused batch holds live per token at its widest point in a layer: the residual stream, its
 * normed copy, attention's input and output, q/k/v, and the MLP's gate and up projections.
 */
export function liveBytesPerToken(s: ModelShape): number {
  return s.bytesPerValue * (4 * s.hidden + (s.heads + 2 * s.kvHeads) * s.headDim + 2 * s.intermediate);
}

/** Keys and values of one token over every layer: what a shared prefix costs the prefix cache per token. */
export function kvBytesPerToken(s: ModelShape): number {
  return s.layers * 2 * s.kvHeads * s.headDim * s.bytesPerValue;
}

export interface ProviderDefaults {
  maxBatchTokens: number;
  /** 0: no cap. */
  maxBatchAttention: number;
  maxPaddingShare: number;
  prefixCacheBytes: number;
  modelNice: number;
}

const MiB = 1024 * 1024;
/** Activation memory one CUDA batch may hold live: a small share of any data-centre GPU beside the weights. */
const CUDA_ACTIVATION_BUDGET = 1024 * MiB;
/** Questions of this many tokens the CUDA prefix cache holds: a GRPO step's groups in flight, with room. */
const CUDA_PREFIX_QUESTIONS = 8;
const CUDA_QUESTION_TOKENS = 1024;

/** The defaults for `provider`; the model's sizes matter on CUDA only. */
export function providerDefaults(provider: string, shape: ModelShape | undefined): ProviderDefaults {
  if (provider !== 'cuda') {
    // Measured on 2 shared cores (README): small batches cost less CPU time per item; the attention cap
    // bounds activation memory; the model's threads yield to the event loop.
    return { maxBatchTokens: 1024, maxBatchAttention: 1024 * 1024, maxPaddingShare: 0.1, prefixCacheBytes: 64 * MiB, modelNice: 10 };
  }
  if (!shape) throw new Error('the CUDA defaults need the model\'s sizes (config.json); this is a bug');
  const fits = Math.floor(CUDA_ACTIVATION_BUDGET / liveBytesPerToken(shape));
  return {
    // A power of two within the activation budget, from 2,048 (a batch worth a kernel launch) to 65,536.
    maxBatchTokens: Math.min(65536, Math.max(2048, 2 ** Math.floor(Math.log2(fits)))),
    // GroupQueryAttention's CUDA kernels (flash, memory-efficient) never hold rows × length² scores.
    maxBatchAttention: 0,
    // A GPU computes padding nearly for free next to a launch; bigger batches matter more.
    maxPaddingShare: 0.25,
    // Every output comes back to the host (onnxruntime-node has no device-resident outputs for CUDA), so the cache is host memory.
    prefixCacheBytes: CUDA_PREFIX_QUESTIONS * CUDA_QUESTION_TOKENS * kvBytesPerToken(shape),
    // The model thread mostly waits on the GPU; lowering it would only delay kernel launches.
    modelNice: 0,
  };
}
