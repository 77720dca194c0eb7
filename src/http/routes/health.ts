// Operational routes: liveness, readiness, what is served, and Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import { infoSchema } from '../info.ts';
import { OPEN } from '../openapi.ts';
import { UNAUTHORIZED } from '../schemas.ts';
import type { RouteContext } from '../context.ts';
import type { Lifecycle } from '../lifecycle.ts';
import type { WorkerHealth } from '../../worker-supervisor.ts';

export interface HealthContext extends RouteContext {
  lifecycle: Lifecycle;
  info: () => Record<string, unknown>;
  /** The components that run on supervised threads ("model worker", "prep threads"). */
  workers: { name: string; health: WorkerHealth }[];
}

const status = (description: string) => ({
  type: 'object',
  description,
  required: ['status'],
  properties: { status: { type: 'string' }, reason: { type: 'string', description: 'Why the answer is 503.' } },
}) as const;

export default async function healthRoutes(app: FastifyInstance, ctx: HealthContext): Promise<void> {
  app.get('/health', {
    schema: {
      operationId: 'health',
      summary: 'Liveness: 503 once the model worker, or every prep thread, has been failing for UNHEALTHY_AFTER_MS, so that Kubernetes restarts the pod.',
      security: OPEN,
      response: { 200: status('Alive.'), 503: status('Failing; reason names the component and for how long.') },
    },
  }, async (_request, reply) => {
    const now = Date.now();
    for (const { name, health } of ctx.workers) {
      const since = health.troubleSince;
      if (since !== undefined && now - since >= ctx.config.UNHEALTHY_AFTER_MS) {
        return reply.code(503).send({ status: 'failing', reason: `${name}: failing for ${now - since} ms with no success (UNHEALTHY_AFTER_MS ${ctx.config.UNHEALTHY_AFTER_MS})` });
      }
    }
    return { status: 'ok' };
  });

  app.get('/ready', {
    schema: {
      operationId: 'ready',
      summary: 'Readiness: 200 once the model has answered a warm-up batch; 503 before that, while draining, and while no model worker or no prep thread can take work.',
      security: OPEN,
      response: { 200: status('Ready.'), 503: status('Warming up, draining, or not serving (reason names the component).') },
    },
  }, async (_request, reply) => {
    const { warmedUp, draining } = ctx.lifecycle;
    if (draining) return reply.code(503).send({ status: 'draining' });
    if (!warmedUp) return reply.code(503).send({ status: 'warming_up' });
    const down = ctx.workers.find((w) => !w.health.serving);
    if (down) return reply.code(503).send({ status: 'not_serving', reason: `${down.name}: no thread can take work now` });
    return { status: 'ready' };
  });

  app.get('/info', {
    schema: { operationId: 'info', summary: 'What is served and how it is batched.', response: { 200: infoSchema, 401: UNAUTHORIZED } },
  }, async () => ctx.info());

  app.get('/metrics', {
    schema: {
      operationId: 'metrics',
      summary: 'Prometheus metrics (prefix reward_, plus process metrics).',
      security: OPEN,
      response: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  }, async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
