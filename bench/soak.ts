// Soak: `npm run soak -- --minutes N [--clients C] [--model-dir DIR]`. Starts the service as a child
// process and drives mixed traffic at it (valid, invalid, oversized, and clients that hang up
// mid-request) for N minutes; prints RSS, event-loop delay and status counts per minute, and at the
// end whether each minute's peak RSS stayed flat (±5% after the first minute) and whether any status was unexpected.
import { writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startService } from './lib/service-process.ts';
import { fence } from '../test/support/fence.ts';

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
const BODY_LIMIT = 256 * 1024;

type Kind = 'valid' | 'invalid' | 'oversized' | 'hangup' | 'bad_json';
/** What each kind of request must get; anything else is unexpected. */
const EXPECTED: Record<Kind, number[]> = { valid: [200, 503], invalid: [200, 503], oversized: [413], hangup: [], bad_json: [400] };

function body(kind: Kind, n: number): string {
  const fn = `def f${n}(xs):\n    total = 0\n    for x in xs:\n        total += x * ${n % 7}\n    return total\n`;
  switch (kind) {
    case 'valid': return JSON.stringify({ items: [{ question: `Sum the list times ${n % 7}.`, response: fence(fn.repeat(1 + (n % 5))) }] });
    case 'invalid': return JSON.stringify({ items: [{ question: 'q', response: n % 2 ? fence('def f(:\n    pass') : 'no code at all' }] });
    case 'oversized': return JSON.stringify({ items: [{ question: 'q', response: 'x'.repeat(BODY_LIMIT + 1) }] });
    case 'hangup': return JSON.stringify({ items: Array.from({ length: 4 }, () => ({ question: 'q', response: fence(fn.repeat(20)) })) });
    case 'bad_json': return '{"items": [';
  }
}

function post(port: number, payload: string, hangUpAfterMs?: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/score', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    req.end(payload);
    if (hangUpAfterMs !== undefined) setTimeout(() => {
      req.destroy();
      resolve(-1);
    }, hangUpAfterMs);
  });
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function main(): Promise<void> {
  const logPath = `${ROOT}bench/out/soak-service.log`;
  mkdirSync(`${ROOT}bench/out`, { recursive: true });
  const service = await startService({ modelDir: args['model-dir'], env: { ...process.env, LOG_LEVEL: 'warn', BODY_LIMIT: String(BODY_LIMIT) }, logPath });
  const port = Number(new URL(service.base).port);
  console.log(`soak: ${MINUTES} min, ${CLIENTS} clients, service pid ${service.pid} on port ${port} (${service.provider}), log ${logPath}`);

  const kinds: Kind[] = ['valid', 'valid', 'valid', 'valid', 'valid', 'invalid', 'invalid', 'oversized', 'hangup', 'bad_json'];
  let minute: Record<string, number> = {};
  let unexpected = 0;
  let sent = 0;
  const stopAt = Date.now() + MINUTES * 60_000;
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    for (let n = c; Date.now() < stopAt; n += CLIENTS) {
      const kind = kinds[n % kinds.length];
      const status = await post(port, body(kind, n), kind === 'hangup' ? 5 + (n % 40) : undefined);
      sent++;
      const key = `${kind}:${status}`;
      minute[key] = (minute[key] ?? 0) + 1;
      if (kind !== 'hangup' && !EXPECTED[kind].includes(status)) unexpected++;
    }
  });

  // RSS is sampled every second: a single sample per minute lands on garbage-collector swings.
  let samples: number[] = [];
  const sampler = setInterval(() => samples.push(service.memory().rss / 2 ** 20), 1000);
  const rows: { minute: number; rssMiB: number; rssMeanMiB: number; rssMinMiB: number; rssEvery10sMiB: number[]; eventLoopP99Ms: number; requests: number; statuses: Record<string, number> }[] = [];
  for (let m = 1; m <= MINUTES; m++) {
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(60_000, stopAt - Date.now() - (MINUTES - m) * 60_000))));
    const row = {
      minute: m,
      rssMiB: Math.max(...samples),
      rssMeanMiB: samples.reduce((a, b) => a + b, 0) / samples.length,
      rssMinMiB: Math.min(...samples),
      // The shape within the minute: one sample in ten.
      rssEvery10sMiB: samples.filter((_, i) => i % 10 === 0).map(Math.round),
      eventLoopP99Ms: (await metric(port, 'nodejs_eventloop_lag_p99_seconds')) * 1000,
      requests: sent,
      statuses: minute,
    };
    minute = {};
    sent = 0;
    samples = [];
    rows.push(row);
    console.log(`minute ${m}: RSS peak ${row.rssMiB.toFixed(0)} MiB (mean ${row.rssMeanMiB.toFixed(0)}, min ${row.rssMinMiB.toFixed(0)}), event-loop p99 ${row.eventLoopP99Ms.toFixed(1)} ms, ${row.requests} requests, ${JSON.stringify(row.statuses)}`);
  }
  clearInterval(sampler);
  await Promise.all(clients);
  const dropped = await metric(port, 'reward_dropped_items_total');
  const code = await service.stop();

  // Flatness is judged on each minute's peak RSS after the first (warm-up) minute.
  const steady = rows.slice(1).map((r) => r.rssMiB);
  const [lo, hi] = steady.length ? [Math.min(...steady), Math.max(...steady)] : [NaN, NaN];
  const spread = (hi - lo) / lo;
  const summary = {
    minutes: MINUTES, clients: CLIENTS, rows, unexpectedStatuses: unexpected, droppedItems: dropped, exitCode: code,
    rssAfterWarmUpMiB: { min: lo, max: hi, spread }, rssFlatWithin5Percent: spread <= 0.05,
  };
  mkdirSync(fileURLToPath(new URL('.', new URL(args.out!, `file://${ROOT}/`))), { recursive: true });
  writeFileSync(new URL(args.out!, `file://${ROOT}/`), JSON.stringify(summary, null, 2) + '\n');
  console.log(`peak RSS per minute after minute 1: ${lo.toFixed(0)}..${hi.toFixed(0)} MiB (spread ${(spread * 100).toFixed(1)}%, flat within 5%: ${summary.rssFlatWithin5Percent}); unexpected statuses: ${unexpected}; queued items dropped for hung-up clients: ${dropped}; exit code ${code}`);
  if (unexpected > 0 || code !== 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
