// Operational routes: liveness, readiness, what is served, and Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import { infoSchema } from '../info.ts';
import { OPEN } from '../openapi.ts';
import { UNAUTHORIZED } from '../schemas.ts';
import type { RouteContext } from '../context.ts';
import type { Lifecycle } from '../lifecycle.ts';

export interface HealthContext extends RouteContext {
  lifecycle: Lifecycle;
  info: () => Record<string, unknown>;
}

const status = (description: string) => ({ type: 'object', description, required: ['status'], properties: { status: { type: 'string' } } }) as const;

export default async function healthRoutes(app: FastifyInstance, ctx: HealthContext): Promise<void> {
  app.get('/health', {
    schema: { operationId: 'health', summary: 'Liveness: answers while the process runs.', security: OPEN, response: { 200: status('Alive.') } },
  }, async () => ({ status: 'ok' }));

  app.get('/ready', {
    schema: {
      operationId: 'ready',
      summary: 'Readiness: 200 once the model has answered a warm-up batch, 503 before that and while draining.',
      security: OPEN,
      response: { 200: status('Ready.'), 503: status('Warming up or draining.') },
    },
  }, async (_request, reply) => {
    const { warmedUp, draining } = ctx.lifecycle;
    if (draining) return reply.code(503).send({ status: 'draining' });
    if (!warmedUp) return reply.code(503).send({ status: 'warming_up' });
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
