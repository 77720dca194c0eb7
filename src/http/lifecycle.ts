// The service's two lifecycle states, warming up and draining, which /ready reports: the warm-up
// batch that sets the first, and the connection handling that the second needs.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Scorer } from '../scorer.ts';

export interface Lifecycle {
  /** Set once the model has answered the warm-up batch. */
  warmedUp: boolean;
  /** Set on SIGTERM: /ready turns 503 so load balancers stop sending. */
  draining: boolean;
}

/** While draining, answers close their keep-alive connection so the server can finish closing. */
export function registerDrain(app: FastifyInstance, lifecycle: Lifecycle): void {
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
