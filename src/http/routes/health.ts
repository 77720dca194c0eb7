// Operational routes: liveness, readiness, what is served, and Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import { errorSchema } from '../schemas.ts';
import type { RouteContext } from '../context.ts';
import type { Lifecycle } from '../lifecycle.ts';

export interface HealthContext extends RouteContext {
  lifecycle: Lifecycle;
  info: () => Record<string, unknown>;
}

const statusSchema = { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } as const;

export default async function healthRoutes(app: FastifyInstance, ctx: HealthContext): Promise<void> {
  app.get('/health', { schema: { response: { 200: statusSchema } } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { response: { 200: statusSchema, 503: statusSchema } } }, async (_request, reply) => {
    const { warmedUp, draining } = ctx.lifecycle;
    if (draining) return reply.code(503).send({ status: 'draining' });
    if (!warmedUp) return reply.code(503).send({ status: 'warming_up' });
    return { status: 'ready' };
  });

  app.get('/info', { schema: { response: { 401: errorSchema } } }, async () => ctx.info());

  app.get('/metrics', async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
