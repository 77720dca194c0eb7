// Offline scoring over a cluster, as deploy/k8s/score-job.yaml runs it: `score --shard I/N` for
// each of 3 shards (one of them killed mid-write and run again, so it resumes), then `merge`; the
// merged file equals the unsharded run line by line: every field equal, rewards within the model's
// batch-composition noise (measured and printed). Each question's lines stay in one shard, so the
// shards' best-of-N files together are the unsharded one's. A merge with a shard missing or given
// twice fails and names the lines.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../tools/service-command.ts';
import { fence } from '../support/fence.ts';

const run = promisify(execFile);
const TOLERANCE = 1e-4;
const SHARDS = 3;

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['bin/code-reward-service.mjs', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, EXECUTION_PROVIDER: 'cpu', LOG_LEVEL: 'error' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? 1, stderr: e.stderr ?? '' };
  }
}

const readJsonl = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('score --shard I/N and merge', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'reward-shards-'));
  const input = join(tmp, 'in.jsonl');
  const part = (i: number) => join(tmp, `part-${i}.jsonl`);
  let full: Record<string, any>[] = [];

  before(async () => {
    const rows: string[] = [];
    for (let q = 0; q < 12; q++) {
      for (let k = 0; k < 6; k++) {
        const response = k === 3 ? 'Words only.' : fence(`def solve(xs):\n    return sum(x * ${k + 1} for x in xs) + ${q}`);
        rows.push(JSON.stringify({ id: `q${q}-s${k}`, question: `Question ${q}: sum the list, weighted as the task says.`, response }));
      }
    }
    rows.splice(7, 0, '{"id": "broken", "question": ');
    rows.splice(30, 0, '');
    writeFileSync(input, rows.join('\n') + '\n');
    const unsharded = await cli(['score', input, '-o', join(tmp, 'full.jsonl'), '--group-by', 'question', '--top-k', '2']);
    assert.equal(unsharded.code, 0, unsharded.stderr);
    full = readJsonl(join(tmp, 'full.jsonl.all'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('three shards, one killed mid-write and resumed, merge into the unsharded run line by line', async () => {
    for (let i = 0; i < SHARDS; i++) {
      const r = await cli(['score', input, '-o', part(i), '--shard', `${i}/${SHARDS}`, '--group-by', 'question', '--top-k', '2']);
      assert.equal(r.code, 0, r.stderr);
    }
    const shardLines = Array.from({ length: SHARDS }, (_, i) => readJsonl(`${part(i)}.all`));
    // Shard 1 as a run killed mid-write leaves it: its first lines and half of the next.
    const killed = `${part(1)}.all`;
    const text = readFileSync(killed, 'utf8');
    const keep = text.split('\n').slice(0, 3).join('\n').length + 1 + 20;
    truncateSync(killed, keep);
    const resumed = await cli(['score', input, '-o', part(1), '--shard', `1/${SHARDS}`, '--group-by', 'question', '--top-k', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming after it/);
    assert.deepEqual(readJsonl(killed).map((o) => o.line), shardLines[1].map((o) => o.line));

    // Each question in one shard, and every shard has some.
    const shardOfQuestion = new Map<string, number>();
    shardLines.forEach((lines, i) => {
      assert.ok(lines.length > 0, `shard ${i} is not empty`);
      for (const o of lines) {
        assert.equal(shardOfQuestion.get(o.question) ?? i, i, o.question);
        shardOfQuestion.set(o.question, i);
      }
    });

    const merged = await cli(['merge', ...Array.from({ length: SHARDS }, (_, i) => `${part(i)}.all`), '-o', join(tmp, 'all.jsonl'), '--input', input]);
    assert.equal(merged.code, 0, merged.stderr);
    const all = readJsonl(join(tmp, 'all.jsonl'));
    assert.equal(all.length, full.length);
    let worst = 0;
    for (const [i, o] of all.entries()) {
      const { reward, raw_score, ...fields } = o;
      const { reward: fullReward, raw_score: fullRaw, ...fullFields } = full[i];
      assert.deepEqual(fields, fullFields, `line ${o.line}`);
      worst = Math.max(worst, Math.abs(reward - fullReward), raw_score === null ? 0 : Math.abs(raw_score - fullRaw));
    }
    console.log(`merged ${SHARDS} shards: ${all.length} lines, every field equal to the unsharded run; largest reward or raw_score difference ${worst.toExponential(2)} (batch composition)`);
    assert.ok(worst <= TOLERANCE, `${worst}`);
  });

  it('the shards\' best-of-N files together hold the unsharded best-of-N lines', () => {
    const key = (o: Record<string, any>) => `${o.line}:${o.rank}`;
    const sharded = Array.from({ length: SHARDS }, (_, i) => readJsonl(part(i))).flat().map(key).sort();
    assert.deepEqual(sharded, readJsonl(join(tmp, 'full.jsonl')).map(key).sort());
  });

  it('a merge with a shard missing, or one given twice, fails and names the lines', async () => {
    const shard0 = readJsonl(`${part(0)}.all`).map((o) => o.line);
    const missing = await cli(['merge', `${part(1)}.all`, `${part(2)}.all`, '-o', join(tmp, 'bad.jsonl'), '--input', input]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`${shard0.length} input line\\(s\\) in no shard output: ${shard0.slice(0, 3).join(', ')}`));
    const doubled = await cli(['merge', `${part(0)}.all`, `${part(0)}.all`, `${part(1)}.all`, `${part(2)}.all`, '-o', join(tmp, 'bad.jsonl'), '--input', input]);
    assert.equal(doubled.code, 1);
    assert.match(doubled.stderr, new RegExp(`${shard0.length} input line\\(s\\) in more than one place: ${shard0.slice(0, 3).join(', ')}`));
    assert.throws(() => readFileSync(join(tmp, 'bad.jsonl')), /ENOENT/);
  });
});
