// What GET /info answers: the model served and the batching limits in force, for operators. No
// filesystem path: the model directory goes out as its folder name.
import { basename } from 'node:path';
import type { Config } from '../config.ts';
import type { ModelDir } from '../model/model-dir.ts';

export interface Budgets {
  maxBatchTokens: number;
  maxBatchAttention: number;
  maxPaddingShare: number;
}

const integer = { type: 'integer' } as const;

/** GET /info's answer, as documented; open, so that a field added to serviceInfo is never dropped. */
export const infoSchema = {
  type: 'object',
  description: 'Model and limits.',
  required: ['model', 'dtype', 'execution_provider', 'max_length', 'batching'],
  additionalProperties: true,
  properties: {
    model: { type: 'string' },
    dtype: { type: 'string' },
    execution_provider: { type: 'string' },
    max_length: integer,
    chat_template_source: { type: 'string' },
    batching: {
      type: 'object',
      additionalProperties: true,
      properties: {
        max_batch_tokens: integer,
        max_batch_attention: { type: 'integer', description: 'Largest rows × padded length² of a batch; 0: no limit.' },
        max_batch_items: integer,
        max_padding_share: { type: 'number' },
        max_wait_ms: integer,
        max_queue_items: integer,
        admission_timeout_ms: { type: 'integer', description: 'How long a request waits for room in the queue before a 503; 0: refused at once.' },
        max_client_batch: integer,
        prep_threads: { type: 'integer', description: 'Threads preparing items off the event loop; 0: on it.' },
      },
    },
  },
} as const;

export function serviceInfo(config: Config, modelDir: ModelDir, executionProvider: string, budgets: Budgets): Record<string, unknown> {
  return {
    model: modelDir.name,
    model_dir: basename(modelDir.dir),
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
