// The data path without HTTP: prep threads, batch queue and scorer around a loaded model, built once
// from the configuration. The service (app.ts) puts routes in front of it; the offline scoring CLI
// (cli/score-file.ts) feeds it a JSONL file.
import { BatchQueue } from './batch/queue.ts';
import { batchAttentionBudget, batchTokenBudget, isExplicit, prefixSharingWanted, providerSetting, type Config } from './config.ts';
import { DedupingRewardModel } from './model/deduping-model.ts';
import type { LogSink } from './log.ts';
import { Metrics } from './metrics.ts';
import type { ModelDir } from './model/model-dir.ts';
import { OnnxRewardModel } from './model/onnx-model.ts';
import { PrefixSharingRewardModel } from './model/prefix-sharing-model.ts';
import { modelShape } from './provider-defaults.ts';
import type { RewardModel } from './model/reward-model.ts';
import { InlinePreparer, type Preparer } from './prep/prepare.ts';
import { PrepPool } from './prep/pool.ts';
import { Scorer } from './scorer.ts';

export interface Engine {
  metrics: Metrics;
  queue: BatchQueue;
  preparer: Preparer;
  scorer: Scorer;
  maxBatchTokens: number;
  maxBatchAttention: number;
  /** MAX_PADDING_SHARE in force: as set, else by provider. */
  maxPaddingShare: number;
  /** Shortest shared prefix run once (PREFIX_MIN_TOKENS), or 0 when prefix sharing is off for this model. */
  prefixMinTokens: number;
}

export async function createEngine(config: Config, modelDir: ModelDir, model: RewardModel, log: Pick<LogSink, 'error'>): Promise<Engine> {
  const metrics = new Metrics();
  const provider = model.info.executionProvider;
  // The model's sizes set the CUDA defaults only (a test's model directory may lack them).
  const shape = provider === 'cuda' ? modelShape(modelDir.config, modelDir.dtype) : undefined;
  const maxBatchTokens = batchTokenBudget(config, provider, shape);
  const maxBatchAttention = batchAttentionBudget(config, provider, shape);
  const maxPaddingShare = providerSetting(config, 'MAX_PADDING_SHARE', provider, shape);
  // Rows sharing a long prefix run it once (with model-past.onnx), and everything that reaches the
  // network is counted there.
  const sharing = new PrefixSharingRewardModel(model, {
    minTokens: prefixSharingWanted(config) ? config.PREFIX_MIN_TOKENS : 0,
    maxPaddingShare,
    maxAttention: maxBatchAttention,
    padTokenId: modelDir.padTokenId,
  }, metrics);
  // Identical rows of a batch run once; repeats of earlier rows come from the result cache.
  const queue = new BatchQueue(new DedupingRewardModel(sharing, config.RESULT_CACHE_ITEMS, metrics), {
    maxBatchTokens,
    maxBatchAttention,
    maxBatchItems: config.MAX_BATCH_ITEMS,
    maxPaddingShare,
    maxWaitMs: config.MAX_WAIT_MS,
    maxQueueItems: config.MAX_QUEUE_ITEMS,
    admissionTimeoutMs: config.ADMISSION_TIMEOUT_MS,
    padTokenId: modelDir.padTokenId,
    retryAfterS: config.RETRY_AFTER_S,
    prefixMinTokens: sharing.active ? config.PREFIX_MIN_TOKENS : 0,
    cachedPrefix: (ids, length) => sharing.holds(ids, length),
  }, metrics);
  // The tokenizer lives in the prep threads only, unless PREP_THREADS=0 puts it on the event loop:
  // only then does this thread load prompt.ts.
  const preparer: Preparer = config.PREP_THREADS === 0
    ? new InlinePreparer(new (await import('./prompt/prompt.ts')).PromptEncoder(modelDir, config.MAX_LENGTH))
    : await PrepPool.create(
      { tokenizerPath: modelDir.tokenizerPath, tokenizerConfig: modelDir.tokenizerConfig, chatTemplate: modelDir.chatTemplate, maxLength: config.MAX_LENGTH },
      config.PREP_THREADS,
      log,
      { sliceTimeoutMs: config.PREP_SLICE_TIMEOUT_MS },
    );
  const scorer = new Scorer(preparer, queue, metrics);
  return { metrics, queue, preparer, scorer, maxBatchTokens, maxBatchAttention, maxPaddingShare, prefixMinTokens: sharing.active ? config.PREFIX_MIN_TOKENS : 0 };
}

/**
 * The ONNX Runtime model of MODEL_DIR in its worker thread, as the configuration asks. A bf16
 * export runs without model-past.onnx: its past keys and values are bf16 inputs, and
 * onnxruntime-node has no bfloat16 tensors to feed them with (nor the empty ones the joined
 * graph's whole-item branch takes).
 */
export async function startModel(config: Config, modelDir: ModelDir, log: LogSink): Promise<OnnxRewardModel> {
  const past = prefixSharingWanted(config) && modelDir.pastOnnxPath !== undefined;
  if (past && modelDir.dtype === 'bfloat16') {
    log.warn('prefix sharing is off for this bfloat16 export: onnxruntime-node cannot make the bfloat16 tensors model-past.onnx takes; the fp16 export shares prefixes');
  }
  return OnnxRewardModel.create({
    onnxPath: modelDir.onnxPath,
    provider: config.EXECUTION_PROVIDER,
    allowFp32Cuda: config.ALLOW_FP32_CUDA === 1,
    intraOpThreads: config.INTRA_OP_THREADS,
    prepack: config.PREPACK_WEIGHTS === 'on',
    // Unset, these two are chosen in the worker once it knows the provider (provider-defaults.ts).
    ...(isExplicit(config, 'MODEL_NICE') && { nice: config.MODEL_NICE }),
    name: modelDir.name,
    dtype: modelDir.dtype,
    retryAfterS: config.RETRY_AFTER_S,
    inferenceTimeoutMs: config.INFERENCE_TIMEOUT_MS,
    ...(past && modelDir.dtype !== 'bfloat16' && { pastOnnxPath: modelDir.pastOnnxPath, ...(isExplicit(config, 'PREFIX_CACHE_MB') && { prefixCacheBytes: config.PREFIX_CACHE_MB * 1024 * 1024 }) }),
    log,
  });
}
