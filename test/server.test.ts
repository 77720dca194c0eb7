// The real process: start-up refusals name the culprit, and SIGTERM under load answers everything
// accepted, refuses new work, and exits 0.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

function start(env: Record<string, string>, args: string[] = []): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', ...args], {
    cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code as number | null;
}

async function waitReady(base: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/ready`)).status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('service did not become ready');
}

describe('server process', () => {
  const refusals: [string, Record<string, string>, string[], RegExp][] = [
    ['a bad environment value', { MAX_BATCH_TOKENS: 'lots' }, [], /cannot start: MAX_BATCH_TOKENS: must be a non-negative integer/],
    ['a bad flag value', {}, ['--execution-provider', 'tpu'], /cannot start: EXECUTION_PROVIDER: must be one of auto\|cuda\|cpu/],
    ['a model directory without model.onnx', { MODEL_DIR: fileURLToPath(new URL('./fixtures', import.meta.url)) }, [], /cannot start: .*fixtures\/model\.onnx: missing/],
  ];
  for (const [what, env, args, message] of refusals) {
    it(`refuses to start on ${what}, naming it, exit 1`, async () => {
      const { child, output } = start(env, args);
      assert.equal(await exitOf(child), 1);
      assert.match(output(), message);
    });
  }

  it('SIGTERM under load: every accepted request is answered, /ready turns 503, nothing new is accepted, exit 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { child, output } = start({ PORT: String(port), MAX_BATCH_ITEMS: '1', EXECUTION_PROVIDER: 'cpu' });
    try {
      await waitReady(base);
      const body = JSON.stringify({ items: Array.from({ length: 4 }, (_, i) => ({ question: `q${i}`, response: "```python\n" + `x = ${i}\n`.repeat(150) + '```' })) });
      const inFlight = Array.from({ length: 8 }, () =>
        fetch(`${base}/score`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(async (r) => ({ status: r.status, body: await r.json() })),
      );
      // SIGTERM only once every request is accepted: its items are in the queue.
      const queued = async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return Number(/^reward_queue_items (\S+)/m.exec(text)?.[1] ?? 0);
      };
      const deadline = Date.now() + 20_000;
      while ((await queued()) < 24) {
        assert.ok(Date.now() < deadline, 'the requests were never all queued');
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill('SIGTERM');
      // The signal is handled once the event loop gets to it; /ready must turn within moments.
      let lateReady: number | string = 200;
      for (let i = 0; i < 100 && lateReady === 200; i++) {
        lateReady = await fetch(`${base}/ready`).then((r) => r.status, () => 'refused');
        if (lateReady === 200) await new Promise((r) => setTimeout(r, 20));
      }
      const late = await fetch(`${base}/score`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => r.status, () => 'refused');
      const answers = await Promise.all(inFlight);
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.equal(a.body.results.length, 4);
      }
      assert.ok(lateReady === 503 || lateReady === 'refused', `late /ready got ${lateReady}`);
      assert.ok(late === 503 || late === 'refused', `late /score got ${late}`);
      assert.equal(await exitOf(child), 0, output());
    } finally {
      child.kill('SIGKILL');
    }
  });
});
