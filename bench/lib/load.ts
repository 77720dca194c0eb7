// Load generation: closed-loop clients over keep-alive connections (node:http, one socket each),
// and a probe that times GET /health on its own connection while the clients run.
import { Agent, request } from 'node:http';
import { GROUP_HEADER, groupKey } from '../../src/cli/group-key.ts';
import type { BenchItem } from './corpus.ts';

export interface ItemAnswer {
  reward: number;
  raw_score: number | null;
  valid: boolean;
  status: string;
  prompt_tokens: number;
}

export interface LoadResult {
  requests: number;
  wallS: number;
  /** Per request, milliseconds from send to the last byte of the answer. */
  latenciesMs: number[];
  /** Answers by item index. */
  answers: Map<number, ItemAnswer>;
  /** Non-200 answers and transport errors, by status code or error code. */
  failures: Record<string, number>;
}

interface HttpAnswer {
  status: number;
  body: string;
}

function send(agent: Agent, url: URL, method: 'GET' | 'POST', body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent,
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function scoreRequest(agent: Agent, url: URL, items: readonly BenchItem[], result: LoadResult, keyed = false): Promise<void> {
  const body = JSON.stringify({ items: items.map((it) => ({ question: it.question, response: it.response })) });
  const started = performance.now();
  try {
    const answer = await send(agent, url, 'POST', body, keyed ? { [GROUP_HEADER]: groupKey(items[0].question) } : {});
    result.latenciesMs.push(performance.now() - started);
    if (answer.status !== 200) {
      result.failures[answer.status] = (result.failures[answer.status] ?? 0) + 1;
      return;
    }
    const { results } = JSON.parse(answer.body) as { results: ItemAnswer[] };
    items.forEach((it, k) => result.answers.set(it.index, results[k]));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    result.failures[code] = (result.failures[code] ?? 0) + 1;
  }
}

/**
 * `clients` loops, each sending one item per request (or `itemsPerRequest` consecutive ones) and the
 * next as soon as the answer is in, until `items` is used up (or, with `until`, cycling over it until
 * that time). With `requestsAtOnce`, a loop sends that many consecutive requests together and waits
 * for all of them: the samples of a GRPO group, posted one per request as their rollouts finish. `keyed`
 * sends each request's x-reward-group (its first item's question), as the project's clients do.
 */
export async function runClients(
  base: string,
  items: readonly BenchItem[],
  clients: number,
  opts: { until?: number; onAnswer?: (done: number) => void; itemsPerRequest?: number; requestsAtOnce?: number; keyed?: boolean } = {},
): Promise<LoadResult> {
  const per = opts.itemsPerRequest ?? 1;
  const atOnce = opts.requestsAtOnce ?? 1;
  const agent = new Agent({ keepAlive: true, maxSockets: clients * atOnce });
  const url = new URL('/score', base);
  const result: LoadResult = { requests: 0, wallS: 0, latenciesMs: [], answers: new Map(), failures: {} };
  let next = 0;
  const started = performance.now();
  const one = async (from: number) => {
    await scoreRequest(agent, url, items.slice(from, from + per), result, opts.keyed);
    result.requests++;
    opts.onAnswer?.(result.requests);
  };
  const client = async () => {
    for (;;) {
      if (opts.until === undefined ? next >= items.length : Date.now() >= opts.until) return;
      const sends: Promise<void>[] = [];
      for (let k = 0; k < atOnce && (opts.until !== undefined || next < items.length); k++) {
        sends.push(one(next % items.length));
        next += per;
      }
      await Promise.all(sends);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  result.wallS = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

/** All items in one request. */
export async function runOneRequest(base: string, items: readonly BenchItem[]): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const result: LoadResult = { requests: 1, wallS: 0, latenciesMs: [], answers: new Map(), failures: {} };
  const started = performance.now();
  await scoreRequest(agent, new URL('/score', base), items, result);
  result.wallS = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

/** GET `path` on its own connection every `gapMs` until stopped; resolves to the latencies in ms. */
export function probe(base: string, path: string, gapMs: number): { stop(): Promise<{ latenciesMs: number[]; failures: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(path, base);
  const latenciesMs: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const answer = await send(agent, url, 'GET');
        if (answer.status === 200) latenciesMs.push(performance.now() - started);
        else failures++;
      } catch {
        failures++;
      }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return { latenciesMs, failures };
    },
  };
}
