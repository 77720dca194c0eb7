// A bounded map from a prefix's key to its keys and values, bounded by bytes (PREFIX_CACHE_MB), least
// recently used out first. It lives in the model worker beside the session that reads the tensors,
// so no tensor crosses threads per batch.
//
// Invariant: a Map iterates in insertion order and every hit re-inserts its key, so the first key is
// always the least recently used; `bytes` is the sum of the held entries' sizes and never exceeds
// `capacityBytes` after set() returns. An entry larger than the whole cache is not kept.

export class PrefixCache<T> {
  private readonly entries = new Map<string, { value: T; bytes: number }>();
  private held = 0;

  /** capacityBytes 0 keeps nothing. */
  constructor(readonly capacityBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * Stores the entry and returns the keys evicted to make room for it, oldest first; an entry larger
   * than the whole cache is not kept, and its own key is returned, so the caller forgets it.
   */
  set(key: string, value: T, bytes: number): string[] {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.held -= old.bytes;
    }
    if (bytes > this.capacityBytes) return [key];
    const evicted: string[] = [];
    for (const [k, e] of this.entries) {
      if (this.held + bytes <= this.capacityBytes) break;
      this.entries.delete(k);
      this.held -= e.bytes;
      evicted.push(k);
    }
    this.entries.set(key, { value, bytes });
    this.held += bytes;
    return evicted;
  }
}
