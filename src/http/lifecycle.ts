// The service's two lifecycle states, warming up and draining, which /ready reports: the warm-up
// batch that sets the first, and the connection handling that the second needs.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { ShuttingDownError } from '../errors.ts';
import type { Scorer } from '../scorer.ts';

export interface Lifecycle {
  /** Set once the model has answered the warm-up batch. */
  warmedUp: boolean;
  /** Set on SIGTERM: /ready turns 503 so load balancers stop sending. */
  draining: boolean;
}

/** What still answers while draining: the probes say so themselves (/ready turns 503). */
const PROBES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/**
 * While draining, new requests are refused 503 `shutting_down` with Retry-After (the ones accepted
 * before are answered), and answers close their keep-alive connection so the server can finish closing.
 */
export function registerDrain(app: FastifyInstance, lifecycle: Lifecycle, retryAfterS: number): void {
  app.addHook('onRequest', async (request) => {
    if (lifecycle.draining && !PROBES.has(request.routeOptions.url ?? '')) throw new ShuttingDownError(retryAfterS);
  });
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.draining) reply.header('connection', 'close');
  });
}

/** One small batch through the whole data path; resolves once answered (or rejects with why it failed). */
export function warmUp(scorer: Scorer, lifecycle: Lifecycle, log: FastifyBaseLogger): Promise<void> {
  const answered = scorer
    .score([{ question: 'warm-up', response: '```python\nprint(1)\n```' }], 'single_block', 'softplus')
    .then(() => {
      lifecycle.warmedUp = true;
    });
  answered.catch((err) => log.error({ err }, 'warm-up batch failed; /ready stays 503'));
  return answered;
}
