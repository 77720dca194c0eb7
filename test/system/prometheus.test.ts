// The Grafana dashboard against a real Prometheus: the service runs as a process under a short mixed
// load (valid, invalid and truncated items, every scoring route, a bad request) while Prometheus
// scrapes it every second; then every panel's PromQL is run through /api/v1/query and must return
// at least one series with a number in it.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startService, waitFor, type ServiceProcess } from '../support/service-process.ts';
import { fence } from '../support/fence.ts';

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/code-reward-service.json', import.meta.url), 'utf8'));
/** Grafana's $__rate_interval is at least four scrape intervals; 30 s spans the whole load here. */
const RATE_INTERVAL = '30s';

interface Target { expr: string; legendFormat: string; datasource: { uid: string } }
interface Panel { title: string; datasource: { type: string; uid: string }; targets: Target[] }
const panels: Panel[] = dashboard.panels;

describe('Grafana dashboard on a real Prometheus', () => {
  let service: ServiceProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let promBase = '';
  let tmp = '';

  before(async () => {
    const probe = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
    if (probe.error) throw new Error(`the prometheus binary is not installed (${probe.error.message}): npm test's pretest (tools/test-deps.mjs) installs the Debian package prometheus as root, or says how`);

    tmp = mkdtempSync(join(tmpdir(), 'reward-prometheus-'));
    const [port, promPort] = [await freePort(), await freePort()];
    promBase = `http://127.0.0.1:${promPort}`;
    writeFileSync(join(tmp, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: code-reward-service',
      `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
    ].join('\n'));
    // Prometheus starts while the service does; it scrapes the service once it listens.
    prometheus = spawn('prometheus', [
      `--config.file=${join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${join(tmp, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let promLog = '';
    prometheus.stderr!.on('data', (d) => (promLog += d));
    // MAX_LENGTH 64 so that some items are truncated.
    service = await startService({ PORT: String(port), MAX_LENGTH: '64' });
    await waitFor('prometheus scraping the service', async () => {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited ${prometheus!.exitCode}: ${promLog}`);
      const up = await instant('up').catch(() => []);
      return up.some((s) => s.value[1] === '1');
    });
    await load(service.base, 3000);
    // Two more scrapes, so that the last counters of the load are in.
    await new Promise((r) => setTimeout(r, 2100));
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await once(prometheus, 'exit');
    }
    await service?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function instant(query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = await res.json() as { status: string; error?: string; data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`${query}: ${body.error}`);
    assert.equal(body.data.resultType, 'vector');
    return body.data.result;
  }

  it('the dashboard is importable: a Prometheus input, and every panel and target uses it', () => {
    assert.equal(dashboard.__inputs[0].pluginId, 'prometheus');
    assert.ok(panels.length >= 10);
    for (const p of panels) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, p.title);
      assert.ok(p.targets.length > 0, p.title);
      for (const t of p.targets) assert.equal(t.datasource.uid, '${DS_PROMETHEUS}');
    }
  });

  it('covers throughput, latency quantiles, queue depth, batching, validity, truncation and errors', () => {
    const exprs = panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const needle of [
      'rate(reward_requests_total', 'reward_tokens_total{kind="real"}', 'histogram_quantile(0.5, sum by (le, route) (rate(reward_request_duration_seconds_bucket',
      'histogram_quantile(0.99, sum by (le, route) (rate(reward_request_duration_seconds_bucket', 'reward_queue_items', 'reward_batch_items',
      'reward_tokens_total{kind="padding"}', 'reward_items_total{status="ok"}', 'reward_items_total{status!="ok"}', 'reward_truncated_items_total',
      'sum by (code) (rate(reward_errors_total',
    ]) assert.ok(exprs.includes(needle), needle);
  });

  for (const panel of panels) {
    it(`panel "${panel.title}" returns data`, async () => {
      for (const target of panel.targets) {
        const query = target.expr.replaceAll('$__rate_interval', RATE_INTERVAL);
        const series = await instant(query);
        assert.ok(series.length > 0, `no series for ${query}`);
        assert.ok(series.some((s) => Number.isFinite(Number(s.value[1]))), `no number in ${query}: ${JSON.stringify(series)}`);
      }
    });
  }
});

/** Mixed traffic on every scoring route for ms milliseconds, a few requests at a time. */
async function load(base: string, ms: number): Promise<void> {
  const chat = '<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n';
  const bodies: [string, unknown][] = [
    ['/v1/score', { items: [
      { question: 'Add two numbers.', response: fence('def add(a, b):\n    return a + b\n') },
      { question: 'Add two numbers.', response: fence('def add(a, b)\n    return a + b\n') },
      { question: 'Add two numbers.', response: 'no code' },
      { question: 'Sum a list.', response: fence('total = 0\n' + 'total += 1\n'.repeat(40)) },
    ] }],
    ['/v1/rank', { question: 'Add two numbers.', responses: [fence('x = 1\n'), fence('y = 2\n'), 'none'] }],
    ['/rerank', { query: 'Add two numbers.', texts: [fence('x = 1\n'), fence('x = (\n')] }],
    ['/get_reward', { query: [chat + fence('x = 1\n') + '<|im_end|>'], prompts: [chat], labels: [''] }],
    ['/classify', { model: 'm', input: chat + 'x = 1<|im_end|>\n', activation: false }],
    ['/v1/score', { items: [] }],
  ];
  const post = ([url, body]: [string, unknown]) =>
    fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) await Promise.all(bodies.map(post));
}
