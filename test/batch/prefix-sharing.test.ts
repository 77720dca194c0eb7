// Prefix sharing on the fake past-keys model: how a batch is grouped, what runs (each prefix once,
// each suffix against it, a lone row against a cached prefix), that every score is the whole row's,
// and that the queue fills a batch counting a group's prefix once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchQueue, type QueueOptions } from '../../src/batch/queue.ts';
import { ConfigError, loadConfig, prefixSharingWanted } from '../../src/config.ts';
import { chunkSuffixes, commonPrefixLength, groupTokens, planPrefixGroups } from '../../src/model/prefix-plan.ts';
import { Metrics } from '../../src/metrics.ts';
import { DedupingRewardModel } from '../../src/model/deduping-model.ts';
import { PrefixCache } from '../../src/model/prefix-cache.ts';
import { PrefixSharingRewardModel } from '../../src/model/prefix-sharing-model.ts';
import { mulberry32 } from '../../tools/mulberry32.ts';
import { FakeModel, FakePrefixModel, fakeLogit } from '../support/fakes.ts';
import { batchOf, PAD } from '../support/batch.ts';


const tokens = (rng: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rng() * 150000));
const expected = (rows: readonly (readonly number[])[]) => rows.map((r) => Math.fround(fakeLogit(r)));
const sharing = (inner: FakeModel, minTokens: number, metrics?: Metrics, maxAttention = 0) =>
  new PrefixSharingRewardModel(inner, { minTokens, maxPaddingShare: 1, maxAttention, padTokenId: PAD }, metrics);

async function counter(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}): Promise<number> {
  const values = (await metric.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return values.reduce((n, v) => n + v.value, 0);
}

describe('planPrefixGroups', () => {
  const rng = mulberry32(14);
  const question = tokens(rng, 40);
  const other = tokens(rng, 40);

  it('rows sharing at least minTokens form a group whose prefix is their longest common prefix; the rest run whole', () => {
    const rows = [[...question, 1, 2], [...other, 5], [...question, 1, 3, 4], [...question, 7]];
    const plan = planPrefixGroups(rows, 16);
    assert.deepEqual(plan.singles, [1]);
    assert.equal(plan.groups.length, 1);
    assert.deepEqual([...plan.groups[0].members].sort(), [0, 2, 3]);
    assert.equal(plan.groups[0].prefixLength, question.length);
  });

  it('a row equal to the common prefix shortens the prefix by one token, so every suffix keeps a token', () => {
    const plan = planPrefixGroups([[...question], [...question, 9, 9], [...question, 8]], 16);
    assert.equal(plan.groups[0].prefixLength, question.length - 1);
    assert.equal(plan.groups[0].members.length, 3);
  });

  it('below minTokens nothing groups; 0 turns grouping off', () => {
    const rows = [[...question.slice(0, 10), 1], [...question.slice(0, 10), 2]];
    assert.deepEqual(planPrefixGroups(rows, 16), { groups: [], singles: [0, 1] });
    assert.deepEqual(planPrefixGroups([[...question, 1], [...question, 2]], 0), { groups: [], singles: [0, 1] });
  });

  it('questions behind one shared system prompt: a group per question when that skips more tokens, else one group', () => {
    const system = tokens(rng, 20);
    const qa = tokens(rng, 30);
    const qb = tokens(rng, 30);
    const perQuestion = planPrefixGroups([[...system, ...qa, 1], [...system, ...qb, 1], [...system, ...qa, 2], [...system, ...qb, 2]], 10);
    assert.deepEqual(perQuestion.groups.map((g) => g.prefixLength), [50, 50]);
    // Two rows of one question and one of another: the question's group skips 1 × 50 > 2 × 20.
    const questionGroup = planPrefixGroups([[...system, ...qa, 1], [...system, ...qa, 2], [...system, ...qb, 1]], 10);
    assert.deepEqual(questionGroup.groups.map((g) => [g.prefixLength, g.members.length]), [[50, 2]]);
    // A long system prompt and short questions: one group over the prompt skips 2 × 40 > 1 × 45.
    const longSystem = tokens(rng, 40);
    const oneGroup = planPrefixGroups([[...longSystem, ...qa.slice(0, 5), 1], [...longSystem, ...qa.slice(0, 5), 2], [...longSystem, ...qb.slice(0, 5), 1]], 10);
    assert.deepEqual(oneGroup.groups.map((g) => [g.prefixLength, g.members.length]), [[40, 3]]);
  });

  it('on random rows: each row once, each group prefix common to its members, at least minTokens and shorter than each', () => {
    const r = mulberry32(3);
    for (let trial = 0; trial < 200; trial++) {
      const stems = Array.from({ length: 1 + Math.floor(r() * 3) }, () => tokens(r, Math.floor(r() * 30)).map((t) => t % 3));
      const rows = Array.from({ length: 1 + Math.floor(r() * 12) }, () => {
        const stem = stems[Math.floor(r() * stems.length)];
        return [...stem, ...Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * 3))].slice(0, Math.max(1, stem.length + 3));
      }).map((row) => (row.length === 0 ? [1] : row));
      const min = 1 + Math.floor(r() * 10);
      const plan = planPrefixGroups(rows, min);
      const seen = [...plan.singles, ...plan.groups.flatMap((g) => g.members)].sort((a, b) => a - b);
      assert.deepEqual(seen, rows.map((_, i) => i));
      for (const g of plan.groups) {
        assert.ok(g.members.length >= 2 && g.prefixLength >= min);
        for (const m of g.members) {
          assert.ok(rows[m].length > g.prefixLength);
          assert.ok(commonPrefixLength(rows[m], rows[g.members[0]]) >= g.prefixLength);
        }
      }
    }
  });
});

describe('chunkSuffixes and groupTokens', () => {
  it('cuts suffix runs by padding share and by rows × suffix × (prefix + suffix); one suffix always runs', () => {
    assert.deepEqual(chunkSuffixes(100, [10, 50, 11, 12], { maxPaddingShare: 0.1, maxAttention: 0 }), [[0, 2, 3], [1]]);
    // 2 × 10 × 110 = 2200 fits 2500; a third row does not.
    assert.deepEqual(chunkSuffixes(100, [10, 10, 10], { maxPaddingShare: 1, maxAttention: 2500 }), [[0, 1], [2]]);
    assert.deepEqual(chunkSuffixes(100, [500], { maxPaddingShare: 0, maxAttention: 1 }), [[0]]);
    assert.equal(groupTokens(100, [10, 50, 11, 12], { maxPaddingShare: 0.1, maxAttention: 0 }), 100 + 3 * 12 + 50);
  });
});

describe('PrefixCache', () => {
  it('holds at most capacityBytes, evicts least recently used first and says which, keeps nothing larger than itself', () => {
    const cache = new PrefixCache(100);
    assert.deepEqual(cache.set('a', 1, 40), []);
    assert.deepEqual(cache.set('b', 2, 40), []);
    assert.equal(cache.get('a'), 1);
    assert.deepEqual(cache.set('c', 3, 40), ['b']);
    assert.equal(cache.bytes, 80);
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(cache.set('d', 4, 100), ['a', 'c']);
    assert.deepEqual(cache.set('e', 5, 101), ['e']);
    assert.equal(cache.get('e'), undefined);
    assert.deepEqual([cache.size, cache.bytes], [1, 100]);
    assert.deepEqual(new PrefixCache(0).set('a', 1, 1), ['a']);
  });

  it('peek and lengths read without changing the order; delete and clear give the bytes back', () => {
    const cache = new PrefixCache(100);
    cache.set('a', 30, 40);
    cache.set('b', 30, 40);
    cache.set('c', 20, 10);
    assert.equal(cache.peek('a'), 30);
    assert.deepEqual(cache.lengths().sort(), [20, 30]);
    // 'a' was peeked, not used: it is still the oldest and goes first.
    assert.deepEqual(cache.set('d', 10, 40), ['a']);
    cache.delete('b');
    assert.deepEqual([cache.size, cache.bytes, cache.peek('b')], [2, 50, undefined]);
    cache.clear();
    assert.deepEqual([cache.size, cache.bytes, cache.lengths()], [0, 0, []]);
  });
});

describe('PrefixSharingRewardModel on the fake past-keys model', () => {
  const rng = mulberry32(7);
  const question = tokens(rng, 30);
  const group = [3, 7, 5, 9].map((n) => [...question, ...tokens(rng, n)]);
  const loner = tokens(rng, 12);

  it('a group runs its prefix once and each suffix against it, other rows whole; every score is the whole row\'s', async () => {
    const fake = new FakePrefixModel();
    const metrics = new Metrics();
    const rows = [group[0], loner, group[1], group[2], group[3]];
    assert.deepEqual(Array.from(await sharing(fake, 16, metrics).predict(batchOf(rows))), expected(rows));
    assert.deepEqual(fake.prefixPasses, [question]);
    assert.deepEqual(fake.batches.map((b) => b.rows), [[loner]]);
    assert.deepEqual(fake.suffixRuns.flatMap((r) => r.rows).sort((a, b) => a.length - b.length), group.map((g) => g.slice(30)).sort((a, b) => a.length - b.length));
    assert.equal(await counter(metrics.computedTokens, { pass: 'prefix' }), 30);
    assert.equal(await counter(metrics.computedTokens, { pass: 'suffix' }), 3 + 7 + 5 + 9);
    assert.equal(await counter(metrics.computedTokens, { pass: 'whole' }), 12);
    assert.equal(await counter(metrics.prefixSharedItems), 4);
    assert.equal(await counter(metrics.prefixCacheMisses), 1);
  });

  it('a row arriving alone later runs against its cached prefix; one whose prefix was evicted runs whole', async () => {
    const fake = new FakePrefixModel(1);
    const metrics = new Metrics();
    const model = sharing(fake, 16, metrics);
    await model.predict(batchOf(group.slice(0, 2)));
    const late = [...question, 4, 4];
    assert.deepEqual(Array.from(await model.predict(batchOf([late]))), expected([late]));
    assert.equal(fake.prefixPasses.length, 1);
    assert.equal(fake.calls, 0, 'nothing ran whole');
    assert.equal(await counter(metrics.prefixCacheHits), 1);
    const other = tokens(rng, 30);
    await model.predict(batchOf([[...other, 1], [...other, 2]]));
    assert.deepEqual(Array.from(await model.predict(batchOf([late]))), expected([late]));
    assert.equal(fake.calls, 1, 'the evicted prefix is forgotten: the row ran whole');
  });

  it('a later group whose members share a few more tokens reuses the cached shorter prefix when that is cheaper', async () => {
    const fake = new FakePrefixModel();
    const model = sharing(fake, 16);
    await model.predict(batchOf([[...question, 1, 2], [...question, 3]]));
    const rows = [[...question, 5, 6, 7], [...question, 5, 6, 8]];
    assert.deepEqual(Array.from(await model.predict(batchOf(rows))), expected(rows));
    assert.deepEqual(fake.prefixPasses, [question]);
    assert.equal(fake.suffixRuns.at(-1)!.prefixLength, question.length);
  });

  it('a batch the queue cut as a group runs the queue\'s prefix, even for one row; a prefix the rows do not share is ignored', async () => {
    const fake = new FakePrefixModel();
    const model = sharing(fake, 16);
    const [first, ...rest] = group;
    assert.deepEqual(Array.from(await model.predict({ ...batchOf([first]), prefixLength: 30 })), expected([first]));
    assert.deepEqual(fake.prefixPasses, [question]);
    assert.equal(fake.calls, 0, 'the lone row ran as prefix + suffix');
    assert.ok(model.holds(Int32Array.from(first), 30));
    assert.deepEqual(Array.from(await model.predict({ ...batchOf(rest), prefixLength: 30 })), expected(rest));
    assert.equal(fake.prefixPasses.length, 1, 'the rest found the prefix cached');
    const strangers = [loner, tokens(rng, 40)];
    assert.deepEqual(Array.from(await model.predict({ ...batchOf(strangers), prefixLength: 20 })), expected(strangers));
    assert.deepEqual(fake.batches.map((b) => b.rows), [strangers]);
  });

  it('a prefix the worker could not keep (larger than its whole cache) is not taken for cached', async () => {
    const fake = new FakePrefixModel(0);
    const model = sharing(fake, 16);
    assert.deepEqual(Array.from(await model.predict({ ...batchOf(group.slice(0, 2)), prefixLength: 30 })), expected(group.slice(0, 2)));
    assert.equal(model.holds(Int32Array.from(group[0]), 30), false);
  });

  it('runs nothing differently when PREFIX_MIN_TOKENS is 0 or the model has no past-keys graph', async () => {
    for (const [fake, min] of [[new FakePrefixModel(), 0], [new FakeModel(), 16]] as const) {
      const model = sharing(fake, min);
      assert.equal(model.active, false);
      assert.deepEqual(Array.from(await model.predict(batchOf(group))), expected(group));
      assert.deepEqual(fake.batches.map((b) => b.rows), [group]);
    }
  });

  it('random groups with members cut short (truncated inside the question, equal to each other or to the prefix) score as whole rows', async () => {
    const r = mulberry32(21);
    for (let trial = 0; trial < 30; trial++) {
      const fake = new FakePrefixModel(2);
      const model = new DedupingRewardModel(sharing(fake, 16, undefined, 400), 0);
      const questions = Array.from({ length: 3 }, () => tokens(r, 20 + Math.floor(r() * 30)));
      const maxLength = 25 + Math.floor(r() * 40);
      for (let batch = 0; batch < 3; batch++) {
        const rows = Array.from({ length: 1 + Math.floor(r() * 10) }, () => {
          const q = questions[Math.floor(r() * questions.length)];
          return [...q, ...tokens(r, Math.floor(r() * 12))].slice(0, maxLength);
        });
        assert.deepEqual(Array.from(await model.predict(batchOf(rows))), expected(rows), `trial ${trial} batch ${batch}`);
      }
    }
  });
});

describe('the queue with prefix sharing', () => {
  const OPTS: QueueOptions = { maxBatchTokens: 100, maxBatchAttention: 0, maxBatchItems: 64, maxPaddingShare: 1, maxWaitMs: 2, maxQueueItems: 100, admissionTimeoutMs: 1000, padTokenId: PAD, retryAfterS: 1, prefixMinTokens: 16 };
  const rng = mulberry32(9);
  const question = tokens(rng, 40);
  const members = Array.from({ length: 8 }, () => [...question, ...tokens(rng, 5)]);

  it('items sent one per request batch together, the prefix counted once against MAX_BATCH_TOKENS', async () => {
    const fake = new FakePrefixModel();
    const q = new BatchQueue(sharing(fake, 16), OPTS);
    // 8 × 45 = 360 tokens whole, 40 + 8 × 5 = 80 with the prefix once: one batch within 100.
    const scores = await Promise.all(members.map((m) => q.submit([Int32Array.from(m)])[0]));
    assert.deepEqual(scores.map((s) => s.logit), expected(members));
    assert.equal(fake.suffixRuns.length, 1);
    assert.equal(fake.prefixPasses.length, 1);
    await q.drain();
  });

  it('a group larger than the budget splits across batches and the later batch reuses the cached prefix', async () => {
    const fake = new FakePrefixModel();
    const q = new BatchQueue(sharing(fake, 16), { ...OPTS, maxBatchTokens: 60 });
    const scores = await Promise.all(q.submit(members.map((m) => Int32Array.from(m))));
    assert.deepEqual(scores.map((s) => s.logit), expected(members));
    // 40 + 4 × 5 = 60: four members a batch.
    assert.deepEqual(fake.suffixRuns.map((r) => r.rows.length), [4, 4]);
    assert.equal(fake.prefixPasses.length, 1);
    await q.drain();
  });

  it('duplicates count once in the budget: they never reach the model', async () => {
    const fake = new FakePrefixModel();
    const q = new BatchQueue(new DedupingRewardModel(sharing(fake, 16), 0), { ...OPTS, maxBatchTokens: 60 });
    const rows = [...members.slice(0, 4), ...members.slice(0, 4)];
    const scores = await Promise.all(q.submit(rows.map((m) => Int32Array.from(m))));
    assert.deepEqual(scores.map((s) => s.logit), expected(rows));
    assert.deepEqual(fake.suffixRuns.map((r) => r.rows.length), [4]);
    await q.drain();
  });

  /** The queue in front of the sharing model, asking it which prefixes are cached, as the engine wires them. */
  const sharingQueue = (fake: FakePrefixModel, opts: Partial<QueueOptions>) => {
    const model = sharing(fake, 16);
    return new BatchQueue(new DedupingRewardModel(model, 0), { ...OPTS, ...opts, cachedPrefix: (ids, length) => model.holds(ids, length) });
  };
  const twelve = Array.from({ length: 12 }, () => [...question, ...tokens(rng, 5)]);

  it('a prefix the cache holds (or the running batch leaves there) costs nothing in the budget', async () => {
    const fake = new FakePrefixModel();
    const q = sharingQueue(fake, { maxBatchTokens: 60 });
    const scores = await Promise.all(q.submit(twelve.map((m) => Int32Array.from(m))));
    assert.deepEqual(scores.map((s) => s.logit), expected(twelve));
    // First batch 40 + 4 × 5 = 60; the second, cut while the first runs, counts only its 8 × 5 suffix tokens.
    assert.deepEqual(fake.suffixRuns.map((r) => r.rows.length), [4, 8]);
    assert.deepEqual(fake.suffixRuns.map((r) => r.prefixLength), [40, 40]);
    assert.equal(fake.prefixPasses.length, 1);
    await q.drain();
  });

  it('an oldest item whose partners do not fit its batch still runs its question as a prefix, for them to reuse', async () => {
    const fake = new FakePrefixModel();
    // 40 + 5 fits, 40 + 2 × 5 does not: the first batch is the oldest item alone.
    const q = sharingQueue(fake, { maxBatchTokens: 48 });
    const scores = await Promise.all(q.submit(members.map((m) => Int32Array.from(m))));
    assert.deepEqual(scores.map((s) => s.logit), expected(members));
    assert.deepEqual(fake.suffixRuns.map((r) => r.rows.length), [1, 7]);
    assert.equal(fake.prefixPasses.length, 1);
    assert.equal(fake.calls, 0, 'nothing ran whole');
    await q.drain();
  });

  it('groups by the question, not by a system prompt every item shares nor by program tokens two members share', async () => {
    const fake = new FakePrefixModel();
    const system = tokens(rng, 20);
    const [q1, q2] = [tokens(rng, 30), tokens(rng, 30)];
    const program = tokens(rng, 6);
    // Two members of question 1 begin their programs alike; question 2's items come between them.
    const items = [[...system, ...q1, ...program, 1], [...system, ...q2, 7, 7], [...system, ...q1, ...program, 2], [...system, ...q2, 8], [...system, ...q1, 9, 9, 9], [...system, ...q1, 3]];
    const q = sharingQueue(fake, { maxBatchTokens: 200 });
    const scores = await Promise.all(q.submit(items.map((m) => Int32Array.from(m))));
    assert.deepEqual(scores.map((s) => s.logit), expected(items));
    assert.deepEqual(fake.suffixRuns.map((r) => [r.prefixLength, r.rows.length]), [[50, 4], [50, 2]]);
    await q.drain();
  });

  it('with sharing off the same items are cut by their whole length', async () => {
    const fake = new FakeModel();
    const q = new BatchQueue(fake, { ...OPTS, prefixMinTokens: 0 });
    await Promise.all(q.submit(members.map((m) => Int32Array.from(m))));
    assert.ok(fake.batches.every((b) => b.batchSize * b.seqLen <= 100));
    assert.equal(fake.batches.length, 4);
    await q.drain();
  });
});

describe('PREFIX_MIN_TOKENS and PREFIX_CACHE_MB', () => {
  it('0 turns sharing off; a prefix shorter than 16 tokens or a negative size is refused naming the variable', () => {
    assert.equal(prefixSharingWanted(loadConfig({})), true);
    assert.equal(prefixSharingWanted(loadConfig({ PREFIX_MIN_TOKENS: '0' })), false);
    assert.equal(prefixSharingWanted(loadConfig({ PREFIX_CACHE_MB: '0' })), false);
    assert.equal(loadConfig({ PREFIX_MIN_TOKENS: '16' }).PREFIX_MIN_TOKENS, 16);
    for (const [variable, value, message] of [['PREFIX_MIN_TOKENS', '8', /0 \(off\) or at least 16/], ['PREFIX_MIN_TOKENS', 'many', /integer/], ['PREFIX_CACHE_MB', '-1', /integer/]] as const) {
      assert.throws(() => loadConfig({ [variable]: value }), (err: unknown) => err instanceof ConfigError && err.variable === variable && message.test(err.message));
    }
  });
});
