// How the queue cuts a batch from its pending entries, and how a batch becomes the model's tensors.
//
// A cut always takes the oldest live entry (no starvation) and grows around it among entries of
// similar length; it stops at MAX_BATCH_TOKENS padded tokens, MAX_BATCH_ATTENTION rows × length²,
// MAX_BATCH_ITEMS items, or MAX_PADDING_SHARE padding. A single item always makes a batch, however
// long. With prefix sharing on, an oldest entry that shares a prefix of PREFIX_MIN_TOKENS with others
// takes them instead, in arrival order, while the tokens that run (the prefix once unless the model
// caches it, each distinct suffix padded as prefix-plan.ts cuts its runs) fit MAX_BATCH_TOKENS.
import { rightPadded, type ModelBatch } from '../model/reward-model.ts';
import { commonPrefixLength, groupTokens } from '../model/prefix-plan.ts';

export interface BatchLimits {
  maxBatchTokens: number;
  /** Largest rows × padded length² of a batch (one head's attention scores); 0: no limit. */
  maxBatchAttention: number;
  /** Largest share of padding tokens a batch may have; an item that would exceed it waits for another batch. */
  maxPaddingShare: number;
  maxBatchItems: number;
  /** Items sharing a prefix this long are batched together, their prefix counted once (0 or unset: off). */
  prefixMinTokens?: number;
  /** Whether the model's prefix cache holds the first `length` tokens of ids: such a prefix costs nothing. */
  cachedPrefix?: (ids: Int32Array, length: number) => boolean;
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
  /** Set when the entries are a prefix group: every entry starts with these many shared tokens. */
  prefixLength?: number;
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
 * The oldest entry with pending entries that share its prefix, in arrival order while what runs fits:
 * the prefix once (nothing when the model's prefix cache holds it), and each distinct suffix (a
 * duplicate runs once) in runs cut as the model cuts them. Null when sharing is off or the entry has
 * no partner. The batch carries the prefix, so even an anchor taken alone runs it as a prefix and
 * leaves its keys and values in the cache for the partners that follow.
 */
function cutGroup<E extends Cuttable>(pending: readonly E[], opts: BatchLimits): Batch<E> | null {
  const min = opts.prefixMinTokens ?? 0;
  const anchor = pending[0];
  if (min === 0 || anchor.ids.length <= min) return null;
  const shared = new Map<E, number>();
  for (const e of pending) {
    const length = e === anchor ? 0 : commonPrefixLength(anchor.ids, e.ids);
    if (length >= min) shared.set(e, length);
  }
  if (shared.size === 0) return null;
  const prefixLength = Math.min(groupPrefix([...shared.values()]), anchor.ids.length - 1);
  const partners = [...shared.keys()].filter((e) => shared.get(e)! >= prefixLength && e.ids.length > prefixLength);
  const limits = { maxPaddingShare: opts.maxPaddingShare, maxAttention: opts.maxBatchAttention };
  const prefixCost = opts.cachedPrefix?.(anchor.ids, prefixLength) ? 0 : prefixLength;
  const taken = [anchor];
  /** Suffix lengths of the distinct members: a duplicate runs once. */
  const distinct: Int32Array[] = [anchor.ids];
  let full = false;
  for (const e of partners) {
    if (taken.length >= opts.maxBatchItems) {
      full = true;
      break;
    }
    const duplicate = distinct.some((d) => d.length === e.ids.length && commonPrefixLength(d, e.ids) === d.length);
    if (!duplicate) {
      const members = [...distinct, e.ids];
      const tokens = groupTokens(prefixLength, members.map((m) => m.length - prefixLength), limits) - prefixLength + prefixCost;
      if (tokens > opts.maxBatchTokens) {
        full = true;
        break;
      }
      distinct.push(e.ids);
    }
    taken.push(e);
  }
  const set = new Set(taken);
  const entries = pending.filter((e) => set.has(e));
  return { entries, seqLen: Math.max(...entries.map((e) => e.ids.length)), full, prefixLength };
}

/**
 * The prefix that skips the most tokens, from what the anchor shares with each partner: a length v
 * skips v tokens for each partner sharing at least v. A question shared by a group outweighs a
 * system prompt shared more widely, and a few program tokens two members happen to share do not
 * lengthen the group's prefix (which would then not be the one later members find in the cache).
 */
function groupPrefix(sharedLengths: number[]): number {
  const desc = [...sharedLengths].sort((a, b) => b - a);
  let best = desc[0];
  let bestSaved = 0;
  desc.forEach((v, k) => {
    // k + 1 partners share at least v tokens; ties go to the shorter prefix, which more members hold.
    if ((k + 1) * v >= bestSaved) {
      best = v;
      bestSaved = (k + 1) * v;
    }
  });
  return best;
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
  const tensors = rightPadded(batch.entries.map((e) => e.ids), batch.seqLen, padTokenId);
  return batch.prefixLength === undefined ? tensors : { ...tensors, prefixLength: batch.prefixLength };
}
