// The record of which prefixes' keys and values the model worker holds: a map from a prefix's key to
// its length, bounded by bytes (PREFIX_CACHE_MB), least recently used out first. It is the one record
// of the prefix cache: it lives on the main thread with the worker's owner (OnnxRewardModel), which
// decides every hit, store and eviction here and sends the decision with the suffix batch; the
// worker keeps the tensors and does as told. The queue and the sharing wrapper read it without a
// message to the worker, and nothing has to mirror the worker's own bookkeeping.
//
// Invariant: a Map iterates in insertion order and every hit re-inserts its key, so the first key is
// always the least recently used; `bytes` is the sum of the held entries' sizes and never exceeds
// `capacityBytes` after set() returns. An entry larger than the whole cache is not kept.

/** What the sharing wrapper and the queue read of the prefix cache, without touching its order. */
export interface CachedPrefixes {
  /** The length of the prefix held under `key`, undefined when none is. */
  peek(key: string): number | undefined;
  /** The distinct lengths of the held prefixes. */
  lengths(): number[];
}

export class PrefixCache implements CachedPrefixes {
  private readonly entries = new Map<string, { length: number; bytes: number }>();
  private held = 0;

  /** capacityBytes 0 keeps nothing. */
  constructor(readonly capacityBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The held prefix's length, now the most recently used; undefined when `key` is not held. */
  get(key: string): number | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.length;
  }

  peek(key: string): number | undefined {
    return this.entries.get(key)?.length;
  }

  lengths(): number[] {
    return [...new Set([...this.entries.values()].map((e) => e.length))];
  }

  /**
   * Stores the entry and returns the keys evicted to make room for it, oldest first; an entry larger
   * than the whole cache is not kept, and its own key is returned.
   */
  set(key: string, length: number, bytes: number): string[] {
    this.delete(key);
    if (bytes > this.capacityBytes) return [key];
    const evicted: string[] = [];
    for (const [k, e] of this.entries) {
      if (this.held + bytes <= this.capacityBytes) break;
      this.entries.delete(k);
      this.held -= e.bytes;
      evicted.push(k);
    }
    this.entries.set(key, { length, bytes });
    this.held += bytes;
    return evicted;
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.held -= old.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }
}
