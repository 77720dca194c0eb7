// Optional bearer-token auth. Probes and scrapes (/health, /ready, /metrics) stay open so that
// Kubernetes and Prometheus need no secret.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../errors.ts';

const OPEN_ROUTES = new Set(['/health', '/ready', '/metrics']);

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function registerAuth(app: FastifyInstance, apiKey: string): void {
  if (apiKey === '') return;
  const expected = digest(apiKey);
  app.addHook('onRequest', async (request) => {
    if (OPEN_ROUTES.has(request.routeOptions.url ?? '')) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!timingSafeEqual(digest(token), expected)) {
      throw new ServiceError('unauthorized', 'missing or wrong bearer token (Authorization: Bearer <API_KEY>)');
    }
  });
}
