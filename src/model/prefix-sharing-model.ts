// Prefix sharing, as a RewardModel around one that has a past-keys graph: the rows of a batch that
// share a prefix of at least PREFIX_MIN_TOKENS (a GRPO group's question) run the prefix once and each
// suffix against its keys and values; the other rows run whole. The keys and values stay in the model
// worker's prefix cache, so the rest of a group, arriving in a later batch, shares them too.
//
//   batch ──planPrefixGroups──► groups ──chunkSuffixes──► predictSuffixes (prefix from cache or run)
//                          └──► rest ──────────────────────► predict (whole rows, as without sharing)
//
// The model's prefix cache (prefix-cache.ts) says which prefixes it holds, so a row that arrives alone
// still finds its question's prefix; the prefixes of the batch running now count as held too, for
// the queue cutting the next batch. With no past-keys graph, or PREFIX_MIN_TOKENS 0, every batch goes
// to the model as it came.
import { createHash } from 'node:crypto';
import { chunkSuffixes, commonPrefixLength, planPrefixGroups, type ChunkLimits, type PrefixGroup } from './prefix-plan.ts';
import type { Metrics } from '../metrics.ts';
import type { CachedPrefixes } from './prefix-cache.ts';
import { rightPadded, sharesPrefixes, type ModelBatch, type ModelInfo, type PrefixRewardModel, type RewardModel, type SuffixBatch } from './reward-model.ts';

export interface PrefixSharingOptions extends ChunkLimits {
  /** Shortest prefix worth sharing (PREFIX_MIN_TOKENS); 0 turns sharing off. */
  minTokens: number;
  padTokenId: number;
}

export class PrefixSharingRewardModel implements RewardModel {
  /** Key → length of the prefixes of the batch now running, which it leaves in the model's cache. */
  private readonly running = new Map<string, number>();
  private readonly sharing: PrefixRewardModel | undefined;

  constructor(
    private readonly inner: RewardModel,
    private readonly opts: PrefixSharingOptions,
    private readonly metrics?: Metrics,
  ) {
    this.sharing = opts.minTokens > 0 && sharesPrefixes(inner) ? inner : undefined;
  }

  /** Whether batches are split into prefix groups (a past-keys graph and PREFIX_MIN_TOKENS > 0). */
  get active(): boolean {
    return this.sharing !== undefined;
  }

  get info(): ModelInfo {
    return this.inner.info;
  }

  async predict(batch: ModelBatch): Promise<Float32Array> {
    const rows = rowsOf(batch);
    if (!this.sharing) return this.runWhole(batch, rows);
    const { groups, whole } = this.plan(this.sharing.prefixCache, rows, batch.prefixLength);
    // Held from now on for the queue, which cuts the next batch while this one runs: that batch runs
    // after this one has left the prefixes in the model's cache.
    const keys = groups.map((g) => keyOf(rows[g.members[0]].subarray(0, g.prefixLength)));
    groups.forEach((g, k) => this.running.set(keys[k], g.prefixLength));
    const logits = new Float32Array(batch.batchSize);
    try {
      if (whole.length > 0) {
        const ran = await this.runWhole(whole.length === batch.batchSize ? batch : padRows(whole.map((r) => rows[r]), this.opts.padTokenId), whole.map((r) => rows[r]));
        whole.forEach((row, i) => (logits[row] = ran[i]));
      }
      for (const [k, group] of groups.entries()) await this.runGroup(this.sharing, rows, group, keys[k], logits);
    } finally {
      this.running.clear();
    }
    return logits;
  }

  /**
   * Whether the model's cache holds (or the batch now running leaves there) the keys and values of
   * the first `length` tokens of ids: the queue then counts nothing for that prefix.
   */
  holds(ids: Int32Array, length: number): boolean {
    const key = keyOf(ids.subarray(0, length));
    return this.running.get(key) === length || this.sharing?.prefixCache.peek(key) === length;
  }

  /**
   * The rows' groups and the rows that run whole. A batch the queue cut as a prefix group is one
   * group, with the queue's prefix (the question, which later members will find in the cache);
   * otherwise rows are grouped by their longest common prefixes, and a row left alone uses a cached
   * prefix of its own when there is one.
   */
  private plan(cache: CachedPrefixes, rows: readonly Int32Array[], hinted: number | undefined): { groups: PrefixGroup[]; whole: number[] } {
    const all = rows.map((_, i) => i);
    if (hinted !== undefined && hinted >= this.opts.minTokens && rows.every((r) => r.length > hinted && commonPrefixLength(r, rows[0]) >= hinted)) {
      return { groups: [{ prefixLength: hinted, members: all }], whole: [] };
    }
    const plan = planPrefixGroups(rows, this.opts.minTokens);
    const groups = plan.groups.map((g) => this.preferCached(cache, rows, g));
    const whole: number[] = [];
    for (const row of plan.singles) {
      const prefixLength = this.cachedPrefixOf(cache, rows[row], rows[row].length - 1);
      if (prefixLength > 0) groups.push({ prefixLength, members: [row] });
      else whole.push(row);
    }
    return { groups, whole };
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async runWhole(batch: ModelBatch, rows: readonly Int32Array[]): Promise<Float32Array> {
    const logits = await this.inner.predict(batch);
    this.metrics?.computedTokens.inc({ pass: 'whole' }, rows.reduce((n, r) => n + r.length, 0));
    return logits;
  }

  private async runGroup(model: PrefixRewardModel, rows: readonly Int32Array[], group: PrefixGroup, prefixKey: string, logits: Float32Array): Promise<void> {
    const { prefixLength, members } = group;
    const prefixIds = rows[members[0]].slice(0, prefixLength);
    const suffixLengths = members.map((r) => rows[r].length - prefixLength);
    for (const chunk of chunkSuffixes(prefixLength, suffixLengths, this.opts)) {
      const suffixes = chunk.map((i) => rows[members[i]].subarray(prefixLength));
      const run = await model.predictSuffixes({ ...padRows(suffixes, this.opts.padTokenId), prefixIds, prefixKey, maxAttention: this.opts.maxAttention } satisfies SuffixBatch);
      chunk.forEach((i, k) => (logits[members[i]] = run.logits[k]));
      const m = this.metrics;
      if (!m) continue;
      if (run.prefixHit) m.prefixCacheHits.inc();
      else {
        m.prefixCacheMisses.inc();
        m.computedTokens.inc({ pass: 'prefix' }, prefixLength);
      }
      m.computedTokens.inc({ pass: 'suffix' }, suffixes.reduce((n, s) => n + s.length, 0));
      m.prefixSharedItems.inc(chunk.length);
      m.prefixCacheBytes.set(run.cacheBytes);
    }
  }

  /**
   * The longest prefix of `ids`, at most `limit` tokens and at least minTokens, whose keys and values
   * the worker holds; 0 when none.
   */
  private cachedPrefixOf(cache: CachedPrefixes, ids: Int32Array, limit: number): number {
    const lengths = cache.lengths().filter((l) => l >= this.opts.minTokens && l <= limit).sort((x, y) => y - x);
    return lengths.find((l) => cache.peek(keyOf(ids.subarray(0, l))) === l) ?? 0;
  }

  /**
   * A group whose own prefix is not cached may still start with one that is (an earlier batch of the
   * same question whose members shared a few more or fewer tokens): use it when lengthening every
   * suffix costs fewer tokens than the prefix pass it saves.
   */
  private preferCached(cache: CachedPrefixes, rows: readonly Int32Array[], group: PrefixGroup): PrefixGroup {
    const first = rows[group.members[0]];
    if (cache.peek(keyOf(first.subarray(0, group.prefixLength))) !== undefined) return group;
    const cached = this.cachedPrefixOf(cache, first, group.prefixLength - 1);
    if (cached === 0 || group.members.length * (group.prefixLength - cached) >= group.prefixLength) return group;
    // Members agree on their first prefixLength tokens, so the shorter cached prefix is theirs too.
    return { prefixLength: cached, members: group.members };
  }
}

/** SHA-256 of the ids: 44 characters whatever the prefix's length; a collision is ~2^-128 likely. */
function keyOf(ids: Int32Array): string {
  return createHash('sha256').update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength)).digest('base64');
}

/** Each row's real tokens (the mask's leading ones), as Int32. */
function rowsOf(batch: ModelBatch): Int32Array[] {
  const { inputIds, attentionMask, batchSize, seqLen } = batch;
  const ids32 = new Int32Array(inputIds.buffer, inputIds.byteOffset, inputIds.length * 2);
  const mask32 = new Int32Array(attentionMask.buffer, attentionMask.byteOffset, attentionMask.length * 2);
  const rows: Int32Array[] = [];
  for (let r = 0; r < batchSize; r++) {
    const base = 2 * r * seqLen;
    let length = 0;
    while (length < seqLen && mask32[base + 2 * length] === 1) length++;
    const row = new Int32Array(length);
    for (let t = 0; t < length; t++) row[t] = ids32[base + 2 * t];
    rows.push(row);
  }
  return rows;
}

/** Right-padded int64 tensors of the rows, as the queue lays a batch out. */
function padRows(rows: readonly Int32Array[], padTokenId: number): ModelBatch {
  return rightPadded(rows, Math.max(...rows.map((r) => r.length)), padTokenId);
}
