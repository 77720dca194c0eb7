// Small numeric helpers shared by the bench phases.

/** Fisher–Yates on a copy. */
export function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Nearest-rank percentile of unsorted values (p in 0..1); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** The middle value (the lower of the two middles for an even count); NaN for none. */
export const median = (values: readonly number[]): number => percentile(values, 0.5);

export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export const MiB = 1024 * 1024;
