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

/**
 * Warm-up items through the whole data path; resolves once answered (or rejects with why it failed).
 * With prefix sharing on, two of them share a question of `sharedPrefixTokens` words or more (each
 * at least a token), so that both branches of the joined graph, the whole items' and the past
 * keys' (single-session.ts), have run before /ready says 200: on CUDA a branch's first run is
 * where its kernels are chosen and its weights placed.
 */
export function warmUp(scorer: Scorer, lifecycle: Lifecycle, log: FastifyBaseLogger, sharedPrefixTokens = 0): Promise<void> {
  const fenced = (code: string) => '```python\n' + code + '\n```';
  const items = [{ question: 'warm-up', response: fenced('print(1)') }];
  if (sharedPrefixTokens > 0) {
    const question = Array.from({ length: sharedPrefixTokens }, () => 'warm').join(' ');
    items.push({ question, response: fenced('print(1)') }, { question, response: fenced('print(2)') });
  }
  const answered = scorer
    .score(items, 'single_block', 'softplus')
    .then(() => {
      lifecycle.warmedUp = true;
    });
  answered.catch((err) => log.error({ err }, 'warm-up batch failed; /ready stays 503'));
  return answered;
}
