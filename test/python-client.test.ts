// clients/python against the live service (a real process) with Debian's /usr/bin/python3 and its
// python3-requests: score and rank give the service's numbers, errors raise at once, 503 is retried
// after Retry-After (against a stub that refuses once), a dead replica is skipped, and the veRL
// compute_score function scores a rollout the way veRL calls it.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { freePort, ROOT, startService, type ServiceProcess } from './support/service-process.ts';

const PYTHON = '/usr/bin/python3';
const fence = (code: string) => '```python\n' + code + '```';
const question = 'Add two numbers.';
const responses = [fence('def add(a, b):\n    return a + b\n'), 'no code', fence('def add(a, b)\n    return a + b\n'), fence('def add(a, b):\n    return b + a\n')];

// Runs every client call once and prints what each gave, as JSON; the tests below read their part.
const DRIVER = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
from code_reward_client import CodeRewardClient, RewardServiceError
import verl_reward

args = json.loads(sys.argv[2])
out = {}
live = CodeRewardClient(args["live"])
out["score"] = live.score([(args["question"], r) for r in args["responses"]])
out["rank"] = live.rank(args["question"], args["responses"])
try:
    live.score([])
except RewardServiceError as e:
    out["error"] = {"status": e.status, "code": e.code, "message": e.message}

stub = CodeRewardClient(args["stub"], api_key="k", backoff_s=0.05)
started = time.monotonic()
out["retried"] = {"rewards": stub.rewards([("q", "r")]), "elapsed": time.monotonic() - started}
out["failover"] = CodeRewardClient([args["dead"], args["stub"]], backoff_s=0.05).rewards([("q", "r")])

out["verl"] = verl_reward.compute_score(
    data_source="codescaler", solution_str=args["responses"][0], ground_truth="",
    extra_info={"question": args["question"], "index": 0, "num_turns": 2, "rollout_reward_scores": {}})
try:
    verl_reward.compute_score("codescaler", args["responses"][0], "", {})
except ValueError as e:
    out["verl_error"] = str(e)
print(json.dumps(out))
`;

describe('Python client (clients/python)', () => {
  let service: ServiceProcess | undefined;
  let stub: Server | undefined;
  const stubRequests: { at: number; authorization?: string; url?: string }[] = [];
  let out: Record<string, any> = {};

  before(async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import requests'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      throw new Error(`${PYTHON} cannot import requests (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}): run .ci/run, which installs the Debian package python3-requests`);
    }
    service = await startService();
    // A stub replica that refuses its first request with 503 and Retry-After: 1, then answers.
    stub = createServer((req, res) => {
      stubRequests.push({ at: Date.now(), authorization: req.headers.authorization, url: req.url });
      req.resume();
      if (stubRequests.length === 1) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"queue full","code":"overloaded"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ model: 'stub', results: [{ reward: 0.5 }], usage: {} }));
      }
    }).listen(0, '127.0.0.1');
    await once(stub, 'listening');
    const args = {
      live: service.base,
      stub: `http://127.0.0.1:${(stub.address() as { port: number }).port}`,
      dead: `http://127.0.0.1:${await freePort()}`,
      question,
      responses,
    };
    const env = { ...process.env, CODE_REWARD_URL: service.base };
    // Asynchronously: the stub answers from this process's event loop.
    const run = await promisify(execFile)(PYTHON, ['-c', DRIVER, join(ROOT, 'clients/python'), JSON.stringify(args)], { encoding: 'utf8', env, timeout: 60_000 });
    out = JSON.parse(run.stdout);
  });

  after(async () => {
    stub?.close();
    await service?.stop();
  });

  const post = async (url: string, body: unknown) =>
    (await fetch(service!.base + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();

  it('score gives /v1/score\'s results, rank gives /v1/rank\'s answer', async () => {
    assert.deepEqual(out.score, (await post('/v1/score', { items: responses.map((response) => ({ question, response })) })).results);
    assert.deepEqual(out.rank, await post('/v1/rank', { question, responses }));
    assert.equal(out.score.length, 4);
    assert.deepEqual(out.score.map((r: { valid: boolean }) => r.valid), [true, false, false, true]);
  });

  it('an error answer raises RewardServiceError with status, code and message, without retrying', () => {
    assert.equal(out.error.status, 400);
    assert.equal(out.error.code, 'invalid_request');
    assert.match(out.error.message, /items/);
  });

  it('503 is retried after Retry-After, with the bearer token; a dead replica is skipped', () => {
    assert.deepEqual(out.retried.rewards, [0.5]);
    assert.ok(out.retried.elapsed >= 1, `waited ${out.retried.elapsed} s`);
    assert.ok(stubRequests[1].at - stubRequests[0].at >= 1000);
    assert.deepEqual(stubRequests.slice(0, 2).map((r) => r.authorization), ['Bearer k', 'Bearer k']);
    assert.deepEqual(stubRequests.map((r) => r.url), ['/v1/score', '/v1/score', '/v1/score']);
    assert.deepEqual(out.failover, [0.5]);
  });

  it('veRL compute_score(data_source, solution_str, ground_truth, extra_info) scores extra_info["question"]', () => {
    assert.deepEqual(out.verl, { score: out.score[0].reward, valid: 1, truncated: 0 });
    assert.match(out.verl_error, /extra_info needs the problem statement under 'question'/);
  });
});
