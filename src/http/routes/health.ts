// Operational routes: liveness, readiness, what is served, and Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import { errorSchema } from '../schemas.ts';
import type { RouteContext } from '../context.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { WorkerHealth } from '../../worker-supervisor.ts';

export interface HealthContext extends RouteContext {
  lifecycle: Lifecycle;
  info: () => Record<string, unknown>;
  /** The components that run on supervised threads ("model worker", "prep threads"). */
  workers: { name: string; health: WorkerHealth }[];
}

const statusSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, reason: { type: 'string', description: 'Why the answer is 503.' } },
} as const;

export default async function healthRoutes(app: FastifyInstance, ctx: HealthContext): Promise<void> {
  // Liveness: 503 once a component has failed for UNHEALTHY_AFTER_MS, so that Kubernetes restarts the pod.
  app.get('/health', { schema: { response: { 200: statusSchema, 503: statusSchema } } }, async (_request, reply) => {
    const now = Date.now();
    for (const { name, health } of ctx.workers) {
      const since = health.troubleSince;
      if (since !== undefined && now - since >= ctx.config.UNHEALTHY_AFTER_MS) {
        return reply.code(503).send({ status: 'failing', reason: `${name}: failing for ${now - since} ms with no success (UNHEALTHY_AFTER_MS ${ctx.config.UNHEALTHY_AFTER_MS})` });
      }
    }
    return { status: 'ok' };
  });

  app.get('/ready', { schema: { response: { 200: statusSchema, 503: statusSchema } } }, async (_request, reply) => {
    const { warmedUp, draining } = ctx.lifecycle;
    if (draining) return reply.code(503).send({ status: 'draining' });
    if (!warmedUp) return reply.code(503).send({ status: 'warming_up' });
    const down = ctx.workers.find((w) => !w.health.serving);
    if (down) return reply.code(503).send({ status: 'not_serving', reason: `${down.name}: no thread can take work now` });
    return { status: 'ready' };
  });

  app.get('/info', { schema: { response: { 401: errorSchema } } }, async () => ctx.info());

  app.get('/metrics', async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
