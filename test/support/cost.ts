// Cost bounds without wall-clock thresholds: the process's CPU time for one input against k inputs
// of about a k-th of its size each (the same amount of input in all). Linear work costs about the
// same both ways; quadratic work costs about k times more in the one large input. CPU time, not
// wall time, so that other processes on the machine do not count.
import assert from 'node:assert/strict';

/** Allowed ratio of the large input's cost to the k small ones'; quadratic work reaches about k. */
export const GROWTH_LIMIT = 2;
/** Timer and GC noise, for inputs that are refused early and cost almost nothing either way. */
export const COST_NOISE_MS = 25;

/** CPU time (user + system, all threads of this process: worker threads count) that `run` takes, in milliseconds. */
export async function cpuMs(run: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

export interface SizedRun { run: () => unknown; size: number }

/** Runs `small` k = big.size / small.size times, then `big` once, and fails if the one costs over GROWTH_LIMIT times the k. */
export async function assertLinearCost(what: string, big: SizedRun, small: SizedRun): Promise<void> {
  const k = Math.max(1, Math.round(big.size / small.size));
  const smallMs = await cpuMs(async () => {
    for (let i = 0; i < k; i++) await small.run();
  });
  const bigMs = await cpuMs(big.run);
  console.log(`${what}: ${bigMs.toFixed(0)} ms CPU for size ${big.size}, ${smallMs.toFixed(0)} ms for ${k} x ${small.size}`);
  assert.ok(bigMs <= GROWTH_LIMIT * smallMs + COST_NOISE_MS, `${what}: ${bigMs.toFixed(0)} ms CPU for size ${big.size} against ${smallMs.toFixed(0)} ms for ${k} x ${small.size}`);
}
