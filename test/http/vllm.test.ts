// POST /classify as veRL's reward loop calls vLLM, and as Skywork's recipe calls SGLang.
// What veRL does (upstream verl/experimental/reward_loop/reward_loop.py, compute_score_disrm): it
// renders [raw prompt turns..., assistant: decoded rollout with the policy's eos removed] with the
// reward model's chat template (no generation prompt), drops a leading BOS, and posts
// {"model": <reward model path>, "input": <that text>, "activation": false} to /classify (vLLM
// renamed the flag use_activation in 0.11.2); it takes data[-1].probs[-1] as the score, retries 5xx
// and time-outs with backoff and gives up at once on 4xx. Skywork's SGLang recipe posts
// {"model", "text": [templated conversations]} and reads each item's embedding[0].
// Auth and overload for this route are in openapi.test.ts, with every other route's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { sigmoid } from '../../src/shape/shaping.ts';
import { buildApp } from '../../src/app.ts';
import { fakeApp, testConfig } from '../support/app.ts';
import { FakeModel, fakeLogit, tokenizerModelDir } from '../support/fakes.ts';
import { fence } from '../support/fence.ts';

describe('POST /classify', () => {
  let service: RewardApp;
  let encoder: PromptEncoder;
  before(async () => {
    service = await fakeApp({ MAX_CLIENT_BATCH: '3' });
    encoder = new PromptEncoder(tokenizerModelDir(), 4096);
  });
  after(() => service.shutdown());

  // The text veRL sends: the full conversation, rendered by the reward model's own template.
  const templated = (code: string) => encoder.renderChat('Add two numbers.', code);
  /** The logit of text tokenized exactly as given: no template, no extraction, float32 as the model returns it. */
  const logitOf = (text: string) => Math.fround(fakeLogit(encoder.encodeText(text).ids));
  const classify = (payload: object) => service.app.inject({ method: 'POST', url: '/classify', payload });

  it('veRL, vLLM before 0.11.2: {"model", "input": str, "activation": false} → data[-1].probs[-1] is the raw logit', async () => {
    const input = templated('def add(a, b):\n    return a + b');
    const res = await classify({ model: '/models/codescaler-1.7b', input, activation: false });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.data.at(-1).probs.at(-1), logitOf(input));
    assert.match(body.id, /^classify-[0-9a-f]{32}$/);
    assert.equal(body.object, 'list');
    assert.ok(Math.abs(body.created - Date.now() / 1000) < 60);
    assert.equal(body.model, 'fake-rm');
    const tokens = encoder.encodeText(input).ids.length;
    assert.deepEqual(body.data, [{ index: 0, label: 'LABEL_0', probs: [logitOf(input)], num_classes: 1 }]);
    assert.deepEqual(body.usage, { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 });
    for (const h of ['x-queue-time', 'x-tokenization-time', 'x-inference-time']) assert.ok(h in res.headers, h);
  });

  it('veRL\'s SGLang path: POST /v1/embeddings {"model", "input"} → data[i].embedding[0] is the raw logit of the text as given', async () => {
    const inputs = [templated('def add(a, b):\n    return a + b'), 'not templated at all'];
    const res = await service.app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: 'rm', input: inputs } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(body.data, inputs.map((t, index) => ({ object: 'embedding', index, embedding: [logitOf(t)] })));
    const tokens = inputs.reduce((s, t) => s + encoder.encodeText(t).ids.length, 0);
    assert.deepEqual(body.usage, { prompt_tokens: tokens, total_tokens: tokens });
    const single = await service.app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: inputs[0] } });
    assert.deepEqual(single.json().data, [{ object: 'embedding', index: 0, embedding: [logitOf(inputs[0])] }]);
    const empty = await service.app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: [''] } });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().error, /input\/0/);
  });

  it('/v1/classify answers as /classify; GET /v1/models names the model and MAX_LENGTH; GET /version gives package.json\'s version', async () => {
    const input = templated('x = 1');
    const v1 = await service.app.inject({ method: 'POST', url: '/v1/classify', payload: { input, use_activation: false } });
    assert.equal(v1.statusCode, 200, v1.body);
    assert.deepEqual(v1.json().data, [{ index: 0, label: 'LABEL_0', probs: [logitOf(input)], num_classes: 1 }]);
    const models = (await service.app.inject({ method: 'GET', url: '/v1/models' })).json();
    assert.equal(models.object, 'list');
    assert.equal(models.data.length, 1);
    assert.equal(models.data[0].id, 'fake-rm');
    assert.equal(models.data[0].max_model_len, 4096);
    const version = (await service.app.inject({ method: 'GET', url: '/version' })).json();
    assert.equal(version.version, JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });

  it('vLLM 0.11.2 and later: "use_activation": false, a list of inputs, one entry each in order', async () => {
    const inputs = [templated('x = 1'), 'not templated at all', templated('def f(:')];
    const body = (await classify({ model: 'm', input: inputs, use_activation: false, add_special_tokens: false })).json();
    assert.deepEqual(body.data.map((d: { index: number }) => d.index), [0, 1, 2]);
    assert.deepEqual(body.data.map((d: { probs: number[] }) => d.probs[0]), inputs.map(logitOf), 'no extraction: broken code is scored too');
    assert.equal(body.usage.prompt_tokens, inputs.reduce((s, t) => s + encoder.encodeText(t).ids.length, 0));
  });

  it('sigmoid unless activation is turned off, as vLLM defaults for one label; use_activation wins over activation and softmax', async () => {
    const input = templated('x = 1');
    for (const flags of [{}, { activation: true }, { use_activation: true }, { activation: null }, { use_activation: null }, { use_activation: true, activation: false }]) {
      assert.equal((await classify({ input, ...flags })).json().data[0].probs[0], sigmoid(logitOf(input)), JSON.stringify(flags));
    }
    for (const flags of [{ use_activation: false }, { activation: false }, { softmax: false }, { activation: false, use_activation: null }, { use_activation: false, activation: true }]) {
      assert.equal((await classify({ input, ...flags })).json().data[0].probs[0], logitOf(input), JSON.stringify(flags));
    }
  });

  // vLLM's CompletionRequestMixin: input is list[int] | list[list[int]] | str | list[str].
  it('token ids: one list or a list of lists, scored as given (no special tokens added)', async () => {
    const texts = [templated('x = 1'), templated('y = 2')];
    const ids = texts.map((t) => Array.from(encoder.encodeText(t).ids));
    const one = (await classify({ input: ids[0], use_activation: false })).json();
    assert.deepEqual(one.data, [{ index: 0, label: 'LABEL_0', probs: [Math.fround(fakeLogit(ids[0]))], num_classes: 1 }]);
    assert.deepEqual(one.usage.prompt_tokens, ids[0].length);
    const both = (await classify({ input: ids, use_activation: false })).json();
    assert.deepEqual(both.data.map((d: { probs: number[] }) => d.probs[0]), ids.map((x) => Math.fround(fakeLogit(x))));
    assert.deepEqual(both.data.map((d: { probs: number[] }) => d.probs[0]), texts.map(logitOf), 'the same as the text tokenized as given');
  });

  // vLLM's ChatRequestMixin: one conversation, rendered with the served model's template, add_special_tokens false.
  it('messages: rendered with the model\'s chat template, then scored as that text', async () => {
    const code = 'def add(a, b):\n    return a + b';
    const messages = [{ role: 'user', content: 'Add two numbers.' }, { role: 'assistant', content: code }];
    const res = await classify({ model: 'rm', messages, use_activation: false });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().data, [{ index: 0, label: 'LABEL_0', probs: [logitOf(templated(code))], num_classes: 1 }]);
    const parts = [{ role: 'user', content: [{ type: 'text', text: 'Add two numbers.' }] }, { role: 'assistant', content: code }];
    assert.equal((await classify({ messages: parts, use_activation: false })).json().data[0].probs[0], logitOf(templated(code)), 'text parts');
    const withPrompt = (await classify({ messages: messages.slice(0, 1), add_generation_prompt: true, use_activation: false })).json();
    assert.equal(withPrompt.data[0].probs[0], logitOf(encoder.renderMessages(messages.slice(0, 1), true)));
  });

  // vLLM keeps the last truncate_prompt_tokens tokens (its tokenizer truncates from the left); -1 is the maximum length.
  it('truncate_prompt_tokens keeps the last N tokens; -1 means MAX_LENGTH', async () => {
    const input = templated('def add(a, b):\n    return a + b');
    const ids = Array.from(encoder.encodeText(input, true).ids);
    const kept = (await classify({ input, truncate_prompt_tokens: 5, use_activation: false })).json();
    assert.equal(kept.data[0].probs[0], Math.fround(fakeLogit(ids.slice(-5))));
    assert.equal(kept.usage.prompt_tokens, 5);
    const idsKept = (await classify({ input: ids, truncate_prompt_tokens: 3, use_activation: false })).json();
    assert.equal(idsKept.data[0].probs[0], Math.fround(fakeLogit(ids.slice(-3))));
    const all = (await classify({ input, truncate_prompt_tokens: -1, use_activation: false })).json();
    assert.equal(all.data[0].probs[0], Math.fround(fakeLogit(ids)));
  });

  it('SGLang: {"model", "text": [str]} → one {"embedding": [logit]} per text; a single string gives one object', async () => {
    const texts = [templated('x = 1'), templated('y = 2')];
    const res = await classify({ model: 'Skywork/Skywork-Reward-V2-Qwen3-1.7B', text: texts });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(body.map((r: { embedding: number[] }) => r.embedding[0]), texts.map(logitOf));
    assert.deepEqual(body[0].meta_info, { prompt_tokens: encoder.encodeText(texts[0]).ids.length });
    const single = (await classify({ model: 'm', text: texts[0] })).json();
    assert.deepEqual(single.embedding, [logitOf(texts[0])]);
  });

  it('token ids are checked against config.json\'s vocab_size when it has one', async () => {
    const small = await buildApp({ config: testConfig(), modelDir: { ...tokenizerModelDir(), config: { num_labels: 1, vocab_size: 1000 } }, model: new FakeModel() });
    try {
      await small.warmUp;
      const res = await small.app.inject({ method: 'POST', url: '/classify', payload: { input: [999, 1000] } });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error, /body\/input\/1: token id 1000 is outside the vocabulary \(0\.\.999\)/);
      assert.equal((await small.app.inject({ method: 'POST', url: '/classify', payload: { input: [0, 999] } })).statusCode, 200);
    } finally {
      await small.shutdown();
    }
  });

  const bad: [string, object, number, RegExp][] = [
    ['an empty input', { model: 'm', input: '' }, 400, /body\/input: empty text/],
    ['an empty text in a list', { model: 'm', input: ['a', ''] }, 400, /body\/input\/1: empty text/],
    ['an empty SGLang text', { model: 'm', text: [''] }, 400, /body\/text\/0: empty text/],
    ['neither input nor text', { model: 'm' }, 400, /input.*text/],
    ['both input and text', { input: 'a', text: 'a' }, 400, /exactly one of input/],
    ['input not text', { input: 42 }, 400, /body\/input/],
    ['an empty list', { input: [] }, 400, /body\/input/],
    ['a negative token id', { input: [[1, 2], [3, -4]] }, 400, /body\/input\/1\/1: token id -4/],
    ['a token id the tokenizer does not know (no vocab_size in config.json)', { input: [750, 99999999] }, 400, /body\/input\/1: token id 99999999 is outside the vocabulary/],
    ['an empty token list', { input: [[1], []] }, 400, /body\/input/],
    ['token ids mixed with text', { input: [1, 'a'] }, 400, /body\/input/],
    ['truncate_prompt_tokens above MAX_LENGTH', { input: 'a', truncate_prompt_tokens: 4097 }, 400, /truncate_prompt_tokens: 4097 is outside 1\.\.4096/],
    ['truncate_prompt_tokens 0', { input: 'a', truncate_prompt_tokens: 0 }, 400, /truncate_prompt_tokens/],
    ['truncate_prompt_tokens below -1', { input: 'a', truncate_prompt_tokens: -2 }, 400, /truncate_prompt_tokens/],
    ['messages and input', { input: 'a', messages: [{ role: 'user', content: 'q' }] }, 400, /exactly one of input/],
    ['a message without role', { messages: [{ content: 'q' }] }, 400, /role/],
    ['an image part', { messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, 400, /body\/messages\/0\/content\/0: only text parts/],
    ['more token lists than MAX_CLIENT_BATCH', { input: [[1], [2], [3], [4]] }, 422, /input: 4 items/],
    ['activation not a boolean', { input: 'a', activation: 'no' }, 400, /activation/],
    ['more texts than MAX_CLIENT_BATCH', { input: ['a', 'b', 'c', 'd'] }, 422, /input: 4 items/],
  ];
  for (const [what, payload, status, message] of bad) {
    it(`${status} naming the field: ${what}`, async () => {
      const res = await classify(payload);
      assert.equal(res.statusCode, status);
      assert.equal(res.json().code, status === 400 ? 'invalid_request' : 'too_many_items');
      assert.match(res.json().error, message);
    });
  }
});

// vLLM's /score bodies (vllm/entrypoints/pooling/scoring/protocol.py): {text_1, text_2} or the newer
// {queries, documents}, each a string or a list; 1 to 1, 1 to N broadcast, N to N. The first text is
// the question, the second the response. Answered {id, object: "list", created, model,
// data: [{index, object: "score", score}], usage}; `score` is the reward /v1/score gives the pair.
describe('POST /score and /v1/score with vLLM score bodies', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ MAX_CLIENT_BATCH: '3' });
  });
  after(() => service.shutdown());

  const responses = [fence('def add(a, b):\n    return a + b\n'), 'I cannot.', fence('def add(a, b):\n    return a - b\n')];
  const post = (url: string, payload: object) => service.app.inject({ method: 'POST', url, payload });
  const rewardsOf = async (items: { question: string; response: string }[]) =>
    (await post('/v1/score', { items })).json().results.map((r: { reward: number }) => r.reward);

  it('text_1 str, text_2 list: the question broadcast to each response; score is /v1/score\'s reward, 0 for invalid code', async () => {
    for (const url of ['/score', '/v1/score']) {
      const res = await post(url, { model: 'rm', text_1: 'Add two numbers.', text_2: responses, use_activation: null, truncate_prompt_tokens: -1 });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      const expected = await rewardsOf(responses.map((response) => ({ question: 'Add two numbers.', response })));
      assert.deepEqual(body.data, expected.map((score: number, index: number) => ({ index, object: 'score', score })));
      assert.equal(body.data[1].score, 0, 'no code block');
      assert.ok(body.data[0].score > 0);
      assert.match(body.id, /^score-[0-9a-f]{32}$/);
      assert.equal(body.object, 'list');
      assert.equal(body.model, 'fake-rm');
      assert.ok(Math.abs(body.created - Date.now() / 1000) < 60);
      const tokens = (await post('/v1/score', { items: responses.map((response) => ({ question: 'Add two numbers.', response })) })).json().usage.prompt_tokens;
      assert.deepEqual(body.usage, { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 });
      for (const h of ['x-queue-time', 'x-tokenization-time', 'x-inference-time']) assert.ok(h in res.headers, h);
    }
  });

  it('queries/documents: N to N in order, and 1 to 1 with plain strings', async () => {
    const questions = ['Add two numbers.', 'Subtract two numbers.'];
    const pair = [responses[0], responses[2]];
    const res = (await post('/score', { queries: questions, documents: pair })).json();
    assert.deepEqual(res.data.map((d: { score: number }) => d.score), await rewardsOf(questions.map((question, i) => ({ question, response: pair[i] }))));
    const one = (await post('/score', { text_1: questions[1], text_2: pair[0] })).json();
    assert.deepEqual(one.data, [{ index: 0, object: 'score', score: (await rewardsOf([{ question: questions[1], response: pair[0] }]))[0] }]);
  });

  it('a body with items keeps this service\'s answer', async () => {
    const body = (await post('/score', { items: [{ question: 'q', response: responses[0] }] })).json();
    assert.deepEqual(Object.keys(body).sort(), ['model', 'results', 'usage']);
  });

  const bad: [string, object, number, RegExp][] = [
    ['text_2 missing', { text_1: 'q' }, 400, /text_2 is required/],
    ['documents missing', { queries: ['q'] }, 400, /documents is required/],
    ['both shapes', { items: [{ question: 'q', response: 'r' }], text_1: 'q', text_2: 'r' }, 400, /not both/],
    ['both vLLM spellings', { text_1: 'q', text_2: 'r', queries: 'q', documents: 'r' }, 400, /not both/],
    ['2 questions for 3 responses', { text_1: ['a', 'b'], text_2: ['x', 'y', 'z'] }, 400, /body\/text_1: 2 texts for 3/],
    ['a text not a string', { text_1: 'q', text_2: ['r', 7] }, 400, /body\/text_2/],
    ['an empty list', { queries: [], documents: 'r' }, 400, /body\/queries/],
    ['a positive truncate_prompt_tokens', { text_1: 'q', text_2: 'r', truncate_prompt_tokens: 10 }, 400, /truncate_prompt_tokens/],
    ['more pairs than MAX_CLIENT_BATCH', { text_1: 'q', text_2: ['a', 'b', 'c', 'd'] }, 422, /text_2: 4 items/],
  ];
  for (const [what, payload, status, message] of bad) {
    it(`${status} naming the field: ${what}`, async () => {
      const res = await post('/v1/score', payload);
      assert.equal(res.statusCode, status, res.body);
      assert.match(res.json().error, message);
    });
  }
});

// vLLM's /tokenize (TokenizeCompletionRequest / TokenizeChatRequest) and /detokenize.
describe('POST /tokenize and /detokenize', () => {
  let service: RewardApp;
  let encoder: PromptEncoder;
  before(async () => {
    service = await fakeApp({ MAX_LENGTH: '64', MAX_BATCH_TOKENS: '256' });
    encoder = new PromptEncoder(tokenizerModelDir(), 100_000);
  });
  after(() => service.shutdown());
  const post = (url: string, payload: object) => service.app.inject({ method: 'POST', url, payload });

  it('prompt: every token (no truncation at MAX_LENGTH), special tokens added by default; count and max_model_len', async () => {
    const prompt = 'def add(a, b):\n    return a + b\n'.repeat(10);
    const res = await post('/tokenize', { model: 'rm', prompt });
    assert.equal(res.statusCode, 200, res.body);
    const ids = Array.from(encoder.encodeText(prompt, true).ids);
    assert.ok(ids.length > 64, 'longer than MAX_LENGTH');
    assert.deepEqual(res.json(), { count: ids.length, max_model_len: 64, tokens: ids, token_strs: null });
  });

  it('messages: the chat template with the generation prompt, as vLLM\'s /tokenize; token_strs when asked', async () => {
    const messages = [{ role: 'user', content: 'Add two numbers.' }];
    const body = (await post('/tokenize', { messages, return_token_strs: true })).json();
    assert.deepEqual(body.tokens, Array.from(encoder.encodeText(encoder.renderMessages(messages, true)).ids));
    assert.equal(body.token_strs.length, body.count);
    assert.equal(body.token_strs[0], '<|im_start|>');
    const noPrompt = (await post('/tokenize', { messages, add_generation_prompt: false })).json();
    assert.deepEqual(noPrompt.tokens, Array.from(encoder.encodeText(encoder.renderMessages(messages, false)).ids));
  });

  it('/detokenize gives the text back, special tokens kept', async () => {
    const text = '<|im_start|>user\nAdd two numbers: "é"<|im_end|>\n';
    const tokens = (await post('/tokenize', { prompt: text })).json().tokens;
    const res = await post('/detokenize', { model: 'rm', tokens });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { prompt: text });
  });

  const bad: [string, string, object, RegExp][] = [
    ['/tokenize', 'neither prompt nor messages', { model: 'm' }, /prompt or messages/],
    ['/tokenize', 'both prompt and messages', { prompt: 'a', messages: [{ role: 'user', content: 'q' }] }, /prompt or messages/],
    ['/tokenize', 'prompt not a string', { prompt: 3 }, /body\/prompt/],
    ['/detokenize', 'tokens missing', {}, /tokens/],
    ['/detokenize', 'a token id outside the vocabulary', { tokens: [750, 99999999] }, /body\/tokens\/1: token id 99999999/],
    ['/detokenize', 'a negative token id', { tokens: [-1] }, /body\/tokens\/0/],
    ['/detokenize', 'a token not an integer', { tokens: [1.5] }, /body\/tokens\/0/],
  ];
  for (const [url, what, payload, message] of bad) {
    it(`${url}: 400 naming the field: ${what}`, async () => {
      const res = await post(url, payload);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, 'invalid_request');
      assert.match(res.json().error, message);
    });
  }
});

// vLLM's /pooling (PoolingCompletionRequest / PoolingChatRequest) on a sequence classifier.
describe('POST /pooling', () => {
  let service: RewardApp;
  let encoder: PromptEncoder;
  before(async () => {
    service = await fakeApp();
    encoder = new PromptEncoder(tokenizerModelDir(), 4096);
  });
  after(() => service.shutdown());
  const post = (payload: object) => service.app.inject({ method: 'POST', url: '/pooling', payload });

  it('each entry\'s data is /classify\'s probs: sigmoid by default, the logit with use_activation false', async () => {
    const inputs = [encoder.renderChat('Add two numbers.', 'x = 1'), 'not templated'];
    const res = await post({ model: 'rm', input: inputs });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    const classified = (await service.app.inject({ method: 'POST', url: '/classify', payload: { input: inputs } })).json();
    assert.deepEqual(body.data, classified.data.map((d: { index: number; probs: number[] }) => ({ index: d.index, object: 'pooling', data: d.probs })));
    assert.ok(body.data.every((d: { data: number[] }) => d.data[0] > 0 && d.data[0] < 1), 'a sigmoid');
    assert.match(body.id, /^pool-[0-9a-f]{32}$/);
    assert.deepEqual(body.usage, classified.usage);
    const raw = (await post({ input: inputs, use_activation: false, task: 'classify' })).json();
    assert.deepEqual(raw.data.map((d: { data: number[] }) => d.data[0]), inputs.map((t) => Math.fround(fakeLogit(encoder.encodeText(t, true).ids))));
  });

  for (const [what, payload, message] of [
    ['SGLang\'s text', { text: 'a' }, /body\/text/],
    ['another task', { input: 'a', task: 'embed' }, /task/],
    ['no input', {}, /input/],
  ] as [string, object, RegExp][]) {
    it(`400 naming the field: ${what}`, async () => {
      const res = await post(payload);
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().error, message);
    });
  }
});
