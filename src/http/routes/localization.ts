// POST /v1/localization: CodeScout's execution-free reward for code search agents, the weighted F1
// of the files, modules and entities an agent names against those a gold patch touches.
// Scored on the prep threads, in slices, so that /health and scoring do not wait behind it.
import type { FastifyInstance } from 'fastify';
import { localizationBodySchema, localizationResponseSchema } from '../../localization/index.ts';
import type { LocalizationBody } from '../../localization/index.ts';
import { clientSignal, type RouteContext } from '../context.ts';
import { scoringErrorResponses } from '../schemas.ts';

export default async function localizationRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  app.post<{ Body: LocalizationBody }>('/v1/localization', {
    schema: { body: localizationBodySchema, response: { 200: localizationResponseSchema, ...scoringErrorResponses } },
  }, async (request, reply) => ctx.preparer.localize(request.body, clientSignal(request, reply)));
}
