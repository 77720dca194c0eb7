// How the queue cuts a batch from its pending entries, and how a batch becomes the model's tensors.
//
// A cut always takes the oldest live entry (no starvation) and grows around it among entries of
// similar length; it stops at MAX_BATCH_TOKENS padded tokens, MAX_BATCH_ATTENTION rows × length²,
// MAX_BATCH_ITEMS items, or MAX_PADDING_SHARE padding. A single item always makes a batch, however
// long. With prefix sharing on, an oldest entry that shares a prefix of PREFIX_MIN_TOKENS with others
// takes them instead, in arrival order, while the tokens that run (the prefix once, each distinct
// suffix padded as prefix-plan.ts cuts its runs) fit MAX_BATCH_TOKENS.
import { rightPadded, type ModelBatch } from '../model/reward-model.ts';
import { commonPrefixLength, groupTokens, sharePrefix } from './prefix-plan.ts';

export interface BatchLimits {
  maxBatchTokens: number;
  /** Largest rows × padded length² of a batch (one head's attention scores); 0: no limit. */
  maxBatchAttention: number;
  /** Largest share of padding tokens a batch may have; an item that would exceed it waits for another batch. */
  maxPaddingShare: number;
  maxBatchItems: number;
  /** Items sharing a prefix this long are batched together, their prefix counted once (0 or unset: off). */
  prefixMinTokens?: number;
}

/** What a cut reads of a pending entry: its arrival order and its token ids. */
export interface Cuttable {
  seq: number;
  ids: Int32Array;
}

export interface Batch<E extends Cuttable> {
  entries: E[];
  seqLen: number;
  /** True when the cut stopped at a limit, so waiting longer would not make it bigger. */
  full: boolean;
}

/**
 * Takes the oldest pending entry and grows a window around it in length order, each step adding
 * the neighbour that adds the fewest padding tokens, while the padded size fits the budget.
 * `pending` is in arrival order; the batch's entries keep that order, and the caller removes them.
 */
export function cutBatch<E extends Cuttable>(pending: readonly E[], limits: BatchLimits): Batch<E> {
  return cutGroup(pending, limits) ?? cutByLength(pending, limits);
}

/**
 * The oldest entry with the pending entries that share its first PREFIX_MIN_TOKENS tokens, in
 * arrival order while what runs fits: the common prefix once, and each distinct suffix (a duplicate
 * runs once) in runs cut as the model cuts them. Null when sharing is off or the entry has no partner.
 */
function cutGroup<E extends Cuttable>(pending: readonly E[], opts: BatchLimits): Batch<E> | null {
  const min = opts.prefixMinTokens ?? 0;
  const anchor = pending[0];
  if (min === 0 || anchor.ids.length <= min) return null;
  const partners = pending.filter((e) => e !== anchor && sharePrefix(anchor.ids, e.ids, min));
  if (partners.length === 0) return null;
  const limits = { maxPaddingShare: opts.maxPaddingShare, maxAttention: opts.maxBatchAttention };
  const taken = [anchor];
  /** Distinct members' full lengths, and the prefix they all share with the anchor. */
  const distinct: Int32Array[] = [anchor.ids];
  let common = anchor.ids.length;
  let full = false;
  for (const e of partners) {
    if (taken.length >= opts.maxBatchItems) {
      full = true;
      break;
    }
    const shared = commonPrefixLength(anchor.ids, e.ids);
    const duplicate = distinct.some((d) => d.length === e.ids.length && commonPrefixLength(d, e.ids) === d.length);
    const members = duplicate ? distinct : [...distinct, e.ids];
    const nextCommon = Math.min(common, shared);
    const prefixLength = Math.min(nextCommon, ...members.map((m) => m.length - 1));
    const tokens = groupTokens(prefixLength, members.map((m) => m.length - prefixLength), limits);
    if (tokens > opts.maxBatchTokens) {
      full = true;
      break;
    }
    taken.push(e);
    if (!duplicate) distinct.push(e.ids);
    common = nextCommon;
  }
  const set = new Set(taken);
  const entries = pending.filter((e) => set.has(e));
  return { entries, seqLen: Math.max(...entries.map((e) => e.ids.length)), full };
}

function cutByLength<E extends Cuttable>(pending: readonly E[], opts: BatchLimits): Batch<E> {
  const { maxBatchTokens, maxBatchAttention, maxBatchItems, maxPaddingShare } = opts;
  const anchor = pending[0];
  const byLength = [...pending].sort((a, b) => a.ids.length - b.ids.length || a.seq - b.seq);
  let lo = byLength.indexOf(anchor);
  let hi = lo;
  let seqLen = anchor.ids.length;
  let real = seqLen;
  let full = false;
  // A candidate joins only if the batch stays within the token and attention budgets and the padding share.
  const fits = (count: number, len: number, tokens: number) => count * len <= maxBatchTokens
    && (maxBatchAttention === 0 || count * len * len <= maxBatchAttention)
    && count * len - tokens <= maxPaddingShare * count * len;
  while (hi - lo + 1 < maxBatchItems) {
    const count = hi - lo + 1;
    const left = lo > 0 ? byLength[lo - 1] : undefined;
    const right = hi < byLength.length - 1 ? byLength[hi + 1] : undefined;
    const leftFits = left !== undefined && fits(count + 1, seqLen, real + left.ids.length);
    const rightFits = right !== undefined && fits(count + 1, right.ids.length, real + right.ids.length);
    if (!leftFits && !rightFits) {
      full = left !== undefined || right !== undefined;
      break;
    }
    const leftPad = leftFits ? seqLen - left!.ids.length : Infinity;
    const rightPad = rightFits ? count * (right!.ids.length - seqLen) : Infinity;
    if (leftPad <= rightPad) {
      lo--;
      real += left!.ids.length;
    } else {
      hi++;
      seqLen = right!.ids.length;
      real += seqLen;
    }
  }
  if (hi - lo + 1 >= maxBatchItems) full = true;
  const taken = new Set(byLength.slice(lo, hi + 1));
  const entries = pending.filter((e) => taken.has(e));
  return { entries, seqLen, full };
}

/** The batch's rows as right-padded int64 tensors in one buffer (one transfer to the model worker). */
export function assembleBatch(batch: Batch<Cuttable>, padTokenId: number): ModelBatch {
  return rightPadded(batch.entries.map((e) => e.ids), batch.seqLen, padTokenId);
}
