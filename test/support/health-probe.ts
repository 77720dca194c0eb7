// Probing /health while a long piece of work runs: the check that the work is off the event loop.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';

export interface ProbeRun {
  /** Probes answered while `running()` still held: too few and the work was too short to judge. */
  overlapped: number;
  /** Event-loop utilisation over the probing: the share of the time the loop was busy. */
  utilisation: number;
}

/** Sends 20 GET /health probes, 5 ms apart, each asserted 200. */
export async function probeHealth(app: FastifyInstance, running: () => boolean): Promise<ProbeRun> {
  let overlapped = 0;
  const start = performance.eventLoopUtilization();
  for (let i = 0; i < 20; i++) {
    const res = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    if (running()) overlapped++;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { overlapped, utilisation: performance.eventLoopUtilization(start).utilization };
}

/**
 * At least 10 probes overlapped the work, and the event loop was idle for at least a fifth of the
 * probing. Work on the event loop would hold every probe until it ends (failing the overlap count)
 * and keep the loop busy throughout (utilisation near 1); the probes' own handling, stretched by a
 * loaded machine, stays well under the limit.
 */
export function assertResponsive({ overlapped, utilisation }: ProbeRun, what: string): void {
  console.log(`event loop during ${what}: ${overlapped} of 20 probes overlapped, ${(100 * utilisation).toFixed(0)}% busy`);
  assert.ok(overlapped >= 10, `only ${overlapped} probes ran while ${what} was running; make it longer`);
  assert.ok(utilisation < 0.8, `the event loop was busy ${(100 * utilisation).toFixed(0)}% of the time during ${what}`);
}
