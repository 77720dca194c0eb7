// clients/python against the live service (a real process) with /usr/bin/python3 and its standard
// library only: score and rank give the service's numbers, errors raise at once, 503 is retried
// after Retry-After (against a stub that refuses once), a dead replica is skipped, the veRL reward
// functions score rollouts in each form veRL calls them (per rollout, batch keywords, awaited with
// the reward loop's extra keywords), and the TRL reward functions score GRPOTrainer's arguments
// in the plain and the conversational format, sync and async. (A real GRPOTrainer run is in
// test/parity/trl.test.ts.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { freePort, ROOT, startService, type ServiceProcess } from '../support/service-process.ts';
import { fence } from '../support/fence.ts';

const PYTHON = '/usr/bin/python3';
const question = 'Add two numbers.';
const responses = [fence('def add(a, b):\n    return a + b\n'), 'no code', fence('def add(a, b)\n    return a + b\n'), fence('def add(a, b):\n    return b + a\n')];

// Runs every client call once and prints what each gave, as JSON; the tests below read their part.
const DRIVER = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
from code_reward_client import CodeRewardClient, RewardServiceError
import asyncio, inspect
import verl_reward, trl_reward

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
out["ascore"] = asyncio.run(live.ascore([(args["question"], r) for r in args["responses"]]))

n = len(args["responses"])
batch_kwargs = dict(data_sources=["codescaler"] * n, solution_strs=args["responses"], ground_truths=[""] * n,
                    extra_infos=[{"question": args["question"], "index": i} for i in range(n)])
out["verl_batch"] = verl_reward.compute_score_batch(**batch_kwargs)
out["verl_batch_by_name"] = verl_reward.compute_score(**batch_kwargs)
out["verl_async_is_coroutine"] = inspect.iscoroutinefunction(verl_reward.compute_score_async)
async def verl_async():
    return await asyncio.gather(*[verl_reward.compute_score_async(
        data_source="codescaler", solution_str=r, ground_truth="", extra_info={"question": args["question"]},
        reward_router_address=None, reward_model_tokenizer=None) for r in args["responses"]])
out["verl_async"] = asyncio.run(verl_async())

# GRPOTrainer's call: prompts, completions, completion_ids, dataset columns and trainer objects as keywords.
extras = dict(completion_ids=[[1, 2]] * n, trainer_state=object(), log_extra=lambda *a: None, log_metric=lambda *a: None)
plain = dict(prompts=[args["question"]] * n, completions=args["responses"])
conversational = dict(
    prompts=[[{"role": "system", "content": "Be terse."}, {"role": "user", "content": args["question"]}]] * n,
    completions=[[{"role": "assistant", "content": r}] for r in args["responses"]])
out["trl_plain"] = trl_reward.code_reward(**plain, **extras)
out["trl_conversational"] = trl_reward.code_reward(**conversational, **extras)
out["trl_async_is_coroutine"] = inspect.iscoroutinefunction(trl_reward.code_reward_async)
out["trl_async"] = asyncio.run(trl_reward.code_reward_async(**conversational, **extras))
out["trl_question_column"] = trl_reward.code_reward(prompts=["a prompt the question column overrides"] * n, completions=args["responses"], question=[args["question"]] * n, **extras)
print(json.dumps(out))
`;

describe('Python client (clients/python)', () => {
  let service: ServiceProcess | undefined;
  let stub: Server | undefined;
  const stubRequests: { at: number; authorization?: string; url?: string }[] = [];
  let out: Record<string, any> = {};

  before(async () => {
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

  it('ascore gives score\'s results from asyncio', () => {
    assert.deepEqual(out.ascore, out.score);
  });

  it('veRL batch form (compute_score_batch, or compute_score with the batch keywords) and the awaited form give the per-rollout results', () => {
    const expected = out.score.map((r: { reward: number; valid: boolean; truncated: boolean }) => ({ score: r.reward, valid: r.valid ? 1 : 0, truncated: r.truncated ? 1 : 0 }));
    assert.deepEqual(out.verl_batch, expected);
    assert.deepEqual(out.verl_batch_by_name, expected);
    assert.equal(out.verl_async_is_coroutine, true);
    assert.deepEqual(out.verl_async, expected);
  });

  it('TRL reward functions: plain and conversational prompts, sync and async, give /v1/score\'s rewards', () => {
    const rewards = out.score.map((r: { reward: number }) => r.reward);
    assert.deepEqual(out.trl_plain, rewards);
    assert.deepEqual(out.trl_conversational, rewards);
    assert.equal(out.trl_async_is_coroutine, true);
    assert.deepEqual(out.trl_async, rewards);
    assert.deepEqual(out.trl_question_column, rewards);
  });
});
