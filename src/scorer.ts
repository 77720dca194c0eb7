// The data path for one request: prepare (extract → validity → template + tokenize, on the prep
// threads) → batch queue → shape.
import type { BatchQueue, Scored } from './batch/queue.ts';
import type { ExtractionMode } from './extract/fences.ts';
import type { Metrics } from './metrics.ts';
import type { ItemStatus, Preparer, ScoreItem } from './prep/prepare.ts';
import type { Prompt } from './prompt/prompt.ts';
import { shapeReward, type Shaping } from './shape/shaping.ts';

export type { ItemStatus, ScoreItem } from './prep/prepare.ts';

export interface ItemResult {
  reward: number;
  raw_score: number | null;
  valid: boolean;
  status: ItemStatus;
  truncated: boolean;
  prompt_tokens: number;
  detail?: { line: number; message: string };
}

export interface Timing {
  tokenizationMs: number;
  /** How long the request waited for room in the queue before its first items were admitted. */
  admissionMs: number;
  /** Longest wait of any item of the request before its batch started, from its admission. */
  queueMs: number;
  /** Longest model time of the batches the request's items ran in. */
  inferenceMs: number;
}

export interface ScoreOutcome {
  results: ItemResult[];
  usage: { prompt_tokens: number; scored_items: number; skipped_items: number };
  timing: Timing;
}

export interface RawOutcome {
  logits: number[];
  prompts: Prompt[];
  timing: Timing;
}

export class Scorer {
  constructor(
    private readonly preparer: Preparer,
    private readonly queue: BatchQueue,
    private readonly metrics: Metrics,
  ) {}

  async score(items: readonly ScoreItem[], extraction: ExtractionMode, shaping: Shaping, signal?: AbortSignal): Promise<ScoreOutcome> {
    const started = performance.now();
    const prepared = await this.preparer.prepare(items, extraction, shaping, signal);
    const tokenizationMs = performance.now() - started;
    const results: ItemResult[] = [];
    const toRun: { index: number; prompt: Prompt }[] = [];
    prepared.forEach(({ status, detail, prompt }, i) => {
      const result: ItemResult = { reward: 0, raw_score: null, valid: status === 'ok', status, truncated: false, prompt_tokens: 0, ...(detail && { detail }) };
      results.push(result);
      if (prompt) {
        result.truncated = prompt.truncated;
        result.prompt_tokens = prompt.ids.length;
        toRun.push({ index: i, prompt });
      }
    });

    const scored = await this.run(toRun.map((r) => r.prompt), signal);
    toRun.forEach(({ index }, k) => {
      results[index].raw_score = scored[k].logit;
    });
    for (const r of results) {
      r.reward = shapeReward(shaping, r.valid, r.raw_score);
      this.metrics.items.inc({ status: r.status });
      if (r.truncated) this.metrics.truncated.inc();
    }
    this.metrics.tokenizationDuration.observe(tokenizationMs / 1000);
    return {
      results,
      usage: {
        prompt_tokens: results.reduce((s, r) => s + r.prompt_tokens, 0),
        scored_items: toRun.length,
        skipped_items: items.length - toRun.length,
      },
      timing: { tokenizationMs, ...summarize(scored) },
    };
  }

  /** Already-templated texts, tokenized as given (special tokens added when asked): raw logits, no extraction, no shaping. */
  async scoreTexts(texts: readonly string[], signal?: AbortSignal, addSpecialTokens = false, keepLast?: number): Promise<RawOutcome> {
    const started = performance.now();
    const prompts = await this.preparer.encodeTexts(texts, signal, addSpecialTokens, keepLast);
    return this.scorePrompts(prompts, signal, performance.now() - started);
  }

  /** Prompts already tokenized (vLLM's token-id input): raw logits, no extraction, no shaping. */
  async scorePrompts(prompts: Prompt[], signal?: AbortSignal, tokenizationMs = 0): Promise<RawOutcome> {
    for (const p of prompts) if (p.truncated) this.metrics.truncated.inc();
    this.metrics.tokenizationDuration.observe(tokenizationMs / 1000);
    const scored = await this.run(prompts, signal);
    return { logits: scored.map((s) => s.logit), prompts, timing: { tokenizationMs, ...summarize(scored) } };
  }

  private async run(prompts: Prompt[], signal?: AbortSignal): Promise<Scored[]> {
    if (prompts.length === 0) return [];
    return Promise.all(this.queue.submit(prompts.map((p) => p.ids), signal));
  }
}

function summarize(scored: readonly Scored[]): { admissionMs: number; queueMs: number; inferenceMs: number } {
  let admissionMs = 0;
  let queueMs = 0;
  let inferenceMs = 0;
  for (const s of scored) {
    admissionMs = Math.max(admissionMs, s.admissionMs);
    queueMs = Math.max(queueMs, s.queueMs);
    inferenceMs = Math.max(inferenceMs, s.inferenceMs);
  }
  return { admissionMs, queueMs, inferenceMs };
}
