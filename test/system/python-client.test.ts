// clients/python against the live service (a real process) with /usr/bin/python3 and its standard
// library only: score and rank give the service's numbers, errors raise at once, 503 is retried
// after Retry-After (against a stub that refuses once), a dead replica is skipped, the veRL reward
// functions score rollouts in each form veRL calls them (per rollout, batch keywords, awaited with
// the reward loop's extra keywords), and the TRL reward functions score GRPOTrainer's arguments
// in the plain and the conversational format, sync and async. (A real GRPOTrainer run is in
// test/parity/trl.test.ts.) Every scoring call carries x-reward-group, the hash of its question, and
// several base URLs are chosen by rendezvous hashing on it. A hostile or broken server cannot hold a
// call past its bounds: Retry-After is capped at max_backoff_s, a gzip answer is inflated only up to
// max_response_bytes, and a server that trickles its answer is cut off at deadline_s.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { freePort, ROOT, startService, type ServiceProcess } from '../support/service-process.ts';
import { fence } from '../support/fence.ts';

const PYTHON = '/usr/bin/python3';
const question = 'Add two numbers.';
// A ChatML prompt, as OpenRLHF decodes it with special tokens kept.
const openrlhfPrompt = `<|im_start|>user\n${question}<|im_end|>\n<|im_start|>assistant\n`;
const responses = [fence('def add(a, b):\n    return a + b\n'), 'no code', fence('def add(a, b)\n    return a + b\n'), fence('def add(a, b):\n    return b + a\n')];

// Runs every client call once and prints what each gave, as JSON; the tests below read their part.
const DRIVER = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
from code_reward_client import CodeRewardClient, RewardServiceError
import asyncio, inspect
import verl_reward, trl_reward, openrlhf_reward

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

# Routing: which replica answered each question, with three live replicas and with a dead one among them.
questions = [f"question {i}" for i in range(30)]
out["routed"] = [CodeRewardClient(args["replicas"]).rewards([(q, "r")])[0] for q in questions]
out["routed_with_dead"] = [CodeRewardClient(args["replicas_with_dead"], backoff_s=0.01).rewards([(q, "r")])[0] for q in questions]

def bounded(base, **kwargs):
    started = time.monotonic()
    try:
        CodeRewardClient(base, backoff_s=0.01, **kwargs).rewards([("q", "r")])
        result = {"ok": True}
    except RewardServiceError as e:
        result = {"error": e.code}
    except TimeoutError as e:
        result = {"timeout": str(e)}
    return {**result, "elapsed": time.monotonic() - started}
out["retry_after_huge"] = bounded(args["stub"] + "/retry-after-huge", max_backoff_s=0.2)
out["gzip_bomb"] = bounded(args["stub"] + "/gzip-bomb", max_response_bytes=1 << 20)
out["trickle"] = bounded(args["stub"] + "/trickle", timeout_s=5, deadline_s=1)

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
out["openrlhf"] = openrlhf_reward.reward_func(args["openrlhf_queries"], [args["openrlhf_prompt"]] * len(args["openrlhf_queries"]), [""] * len(args["openrlhf_queries"]))

# The reward functions' requests, as a router sees them: through the shared client, to a recording stub.
import code_reward_client
code_reward_client._shared = CodeRewardClient(args["stub"] + "/record")
verl_reward.compute_score("codescaler", "r", "", {"question": "verl question"})
trl_reward.code_reward(prompts=["trl question"], completions=["r"])
asyncio.run(trl_reward.code_reward_async(prompts=["trl async question"], completions=["r"]))
openrlhf_reward.reward_func(["openrlhf prompt, answer"], ["openrlhf prompt"], [""])
print(json.dumps(out))
`;

describe('Python client (clients/python)', () => {
  let service: ServiceProcess | undefined;
  let stub: Server | undefined;
  const stubRequests: { at: number; authorization?: string; url?: string; group?: string }[] = [];
  let out: Record<string, any> = {};
  let replicas: string[] = [];
  let dead = '';
  const recorded: string[] = [];

  before(async () => {
    service = await startService();
    // A stub server; its base URLs differ by a path prefix. Bare: refuses its first request with 503
    // and Retry-After: 1, then answers. /replica-N: answers reward N. The rest misbehave.
    let retryAfterHugeSent = false;
    stub = createServer((req, res) => {
      const url = req.url ?? '';
      const json = (status: number, body: unknown, headers = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      req.resume();
      if (url.startsWith('/record/')) {
        recorded.push(req.headers['x-reward-group'] as string);
        return json(200, { model: 'stub', results: [{ reward: 0.5, valid: true, truncated: false }], usage: {} });
      }
      const replica = /^\/replica-(\d)\//.exec(url);
      if (replica) return json(200, { model: 'stub', results: [{ reward: Number(replica[1]) }], usage: {} });
      if (url.startsWith('/retry-after-huge/')) {
        if (retryAfterHugeSent) return json(200, { model: 'stub', results: [{ reward: 0.5 }], usage: {} });
        retryAfterHugeSent = true;
        return json(503, { error: 'queue full', code: 'overloaded' }, { 'retry-after': '1000000000' });
      }
      // 64 MiB of zeros in 64 KiB of gzip.
      if (url.startsWith('/gzip-bomb/')) return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(64 << 20, 32)));
      if (url.startsWith('/trickle/')) {
        // One byte every 100 ms: no socket read ever waits past timeout_s.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000000' });
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      stubRequests.push({ at: Date.now(), authorization: req.headers.authorization, url, group: req.headers['x-reward-group'] as string | undefined });
      if (stubRequests.length === 1) return json(503, { error: 'queue full', code: 'overloaded' }, { 'retry-after': '1' });
      json(200, { model: 'stub', results: [{ reward: 0.5 }], usage: {} });
    }).listen(0, '127.0.0.1');
    await once(stub, 'listening');
    const stubBase = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
    replicas = [0, 1, 2].map((i) => `${stubBase}/replica-${i}`);
    dead = `http://127.0.0.1:${await freePort()}`;
    const args = {
      live: service.base,
      stub: stubBase,
      dead,
      replicas,
      replicas_with_dead: [...replicas, dead],
      question,
      responses,
      openrlhf_prompt: openrlhfPrompt,
      openrlhf_queries: responses.map((r) => openrlhfPrompt + r + '<|im_end|>'),
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

  const groupKey = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
  // Rendezvous (highest random weight) order of the replicas for a key, as the client documents it.
  const ranked = (key: string, urls: string[]) =>
    urls.map((url) => ({ url, weight: createHash('sha256').update(`${key}\n${url}`).digest('hex') })).sort((a, b) => (a.weight < b.weight ? 1 : -1)).map((r) => r.url);

  it('score sends x-reward-group, the first 16 hex digits of SHA-256 of the question; the service scores the same with and without it', async () => {
    assert.deepEqual(stubRequests.map((r) => r.group), [groupKey('q'), groupKey('q'), groupKey('q')]);
    const items = responses.map((response) => ({ question, response }));
    const headers = { 'content-type': 'application/json' };
    const without = await (await fetch(`${service!.base}/v1/score`, { method: 'POST', headers, body: JSON.stringify({ items }) })).json();
    const withKey = await (await fetch(`${service!.base}/v1/score`, { method: 'POST', headers: { ...headers, 'x-reward-group': groupKey(question) }, body: JSON.stringify({ items }) })).json();
    assert.deepEqual(withKey.results, without.results);
    assert.deepEqual(out.score, without.results);
  });

  it('the veRL, TRL and OpenRLHF reward functions send the key of their question', () => {
    assert.deepEqual(recorded, ['verl question', 'trl question', 'trl async question', 'openrlhf prompt'].map(groupKey));
  });

  it('OpenRLHF reward_func (--reward.remote_url openrlhf_reward.py) gives /get_reward\'s answer', async () => {
    const body = { query: responses.map((r) => openrlhfPrompt + r + '<|im_end|>'), prompts: responses.map(() => openrlhfPrompt), labels: responses.map(() => '') };
    assert.deepEqual(out.openrlhf, await post('/get_reward', body));
    assert.deepEqual(out.openrlhf.rewards, out.score.map((r: { reward: number }) => r.reward));
  });

  it('several base URLs: the replica is chosen by rendezvous hashing on the group key, and a retry takes the next in that order', () => {
    const questions = Array.from({ length: 30 }, (_, i) => `question ${i}`);
    const expected = questions.map((q) => replicas.indexOf(ranked(groupKey(q), replicas)[0]));
    assert.deepEqual(out.routed, expected);
    assert.deepEqual(new Set(out.routed), new Set([0, 1, 2]), 'keys spread over every replica');
    // With a dead replica added: keys ranked to it go to their next replica; the others stay put.
    const withDead = [...replicas, dead];
    const expectedWithDead = questions.map((q) => replicas.indexOf(ranked(groupKey(q), withDead).find((url) => url !== dead)!));
    assert.deepEqual(out.routed_with_dead, expectedWithDead);
    assert.ok(questions.some((q) => ranked(groupKey(q), withDead)[0] === dead), 'some key was ranked to the dead replica');
  });

  it('a 503 asking to retry after 1e9 s waits at most max_backoff_s', () => {
    assert.equal(out.retry_after_huge.ok, true);
    assert.ok(out.retry_after_huge.elapsed < 30, `${out.retry_after_huge.elapsed} s`);
  });

  it('a gzip answer that inflates past max_response_bytes raises response_too_large', () => {
    assert.equal(out.gzip_bomb.error, 'response_too_large');
  });

  it('a server that trickles its answer is cut off at deadline_s, though no socket read times out', () => {
    assert.match(out.trickle.timeout ?? '', /deadline_s=1/);
    assert.ok(out.trickle.elapsed < 5, `${out.trickle.elapsed} s`);
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
