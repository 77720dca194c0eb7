// Probing /health while a long piece of work runs: the check that the work is off the event loop.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { percentile } from '../../bench/lib/stats.ts';

export interface ProbeRun {
  /** Milliseconds each probe took, in the order sent. */
  latencies: number[];
  /** Probes answered while `running()` still held: too few and the work was too short to judge. */
  overlapped: number;
}

/** Sends 20 GET /health probes, 5 ms apart, each asserted 200. */
export async function probeHealth(app: FastifyInstance, running: () => boolean): Promise<ProbeRun> {
  const latencies: number[] = [];
  let overlapped = 0;
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const res = await app.inject({ method: 'GET', url: '/health' });
    latencies.push(performance.now() - t0);
    assert.equal(res.statusCode, 200);
    if (running()) overlapped++;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { latencies, overlapped };
}

/**
 * At least 10 probes overlapped the work, 90% answered within 50 ms and none took over 250 ms. A
 * blocked event loop would hold every probe until the work ends (and fail the overlap count); the
 * limits leave room for a GC pause or a noisy neighbour on one probe.
 */
export function assertResponsive({ latencies, overlapped }: ProbeRun, what: string): void {
  assert.ok(overlapped >= 10, `only ${overlapped} probes ran while ${what} was running; make it longer`);
  const p90 = percentile(latencies, 0.9);
  const max = Math.max(...latencies);
  assert.ok(p90 < 50, `p90 /health latency ${p90.toFixed(1)} ms during ${what}`);
  assert.ok(max < 250, `max /health latency ${max.toFixed(1)} ms during ${what}`);
}
