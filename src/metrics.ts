// Prometheus metrics, prefix `reward_`, on a registry of the app's own so tests can build many apps.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const TOKEN_BUCKETS = [64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'reward_requests_total', help: 'HTTP requests by route and status code.', labelNames: ['route', 'status'], registers: [this.registry] });
  readonly requestDuration = new Histogram({ name: 'reward_request_duration_seconds', help: 'HTTP request latency by route.', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly items = new Counter({ name: 'reward_items_total', help: 'Scored items by result status (ok, no_code, multiple_blocks, empty_code, syntax_error).', labelNames: ['status'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'reward_errors_total', help: 'Error answers by error code.', labelNames: ['code'], registers: [this.registry] });
  readonly queueItems = new Gauge({ name: 'reward_queue_items', help: 'Items waiting for the model.', registers: [this.registry] });
  readonly batchItems = new Histogram({ name: 'reward_batch_items', help: 'Items per model batch.', buckets: SIZE_BUCKETS, registers: [this.registry] });
  readonly batchTokens = new Histogram({ name: 'reward_batch_tokens', help: 'Padded tokens per model batch.', buckets: TOKEN_BUCKETS, registers: [this.registry] });
  readonly tokens = new Counter({ name: 'reward_tokens_total', help: 'Tokens sent to the model: real or padding.', labelNames: ['kind'], registers: [this.registry] });
  readonly queueDuration = new Histogram({ name: 'reward_queue_duration_seconds', help: 'Time an item waited before its batch started.', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly inferenceDuration = new Histogram({ name: 'reward_inference_duration_seconds', help: 'Model time per batch.', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly tokenizationDuration = new Histogram({ name: 'reward_tokenization_duration_seconds', help: 'Extraction, templating and tokenization time per request.', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly truncated = new Counter({ name: 'reward_truncated_items_total', help: 'Items right-truncated at MAX_LENGTH.', registers: [this.registry] });
  readonly droppedItems = new Counter({ name: 'reward_dropped_items_total', help: 'Queued items dropped before running because their client went away.', registers: [this.registry] });
  readonly workerRestarts = new Counter({ name: 'reward_model_worker_restarts_total', help: 'Model worker restarts after a crash.', registers: [this.registry] });
  readonly resultCacheHits = new Counter({ name: 'reward_result_cache_hits_total', help: 'Items answered from the result cache without the model.', registers: [this.registry] });
  readonly resultCacheMisses = new Counter({ name: 'reward_result_cache_misses_total', help: 'Items the result cache did not hold, sent to the model (not counted while RESULT_CACHE_ITEMS is 0).', registers: [this.registry] });
  readonly resultCacheItems = new Gauge({ name: 'reward_result_cache_items', help: 'Logits held by the result cache.', registers: [this.registry] });
  readonly collapsedItems = new Counter({ name: 'reward_collapsed_items_total', help: 'Items that shared the model run of an identical item in the same batch.', registers: [this.registry] });
  readonly computedTokens = new Counter({ name: 'reward_computed_tokens_total', help: 'Real tokens the network computed, by pass: whole items, shared prefixes (once per prefix cache miss) and suffixes against them. Against reward_tokens_total{kind="real"}, the tokens requested, it shows what duplicate collapse, the result cache and prefix sharing saved.', labelNames: ['pass'], registers: [this.registry] });
  readonly prefixSharedItems = new Counter({ name: 'reward_prefix_shared_items_total', help: 'Items scored as a suffix against a shared prefix\'s keys and values.', registers: [this.registry] });
  readonly prefixCacheHits = new Counter({ name: 'reward_prefix_cache_hits_total', help: 'Suffix runs whose prefix keys and values came from the prefix cache.', registers: [this.registry] });
  readonly prefixCacheMisses = new Counter({ name: 'reward_prefix_cache_misses_total', help: 'Suffix runs whose prefix had to run first (then cached).', registers: [this.registry] });
  readonly prefixCacheBytes = new Gauge({ name: 'reward_prefix_cache_bytes', help: 'Bytes of prefix keys and values held by the prefix cache (bounded by PREFIX_CACHE_MB).', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Zero-valued series exist from the start, so dashboards and rate() see them before traffic.
    this.tokens.inc({ kind: 'real' }, 0);
    this.tokens.inc({ kind: 'padding' }, 0);
    for (const pass of ['whole', 'prefix', 'suffix']) this.computedTokens.inc({ pass }, 0);
  }
}
