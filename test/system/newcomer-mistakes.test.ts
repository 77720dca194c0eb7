// The mistakes a newcomer makes in the first hour, and the exact answer each one gets: requests
// through app.inject(), start-ups as real processes. The cases are data in
// fixtures/newcomer/mistakes.json; a new mistake is one more entry there.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from '../support/app.ts';
import { spawnService } from '../support/service-process.ts';

interface RequestCase {
  mistake: string;
  config?: Record<string, string>;
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** Sent as is (malformed JSON); `json` is sent serialized. */
  body?: string;
  json?: unknown;
  status: number;
  code?: string;
  error?: string;
  allow?: string;
  fields?: Record<string, unknown>;
}

interface StartCase {
  mistake: string;
  env?: Record<string, string>;
  args?: string[];
  /** The line the process prints before it exits 1; $NAMES are filled in by the test. */
  error: string;
}

const cases = JSON.parse(readFileSync(new URL('../fixtures/newcomer/mistakes.json', import.meta.url), 'utf8')) as { requests: RequestCase[]; starts: StartCase[] };

describe('newcomer mistakes: requests', () => {
  const apps = new Map<string, RewardApp>();
  after(async () => {
    for (const service of apps.values()) await service.shutdown();
  });

  /** One app per distinct configuration of the table. */
  async function appFor(config: Record<string, string> = {}): Promise<RewardApp> {
    const key = JSON.stringify(config);
    if (!apps.has(key)) apps.set(key, await fakeApp(config));
    return apps.get(key)!;
  }

  for (const c of cases.requests) {
    it(`${c.mistake}: ${c.method} ${c.url} → ${c.status}${c.code ? ` ${c.code}` : ''}`, async () => {
      const { app } = await appFor(c.config);
      const payload = c.body ?? (c.json === undefined ? undefined : JSON.stringify(c.json));
      const headers = { ...(c.json !== undefined && { 'content-type': 'application/json' }), ...c.headers };
      const res = await app.inject({ method: c.method, url: c.url, headers, payload });
      assert.equal(res.statusCode, c.status, res.body);
      if (c.code !== undefined) assert.deepEqual(res.json(), { error: c.error, code: c.code });
      if (c.allow !== undefined) assert.equal(res.headers.allow, c.allow);
      for (const [field, value] of Object.entries(c.fields ?? {})) assert.deepEqual(res.json()[field], value, field);
    });
  }
});

describe('newcomer mistakes: start-up', () => {
  let busy: ReturnType<typeof createServer>;
  let checkpoint = '';
  const vars: Record<string, string> = {};
  const fill = (s: string) => s.replace(/\$([A-Z_]+)/g, (_, name: string) => vars[name]);

  before(async () => {
    busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    vars.BUSY_PORT = String((busy.address() as { port: number }).port);
    // What a Hugging Face download looks like: config.json and safetensors, no model.onnx.
    checkpoint = mkdtempSync(join(tmpdir(), 'reward-hf-checkpoint-'));
    writeFileSync(join(checkpoint, 'config.json'), JSON.stringify({ architectures: ['Qwen3ForSequenceClassification'], num_labels: 1 }));
    writeFileSync(join(checkpoint, 'model.safetensors'), '');
    vars.HF_CHECKPOINT = checkpoint;
  });
  after(() => {
    busy.close();
    rmSync(checkpoint, { recursive: true, force: true });
  });

  async function exitOf(child: ChildProcess): Promise<number | null> {
    if (child.exitCode !== null) return child.exitCode;
    const [code] = await once(child, 'exit');
    return code as number | null;
  }

  for (const c of cases.starts) {
    // The refusal is the only line: it comes before the demo model's warning, so before the model loads.
    it(`${c.mistake}: exit 1 with one line naming it, before the model loads`, async () => {
      const env = Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)]));
      const { child, output } = spawnService(env, c.args ?? []);
      assert.equal(await exitOf(child), 1, output());
      assert.deepEqual(output().trim().split('\n'), [fill(c.error)]);
    });
  }
});
