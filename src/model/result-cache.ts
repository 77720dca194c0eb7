// A bounded map from a row's key to its logit, least recently used out first.
//
// Invariant: a Map iterates in insertion order, and every hit re-inserts its key, so the first key
// is always the least recently used one and the map never holds more than `capacity` keys.

export class ResultCache {
  private readonly entries = new Map<string, number>();

  /** capacity 0 keeps nothing: every get misses and set is a no-op. */
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): number | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: number): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
