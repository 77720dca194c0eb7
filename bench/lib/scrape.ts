// /metrics before and after a phase: the service's own account of batches, padding and busy time.

/** Series name with labels (as printed) → value. */
export type Sample = Map<string, number>;

/** A counter summed over its labels. */
export const counterSum = (s: Sample, name: string): number =>
  [...s.entries()].filter(([k]) => k === name || k.startsWith(`${name}{`)).reduce((n, [, v]) => n + v, 0);

export async function scrape(base: string): Promise<Sample> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Sample = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

export interface PhaseMetrics {
  batches: number;
  meanBatchItems: number;
  /** Batches per size bucket (upper bound `le` → count in this phase), non-empty buckets only. */
  batchItemsHistogram: Record<string, number>;
  realTokens: number;
  paddingTokens: number;
  paddingShare: number;
  /** Sum of batch model times over the phase's wall time: 1 means the model never waited. */
  modelBusyShare: number;
  meanInferenceMs: number;
  /** Main-thread extraction + template + tokenization time per scored request. */
  meanTokenizationMs: number;
  meanQueueMs: number;
  itemsByStatus: Record<string, number>;
}

const get = (s: Sample, key: string): number => s.get(key) ?? 0;

export function phaseMetrics(before: Sample, after: Sample, wallS: number): PhaseMetrics {
  const d = (key: string) => get(after, key) - get(before, key);
  const batches = d('reward_batch_items_count');
  const real = d('reward_tokens_total{kind="real"}');
  const padding = d('reward_tokens_total{kind="padding"}');
  const histogram: Record<string, number> = {};
  let below = 0;
  for (const key of after.keys()) {
    const m = /^reward_batch_items_bucket\{le="([^"]+)"\}$/.exec(key);
    if (!m) continue;
    const cumulative = d(key);
    if (cumulative - below > 0) histogram[m[1]] = cumulative - below;
    below = cumulative;
  }
  const itemsByStatus: Record<string, number> = {};
  for (const key of after.keys()) {
    const m = /^reward_items_total\{status="([^"]+)"\}$/.exec(key);
    if (m && d(key) > 0) itemsByStatus[m[1]] = d(key);
  }
  const tokenizations = d('reward_tokenization_duration_seconds_count');
  const queued = d('reward_queue_duration_seconds_count');
  return {
    batches,
    meanBatchItems: batches > 0 ? d('reward_batch_items_sum') / batches : 0,
    batchItemsHistogram: histogram,
    realTokens: real,
    paddingTokens: padding,
    paddingShare: real + padding > 0 ? padding / (real + padding) : 0,
    modelBusyShare: d('reward_inference_duration_seconds_sum') / wallS,
    meanInferenceMs: batches > 0 ? (1000 * d('reward_inference_duration_seconds_sum')) / batches : 0,
    meanTokenizationMs: tokenizations > 0 ? (1000 * d('reward_tokenization_duration_seconds_sum')) / tokenizations : 0,
    meanQueueMs: queued > 0 ? (1000 * d('reward_queue_duration_seconds_sum')) / queued : 0,
    itemsByStatus,
  };
}
