// Per-request counters and latency for /metrics, and the request's debug log line (request logging
// is off at info: a trainer's thousands of requests a minute would cost the event loop more than the routes).
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';

export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
  });
}
