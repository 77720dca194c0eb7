// How a batch shares prefixes: which rows form groups around a common prefix, how a group's suffixes
// are cut into runs, and what that costs in tokens. The queue (to fill a batch within its budget)
// and PrefixSharingRewardModel (to run it) use the same rules, so the budget counts what runs.
// It lives in model/, the lower of the two folders: batch/ imports model/ and never the reverse.
//
// A group's prefix is the longest common prefix of its members' ids, cut so that every member keeps
// at least one suffix token (a member equal to the prefix shortens the prefix by one token).

export interface PrefixGroup {
  prefixLength: number;
  /** Indexes of the member rows. */
  members: number[];
}

export interface PrefixPlan {
  groups: PrefixGroup[];
  /** Rows that share no prefix of at least minTokens with another row: they run whole. */
  singles: number[];
}

export interface ChunkLimits {
  /** Largest padding share of one suffix run (MAX_PADDING_SHARE). */
  maxPaddingShare: number;
  /** Largest rows × suffix length × (prefix + suffix length) of one suffix run (MAX_BATCH_ATTENTION); 0: none. */
  maxAttention: number;
}

export function commonPrefixLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let k = 0;
  while (k < n && a[k] === b[k]) k++;
  return k;
}

function compareIds(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const k = commonPrefixLength(a, b);
  if (k < a.length && k < b.length) return a[k] - b[k];
  return a.length - b.length;
}

/**
 * Groups rows that share a prefix of at least minTokens, choosing the partition that skips the most
 * prefix tokens. In lexicographic order the rows sharing a prefix are contiguous, and the common
 * prefix of a contiguous run is the smallest common prefix of neighbours; a run is either one group
 * or split where that smallest value occurs (a shared system prompt over several questions splits
 * into one group per question when that skips more tokens).
 */
export function planPrefixGroups(rows: readonly ArrayLike<number>[], minTokens: number): PrefixPlan {
  const plan: PrefixPlan = { groups: [], singles: [] };
  if (minTokens <= 0) {
    plan.singles = rows.map((_, i) => i);
    return plan;
  }
  const order = rows.map((_, i) => i).sort((x, y) => compareIds(rows[x], rows[y]) || x - y);
  /** neighbour[k]: common prefix of order[k - 1] and order[k]. */
  const neighbour = order.map((row, k) => (k === 0 ? 0 : commonPrefixLength(rows[order[k - 1]], rows[row])));

  const best = (lo: number, hi: number): { saved: number; groups: PrefixGroup[] } => {
    if (lo === hi) return { saved: 0, groups: [] };
    let common = Infinity;
    let shortest = Infinity;
    for (let k = lo; k <= hi; k++) {
      if (k > lo) common = Math.min(common, neighbour[k]);
      shortest = Math.min(shortest, rows[order[k]].length);
    }
    const prefixLength = Math.min(common, shortest - 1);
    const whole = prefixLength >= minTokens ? (hi - lo) * prefixLength : -1;
    let split = { saved: 0, groups: [] as PrefixGroup[] };
    let start = lo;
    for (let k = lo + 1; k <= hi + 1; k++) {
      if (k <= hi && neighbour[k] !== common) continue;
      // A cut only where the common prefix is smallest; when every neighbour has it, the run cannot split further.
      if (start === lo && k === hi + 1) break;
      const part = best(start, k - 1);
      split = { saved: split.saved + part.saved, groups: [...split.groups, ...part.groups] };
      start = k;
    }
    if (whole >= 0 && whole >= split.saved) return { saved: whole, groups: [{ prefixLength, members: order.slice(lo, hi + 1) }] };
    return split;
  };

  let start = 0;
  for (let k = 1; k <= order.length; k++) {
    if (k < order.length && neighbour[k] >= minTokens) continue;
    const { groups } = best(start, k - 1);
    plan.groups.push(...groups);
    start = k;
  }
  const grouped = new Set(plan.groups.flatMap((g) => g.members));
  plan.singles = rows.map((_, i) => i).filter((i) => !grouped.has(i));
  return plan;
}

/**
 * The suffix runs of a group: members by suffix length, each run growing while its padding share
 * and its attention size stay within the limits (a single suffix always runs). Returns positions
 * into suffixLengths.
 */
export function chunkSuffixes(prefixLength: number, suffixLengths: readonly number[], limits: ChunkLimits): number[][] {
  const sorted = suffixLengths.map((_, i) => i).sort((x, y) => suffixLengths[x] - suffixLengths[y] || x - y);
  const chunks: number[][] = [];
  let current: number[] = [];
  let real = 0;
  for (const i of sorted) {
    const length = suffixLengths[i];
    const rows = current.length + 1;
    const padded = rows * length;
    const fits = padded - (real + length) <= limits.maxPaddingShare * padded
      && (limits.maxAttention === 0 || rows * length * (prefixLength + length) <= limits.maxAttention);
    if (current.length > 0 && !fits) {
      chunks.push(current);
      current = [];
      real = 0;
    }
    current.push(i);
    real += length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Tokens a group runs, padding included: its prefix once, then each suffix run padded to its longest. */
export function groupTokens(prefixLength: number, suffixLengths: readonly number[], limits: ChunkLimits): number {
  const chunks = chunkSuffixes(prefixLength, suffixLengths, limits);
  return prefixLength + chunks.reduce((n, c) => n + c.length * Math.max(...c.map((i) => suffixLengths[i])), 0);
}
