// The defaults chosen by provider and model sizes (src/provider-defaults.ts): the arithmetic
// written in docs/models.md, for the CodeScaler sizes, and how it moves with the model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kvBytesPerToken, liveBytesPerToken, modelShape, providerDefaults } from '../src/provider-defaults.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Qwen3's config.json sizes: 1.7B, 4B and 8B (layers, hidden, intermediate, heads, KV heads; head_dim 128). */
const QWEN3 = {
  '1.7B': { num_hidden_layers: 28, hidden_size: 2048, intermediate_size: 6144, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128 },
  '4B': { num_hidden_layers: 36, hidden_size: 2560, intermediate_size: 9728, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128 },
  '8B': { num_hidden_layers: 36, hidden_size: 4096, intermediate_size: 12288, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128 },
};

describe('provider defaults', () => {
  it('1.7B fp16: 48 KiB of live activations and 112 KiB of keys and values per token', () => {
    const shape = modelShape(QWEN3['1.7B'], 'float16');
    assert.equal(liveBytesPerToken(shape), 48 * KiB);
    assert.equal(kvBytesPerToken(shape), 112 * KiB);
    assert.equal(kvBytesPerToken(modelShape(QWEN3['1.7B'], 'float32')), 224 * KiB);
  });

  it('CUDA: the batch budget fits 1 GiB of activations, no attention cap, padding 0.25, 8 questions of prefix cache, nice 0', () => {
    assert.deepEqual(providerDefaults('cuda', modelShape(QWEN3['1.7B'], 'float16')), {
      maxBatchTokens: 16384, maxBatchAttention: 0, maxPaddingShare: 0.25, prefixCacheBytes: 896 * MiB, modelNice: 0,
    });
    // Wider models get smaller batches and a bigger prefix cache for the same questions.
    const big = providerDefaults('cuda', modelShape(QWEN3['8B'], 'bfloat16'));
    assert.equal(big.maxBatchTokens, 8192);
    assert.equal(big.prefixCacheBytes, 8 * 1024 * 36 * 2 * 8 * 128 * 2);
    assert.equal(providerDefaults('cuda', modelShape(QWEN3['4B'], 'float16')).maxBatchTokens, 8192);
    // The tiny demo model would fit far more; the budget stops at 65,536 tokens.
    assert.equal(providerDefaults('cuda', modelShape({ num_hidden_layers: 2, hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32 }, 'float16')).maxBatchTokens, 65536);
  });

  it('CPU: the measured values, whatever the model', () => {
    for (const sizes of Object.values(QWEN3)) {
      assert.deepEqual(providerDefaults('cpu', modelShape(sizes, 'float32')), {
        maxBatchTokens: 1024, maxBatchAttention: 1024 * 1024, maxPaddingShare: 0.1, prefixCacheBytes: 64 * MiB, modelNice: 10,
      });
    }
  });

  it('a config.json without the sizes is refused by name', () => {
    assert.throws(() => modelShape({ hidden_size: 2048 }, 'float16'), /config\.json: num_attention_heads must be a positive integer/);
  });
});
