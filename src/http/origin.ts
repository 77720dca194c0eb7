// Requests from web pages. Browsers send Origin on every cross-site request (and on same-origin
// POSTs); trainers, curl and the Python client never do. A page could otherwise make its visitor's
// browser post work to a service it can reach (one with no API_KEY on the visitor's machine or
// network), so a request with an Origin is refused unless CORS_ORIGINS lists that origin, and a
// listed origin gets the CORS headers a browser needs, preflight included.
//
// One exception: the service's own /docs page, opened at an IP address or localhost, sends its POSTs
// with its own origin. A page that reaches the service through a name of its own (DNS rebinding)
// carries that name, so only a host that is an address or localhost counts as the service's own.
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../errors.ts';

/** What an allowed page may send and read. */
const ALLOW_METHODS = 'GET, POST';
const ALLOW_HEADERS = 'authorization, content-type, content-encoding';
const EXPOSE_HEADERS = 'retry-after, x-admission-time, x-tokenization-time, x-queue-time, x-inference-time';
/** How long a browser may reuse a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/** CORS_ORIGINS as a set: comma-separated, `*` for any. */
export function parseOrigins(setting: string): ReadonlySet<string> {
  return new Set(setting.split(',').map((o) => o.trim().replace(/\/+$/, '')).filter((o) => o !== ''));
}

/** True when `origin` is this service as the page reached it by address or localhost (its own /docs). */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`)) return false;
  const hostname = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return hostname === 'localhost' || isIP(hostname) !== 0;
}

export function registerOriginCheck(app: FastifyInstance, corsOrigins: string): void {
  const allowed = parseOrigins(corsOrigins);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (isOwnOrigin(origin, request.headers.host)) return;
    if (!allowed.has(origin) && !allowed.has('*')) {
      throw new ServiceError('forbidden_origin', `requests from web pages are refused: Origin ${JSON.stringify(origin.slice(0, 200))} is not in CORS_ORIGINS`);
    }
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      return reply.code(204).headers({
        'access-control-allow-methods': ALLOW_METHODS,
        'access-control-allow-headers': ALLOW_HEADERS,
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
      }).send();
    }
    reply.header('access-control-expose-headers', EXPOSE_HEADERS);
  });
}
