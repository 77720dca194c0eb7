// POST /v1/localization: CodeScout's execution-free reward for code search agents, the weighted F1
// of the files, modules and entities an agent names against those a gold patch touches.
import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../../errors.ts';
import { LocalizationInputError, localizationBodySchema, localizationResponseSchema, scoreLocalization } from '../../localization/index.ts';
import type { LocalizationBody } from '../../localization/index.ts';
import { scoringErrorResponses } from '../schemas.ts';

export default async function localizationRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: LocalizationBody }>('/v1/localization', {
    schema: { body: localizationBodySchema, response: { 200: localizationResponseSchema, ...scoringErrorResponses } },
  }, async (request) => {
    try {
      return scoreLocalization(request.body);
    } catch (err) {
      if (!(err instanceof LocalizationInputError)) throw err;
      // Into the service's closed set; the localization code stays in the message for humans.
      throw new ServiceError(err.status === 422 ? 'unprocessable' : 'invalid_request', `body/${err.message} (${err.code})`);
    }
  });
}
