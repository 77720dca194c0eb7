// Soak: `npm run soak -- --minutes N [--clients C] [--model-dir DIR]`. Starts the service as a child
// process and drives mixed traffic at it for N minutes: ordinary requests (valid, invalid, oversized,
// clients that hang up mid-request) and a hostile mix with variants of every class of issue 23
// (arrays nested deep in unknown fields, hunk headers far past the file, gold patches touching
// thousands of functions, large /tokenize and /detokenize bodies, long /get_reward prompts, invalid
// JSON, uploads that stall halfway). Meanwhile it probes /health every 200 ms and sends a canary
// request of each kind of work every 10 s. It prints RSS, event-loop delay and status counts per
// minute, and at the end: wedged workers (canaries or end checks that got no answer), statuses
// other than 200/4xx/503, the longest /health answer, worker replacements from the service log,
// and RSS after warm-up against the end.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startService } from './lib/service-process.ts';
import { fence } from '../test/support/fence.ts';
import { largePatchItem } from '../test/support/large-patch.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    clients: { type: 'string', default: '16' },
    'model-dir': { type: 'string' },
    out: { type: 'string', default: 'bench/results/soak.json' },
  },
});
const MINUTES = Number(args.minutes);
const CLIENTS = Number(args.clients);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BODY_LIMIT = 16 * 1024 * 1024;
/** A request of the load that has no answer after this long counts as held (-2). */
const REQUEST_TIMEOUT_MS = 120_000;
const STALL_GIVE_UP_MS = 30_000;

interface Payload {
  path: string;
  body: Buffer;
  gzip?: boolean;
}

interface Kind {
  name: string;
  /** Share of the load, in tenths of a percent. */
  weight: number;
  /** The variants, one picked per request in turn. */
  variants: (() => Payload)[];
  /** The client hangs up after a few ms, or stalls its upload halfway. */
  behaviour?: 'hangup' | 'stall';
}

const json = (path: string, value: unknown, gzip = false): Payload => ({ path, body: Buffer.from(JSON.stringify(value)), gzip });
const raw = (path: string, text: string): Payload => ({ path, body: Buffer.from(text) });
/** Built once, sent many times: the large bodies cost the soak nothing after the first. */
const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

const fn = (n: number) => `def f${n}(xs):\n    total = 0\n    for x in xs:\n        total += x * ${n % 7}\n    return total\n`;
const scoreItem = (n: number) => ({ question: `Sum the list times ${n % 7}.`, response: fence(fn(n).repeat(1 + (n % 5))) });
/** JSON text nested `depth` deep, written out directly (JSON.stringify itself recurses). */
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
/** `value` as JSON with `fields` (name → JSON text) added to it, or to its first item. */
const withFields = (path: string, value: object, fields: Record<string, string>, gzip = false): Payload => {
  const text = JSON.stringify(value);
  const extra = Object.entries(fields).map(([k, v]) => `,${JSON.stringify(k)}:${v}`).join('');
  // The object closes at its last brace; an item list's first item closes before `}]`.
  const at = 'items' in value ? text.indexOf('}]') : text.length - 1;
  return { path, body: Buffer.from(text.slice(0, at) + extra + text.slice(at)), gzip };
};
const prompt = (question: string) => `<|im_start|>user\n${question}<|im_end|>\n<|im_start|>assistant\n`;
const hunkPatch = (start: string) => ({ items: [{ locations: [{ file: 'm.py' }], gold: { patch: `--- a/m.py\n+++ b/m.py\n@@ -${start},1 +1,1 @@\n-x = 1\n+x = 2\n`, files: { 'm.py': 'y = 0\nx = 1\n' } } }] });
/** A gold patch over four files touching `functions` functions in all. */
const goldItem = (functions: number) => ({ items: [largePatchItem(functions, functions / 4)] });
/** Repetitive text, as a trainer's looping output is: the worst case of prompt-overlap matching. */
const repetitive = (chars: number) => 'ab'.repeat(chars / 2);

let counter = 0;
const KINDS: Kind[] = [
  { name: 'valid', weight: 400, variants: [() => json('/score', { items: [scoreItem(counter++)] })] },
  { name: 'invalid', weight: 100, variants: [() => json('/score', { items: [{ question: 'q', response: counter++ % 2 ? fence('def f(:\n    pass') : 'no code at all' }] })] },
  { name: 'localization', weight: 50, variants: [() => json('/v1/localization', goldItem(40))] },
  { name: 'oversized', weight: 10, variants: [once(() => ({ path: '/score', body: Buffer.alloc(BODY_LIMIT + 1, 0x20), gzip: true }))] },
  { name: 'hangup', weight: 40, behaviour: 'hangup', variants: [() => json('/score', { items: Array.from({ length: 4 }, () => ({ question: 'q', response: fence(fn(counter++).repeat(20)) })) })] },
  { name: 'bad_json', weight: 40, variants: [
    () => raw('/score', '{"items": ['),
    once(() => raw('/score', '['.repeat(100_000))),
    once(() => raw('/score', '\n'.repeat(4 * 1024 * 1024) + 'x')),
    () => raw('/v1/localization', '{"items": [{"gold": }]}'),
  ] },
  { name: 'deep_unknown_field', weight: 80, variants: [
    once(() => withFields('/score', { items: [scoreItem(1)] }, { extra: deepArray(4000) })),
    once(() => withFields('/score', { items: [scoreItem(2)] }, { extra: deepObject(4000) })),
    once(() => withFields('/score', { items: [scoreItem(3)] }, { extra: deepArray(50_000) }, true)),
    once(() => withFields('/get_reward', { query: [prompt('q') + fence(fn(4))], prompts: [prompt('q')] }, { labels: `[${deepArray(4000)}]`, extra: deepArray(4000) })),
  ] },
  { name: 'huge_hunk_header', weight: 40, variants: ['1000000000000000000000000000000', String(Number.MAX_SAFE_INTEGER), '99999999', '1'.repeat(400)].map((s) => once(() => json('/v1/localization', hunkPatch(s)))) },
  { name: 'gold_many_functions', weight: 8, variants: [1000, 8000, 20000, 50000].map((n) => once(() => json('/v1/localization', goldItem(n), true))) },
  { name: 'big_tokenize', weight: 6, variants: [
    once(() => json('/tokenize', { prompt: '7'.repeat(2 * 1024 * 1024) }, true)),
    once(() => json('/tokenize', { prompt: repetitive(512 * 1024) }, true)),
    once(() => json('/detokenize', { tokens: Array.from({ length: 1_000_000 }, (_, i) => i % 1000) }, true)),
  ] },
  { name: 'long_get_reward', weight: 4, variants: [20_000, 50_000, 200_000].map((chars) => once(() => {
    const question = repetitive(chars);
    return json('/get_reward', { query: [prompt(question) + fence(fn(5))], prompts: [prompt(question)] }, true);
  })) },
  { name: 'stalled_upload', weight: 4, behaviour: 'stall', variants: [() => json('/score', { items: Array.from({ length: 200 }, (_, i) => scoreItem(i)) })] },
];

/** 200 (or the answer to a valid body), any 4xx, or 503: everything else is unexpected. */
const acceptable = (status: number) => status === 200 || status === 503 || (status >= 400 && status < 500);

function send(port: number, payload: Payload, behaviour?: Kind['behaviour']): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const body = payload.gzip ? gzipSync(payload.body) : payload.body;
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status, ms: performance.now() - t0 });
    };
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
    if (payload.gzip) headers['content-encoding'] = 'gzip';
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: payload.path, headers }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', () => done(-1));
    });
    req.on('error', () => done(-1));
    const giveUpMs = behaviour === 'hangup' ? 5 + (counter % 40) : behaviour === 'stall' ? STALL_GIVE_UP_MS : REQUEST_TIMEOUT_MS;
    const timer = setTimeout(() => {
      req.destroy();
      done(behaviour ? -1 : -2);
    }, giveUpMs);
    if (behaviour === 'stall') req.write(body.subarray(0, body.length >> 1));
    else req.end(body);
  });
}

async function get(port: number, path: string, timeoutMs = 30_000): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0 };
  } catch {
    return { status: -2, ms: performance.now() - t0 };
  }
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** One request of each kind of work: a worker that cannot take it shows as no answer or a 5xx. */
const CANARIES: Payload[] = [
  json('/score', { items: [scoreItem(99)] }),
  json('/v1/localization', goldItem(8)),
  json('/tokenize', { prompt: 'def f(): pass' }),
  json('/get_reward', { query: [prompt('q') + fence(fn(6))], prompts: [prompt('q')] }),
];

async function canariesAnswer(port: number): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(CANARIES.map(async (c) => {
    const { status } = await send(port, c);
    if (status !== 200 && status !== 503) failed.push(`${c.path}:${status}`);
  }));
  return failed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const logPath = `${ROOT}bench/out/soak-service.log`;
  mkdirSync(`${ROOT}bench/out`, { recursive: true });
  const service = await startService({ modelDir: args['model-dir'], env: { ...process.env, LOG_LEVEL: 'warn', BODY_LIMIT: String(BODY_LIMIT) }, logPath });
  const port = Number(new URL(service.base).port);
  console.log(`soak: ${MINUTES} min, ${CLIENTS} clients, service pid ${service.pid} on port ${port} (${service.provider}), log ${logPath}`);

  const schedule = KINDS.flatMap((k) => Array.from({ length: k.weight }, () => k));
  const turn = new Map<string, number>();
  let minute: Record<string, number> = {};
  const unexpected: Record<string, number> = {};
  let sent = 0;
  const stopAt = Date.now() + MINUTES * 60_000;
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    for (let n = c * 7919; Date.now() < stopAt; n += 104_729) {
      const kind = schedule[n % schedule.length];
      const t = turn.get(kind.name) ?? 0;
      turn.set(kind.name, t + 1);
      const { status } = await send(port, kind.variants[t % kind.variants.length](), kind.behaviour);
      sent++;
      const key = `${kind.name}:${status}`;
      minute[key] = (minute[key] ?? 0) + 1;
      if (!kind.behaviour && !acceptable(status)) unexpected[key] = (unexpected[key] ?? 0) + 1;
    }
  });

  const health = { probes: 0, maxMs: 0, over250: 0, statuses: {} as Record<string, number> };
  const ready: Record<string, number> = {};
  const prober = (async () => {
    while (Date.now() < stopAt) {
      const [h, r] = await Promise.all([get(port, '/health'), get(port, '/ready')]);
      health.probes++;
      health.maxMs = Math.max(health.maxMs, h.ms);
      if (h.ms > 250) health.over250++;
      health.statuses[h.status] = (health.statuses[h.status] ?? 0) + 1;
      ready[r.status] = (ready[r.status] ?? 0) + 1;
      await new Promise((res) => setTimeout(res, 200));
    }
  })();
  const canaryFailures: string[] = [];
  const canaries = (async () => {
    while (Date.now() < stopAt) {
      canaryFailures.push(...await canariesAnswer(port));
      await new Promise((res) => setTimeout(res, 10_000));
    }
  })();

  // RSS is sampled every second: a single sample per minute lands on garbage-collector swings.
  let samples: number[] = [];
  const sampler = setInterval(() => samples.push(service.memory().rss / 2 ** 20), 1000);
  const rows: { minute: number; rssMiB: number; rssMedianMiB: number; rssMinMiB: number; eventLoopP99Ms: number; requests: number; statuses: Record<string, number> }[] = [];
  for (let m = 1; m <= MINUTES; m++) {
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(60_000, stopAt - Date.now() - (MINUTES - m) * 60_000))));
    const row = {
      minute: m,
      rssMiB: Math.max(...samples),
      rssMedianMiB: median(samples),
      rssMinMiB: Math.min(...samples),
      eventLoopP99Ms: (await metric(port, 'nodejs_eventloop_lag_p99_seconds')) * 1000,
      requests: sent,
      statuses: minute,
    };
    minute = {};
    sent = 0;
    samples = [];
    rows.push(row);
    console.log(`minute ${m}: RSS peak ${row.rssMiB.toFixed(0)} MiB (median ${row.rssMedianMiB.toFixed(0)}, min ${row.rssMinMiB.toFixed(0)}), event-loop p99 ${row.eventLoopP99Ms.toFixed(1)} ms, ${row.requests} requests, ${JSON.stringify(row.statuses)}`);
  }
  clearInterval(sampler);
  await Promise.all([...clients, prober, canaries]);
  // After the load: every kind of work must still be answered.
  const endFailures = await canariesAnswer(port);
  const finalHealth = await get(port, '/health');
  const dropped = await metric(port, 'reward_dropped_items_total');
  const code = await service.stop();
  const log = readFileSync(logPath, 'utf8');
  const replacements = {
    deadline: (log.match(/ran past its deadline/g) ?? []).length,
    exit: (log.match(/exited with code \d+; restart/g) ?? []).length,
  };

  const afterWarmUp = rows[0]?.rssMedianMiB;
  const atEnd = rows[rows.length - 1]?.rssMedianMiB;
  const unexpectedTotal = Object.values(unexpected).reduce((a, b) => a + b, 0);
  const summary = {
    minutes: MINUTES, clients: CLIENTS, rows,
    wedged: { canaryFailures, endFailures, finalHealth: finalHealth.status },
    unexpectedStatuses: unexpected,
    health: { ...health, ready },
    workerReplacements: replacements,
    rssMedianMiB: { afterWarmUp, atEnd, growth: (atEnd - afterWarmUp) / afterWarmUp },
    droppedItems: dropped, exitCode: code,
  };
  mkdirSync(fileURLToPath(new URL('.', new URL(args.out!, `file://${ROOT}/`))), { recursive: true });
  writeFileSync(new URL(args.out!, `file://${ROOT}/`), JSON.stringify(summary, null, 2) + '\n');
  console.log([
    `wedged: ${canaryFailures.length} canary failures during the load, ${endFailures.length} after it (${[...canaryFailures, ...endFailures].join(', ') || 'none'}); /health after: ${finalHealth.status}`,
    `statuses other than 200/4xx/503: ${unexpectedTotal} ${JSON.stringify(unexpected)}`,
    `/health: ${health.probes} probes, longest ${health.maxMs.toFixed(0)} ms, ${health.over250} over 250 ms, statuses ${JSON.stringify(health.statuses)}; /ready statuses ${JSON.stringify(ready)}`,
    `worker replacements: ${replacements.deadline} past a deadline, ${replacements.exit} after an exit`,
    `RSS median: ${afterWarmUp?.toFixed(0)} MiB in minute 1, ${atEnd?.toFixed(0)} MiB in minute ${rows.length} (${(summary.rssMedianMiB.growth * 100).toFixed(1)}%)`,
    `queued items dropped for hung-up clients: ${dropped}; exit code ${code}`,
  ].join('\n'));
  if (unexpectedTotal > 0 || canaryFailures.length + endFailures.length > 0 || code !== 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
