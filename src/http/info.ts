// What GET /info answers: the model served and the batching limits in force, for operators.
import type { Config } from '../config.ts';
import type { ModelDir } from '../model/model-dir.ts';

export interface Budgets {
  maxBatchTokens: number;
  maxBatchAttention: number;
  maxPaddingShare: number;
}

export function serviceInfo(config: Config, modelDir: ModelDir, executionProvider: string, budgets: Budgets): Record<string, unknown> {
  return {
    model: modelDir.name,
    model_dir: modelDir.dir,
    dtype: modelDir.dtype,
    execution_provider: executionProvider,
    max_length: config.MAX_LENGTH,
    chat_template_source: modelDir.chatTemplateSource,
    batching: {
      max_batch_tokens: budgets.maxBatchTokens,
      max_batch_attention: budgets.maxBatchAttention,
      max_batch_items: config.MAX_BATCH_ITEMS,
      max_padding_share: budgets.maxPaddingShare,
      max_wait_ms: config.MAX_WAIT_MS,
      max_queue_items: config.MAX_QUEUE_ITEMS,
      admission_timeout_ms: config.ADMISSION_TIMEOUT_MS,
      max_client_batch: config.MAX_CLIENT_BATCH,
      prep_threads: config.PREP_THREADS,
    },
  };
}
