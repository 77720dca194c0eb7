// `npm run test:scale`: three replicas of the service on the demo model behind deploy/nginx
// (tools/scale/cluster.ts, as `npm run scale:local` runs them). GRPO groups of 8, one sample per
// request as veRL sends them, a group's 8 requests together:
// - with x-reward-group, the compute the replicas saved together (their reward_computed_tokens_total
//   against the tokens asked for) is within 10% of what one replica saves on the same kind of load;
//   without it the samples of a group spread, each replica computes the question again, and less is
//   saved (both printed);
// - a replica killed with SIGKILL halfway through a load costs no reward: nginx sends its requests
//   to the next replica, and every score equals a single replica's within 1e-4;
// - restarted, the replica gets its own keys back, and no other key moves.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BenchItem } from '../../bench/lib/corpus.ts';
import { runClients, type LoadResult } from '../../bench/lib/load.ts';
import { grpoGroups, savedShare, tokensOf } from '../../bench/lib/scale.ts';
import { counterSum, scrape } from '../../bench/lib/scrape.ts';
import { LocalCluster } from '../../tools/scale/cluster.ts';
import { GROUP_HEADER, groupKey } from '../../src/cli/group-key.ts';
import { freePort, waitFor } from '../../tools/service-command.ts';

const TOLERANCE = 1e-4;
const GROUP = 8;
const GROUPS = 12;
const QUESTION_WORDS = 300;
/**
 * Groups in flight, each as its 8 one-sample requests sent together. One, so that every replica sees
 * a group arrive as one replica alone does; with several, a replica's batch holds parts of several
 * groups and shares one prefix of them, which changes what one replica saves, not what routing keeps.
 */
const CLIENTS = 1;
// MAX_WAIT_MS: a group's 8 requests, sent together, meet in one batch even on a machine busy enough
// to spread their arrival over milliseconds, so one replica's saving is not a matter of timing.
const ENV = { LOG_LEVEL: 'warn', EXECUTION_PROVIDER: 'cpu', INTRA_OP_THREADS: '1', PREP_THREADS: '1', MAX_WAIT_MS: '50' };

function assertAllAnswered(load: LoadResult, items: readonly BenchItem[], what: string): void {
  assert.deepEqual(load.failures, {}, `${what}: failed requests`);
  assert.equal(load.answers.size, items.length, `${what}: rewards answered`);
}

describe('three replicas behind deploy/nginx', { timeout: 300_000 }, () => {
  let cluster: LocalCluster;
  const bases = () => cluster.replicas.map((r) => r.base);

  before(async () => {
    cluster = await LocalCluster.start({ replicas: 3, port: await freePort(), env: ENV });
  });
  after(async () => {
    await cluster?.stop();
  });

  /** Scores items as one sample per request, through the proxy or straight to one replica; returns the compute saved. */
  const load = async (base: string, targets: string[], items: BenchItem[], keyed: boolean) => {
    const before = await tokensOf(targets);
    const result = await runClients(base, items, CLIENTS, { keyed, requestsAtOnce: GROUP });
    assertAllAnswered(result, items, base);
    return savedShare(before, await tokensOf(targets));
  };

  it('with the key, the replicas together save what one replica saves (within 10%); without it they save less', async () => {
    const single = await load(cluster.replicas[0].base, [cluster.replicas[0].base], grpoGroups(1, GROUPS, GROUP, QUESTION_WORDS), true);
    const keyed = await load(cluster.base, bases(), grpoGroups(2, GROUPS, GROUP, QUESTION_WORDS), true);
    const keyless = await load(cluster.base, bases(), grpoGroups(3, GROUPS, GROUP, QUESTION_WORDS), false);
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    console.log(`compute saved, ${GROUPS} groups of ${GROUP}, one sample a request: one replica ${pct(single)}; 3 replicas with x-reward-group ${pct(keyed)}, without ${pct(keyless)}`);
    assert.ok(single > 0.3, `one replica saves ${pct(single)}: the load shares its questions`);
    assert.ok(Math.abs(keyed - single) <= 0.1 * single, `keyed ${pct(keyed)} vs one replica ${pct(single)}`);
    assert.ok(keyless < keyed - 0.1, `without the key ${pct(keyless)}, with it ${pct(keyed)}`);
  });

  /** Which replica answers each key: the one whose request counter moved. */
  const homes = async (keys: string[]): Promise<number[]> => {
    const out: number[] = [];
    for (const key of keys) {
      const count = async () => Promise.all(bases().map(async (b) => counterSum(await scrape(b).catch(() => new Map()), 'reward_requests_total')));
      const before = await count();
      const res = await fetch(`${cluster.base}/v1/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [GROUP_HEADER]: groupKey(key) },
        body: JSON.stringify({ items: [{ question: key, response: 'no code' }] }),
      });
      assert.equal(res.status, 200, key);
      await res.arrayBuffer();
      const after = await count();
      // /metrics requests count too: a replica's own request moves its counter by more than the scrapes.
      const moved = after.map((a, i) => a - before[i]);
      out.push(moved.indexOf(Math.max(...moved)));
    }
    return out;
  };

  it('a replica killed halfway: no reward lost, every score a single replica\'s; restarted, it gets its keys back and no other key moves', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `routing probe ${i}`);
    const home = await homes(keys);
    assert.deepEqual(new Set(home), new Set([0, 1, 2]), `keys spread: ${home}`);

    const victim = 1;
    const items = grpoGroups(4, 16, GROUP, QUESTION_WORDS);
    let killed: Promise<void> | undefined;
    const result = await runClients(cluster.base, items, CLIENTS, {
      keyed: true,
      requestsAtOnce: GROUP,
      onAnswer: (done) => {
        if (done === items.length / 2) killed = cluster.kill(victim);
      },
    });
    await killed;
    assert.ok(killed, 'the replica was killed during the load');
    assertAllAnswered(result, items, 'with a replica killed');
    const lost = items.length - result.answers.size;
    console.log(`replica ${victim} killed after ${items.length / 2} of ${items.length} requests: ${lost} rewards lost, failures ${JSON.stringify(result.failures)}`);

    // While it is down, only its keys move.
    const down = await homes(keys);
    keys.forEach((k, i) => (home[i] === victim ? assert.notEqual(down[i], victim, k) : assert.equal(down[i], home[i], k)));

    // The same groups, each as one request to a surviving replica: what a single replica gives.
    const reference = await runClients(cluster.replicas[0].base, items, 2, { itemsPerRequest: GROUP });
    assertAllAnswered(reference, items, 'reference');
    let worst = 0;
    for (const it of items) worst = Math.max(worst, Math.abs(result.answers.get(it.index)!.reward - reference.answers.get(it.index)!.reward));
    console.log(`largest |reward - single replica's| over ${items.length} rewards: ${worst.toExponential(2)}`);
    assert.ok(worst <= TOLERANCE, `${worst}`);

    // Restarted: nginx tries it again once fail_timeout (5 s) has passed since its last failure.
    await cluster.restart(victim);
    let back: number[] = [];
    await waitFor('the restarted replica to get its keys back', async () => {
      back = await homes(keys);
      return back.every((h, i) => h === home[i]);
    }, 30_000).catch(() => assert.deepEqual(back, home, 'keys after the restart'));
  });
});
