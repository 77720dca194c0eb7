// Optional bearer-token auth. Probes and scrapes (/health, /ready, /metrics) stay open so that
// Kubernetes and Prometheus need no secret, and so does the API reference (/docs and the contract it
// renders), which asks for the key in the page: every call it makes still needs it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../errors.ts';

const OPEN_ROUTES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics', '/docs', '/openapi.json', '/openapi.yaml']);

/** `Bearer <token>`: the scheme is case-insensitive (RFC 9110), the token is not. */
const BEARER = /^bearer +(.*)$/i;

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
    const token = BEARER.exec(header)?.[1] ?? '';
    if (!timingSafeEqual(digest(token), expected)) {
      throw new ServiceError('unauthorized', 'missing or wrong bearer token (Authorization: Bearer <API_KEY>)');
    }
  });
}
