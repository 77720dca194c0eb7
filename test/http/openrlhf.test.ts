// POST /get_reward as OpenRLHF's remote reward client calls it. What that client does (upstream
// openrlhf/utils/agent.py, SingleTurnAgentExecutor; older releases in openrlhf/utils/remote_rm_utils.py):
// after generation it decodes the prompt token ids followed by the generated ids with
// skip_special_tokens=False, so `query` is the templated prompt, the answer and the end-of-turn
// token the engine stopped on; it posts {"query": [...], "prompts": [...], "labels": [...]} as
// JSON to each URL of --reward.remote_url (a shard of the batch per URL), retries any failure five
// times a second apart within a 180 s timeout, and reads `rewards`, `scores` (falling back to
// `rewards` when absent) and the per-sample lists under `extra_logs`.
// Auth and overload for this route are in openapi.test.ts, with every other route's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Template } from '@huggingface/jinja';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { CHATML, recoverQuestion, recoverResponse, templateMarkers, type TurnMarkers } from '../../src/prompt/chat-turns.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { fakeApp } from '../support/app.ts';
import { tokenizerModelDir } from '../support/fakes.ts';
import { fence } from '../support/fence.ts';

/** The Qwen3 template with add_generation_prompt, as OpenRLHF renders prompts for a Qwen policy. */
const chatPrompt = (question: string) => `<|im_start|>user\n${question}<|im_end|>\n<|im_start|>assistant\n`;

describe('turn markers of chat templates', () => {
  const templates: [string, (q: string, c: string) => string, string[], TurnMarkers][] = [
    ['Llama 3 (BOS and a default system turn before the user)',
      (q, c) => `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n${c}<|eot_id|>`,
      ['<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
      { opener: '<|start_header_id|>user<|end_header_id|>\n\n', closer: '<|eot_id|>' }],
    ['Gemma',
      (q, c) => `<bos><start_of_turn>user\n${q}<end_of_turn>\n<start_of_turn>model\n${c}<end_of_turn>\n`,
      ['<bos>', '<start_of_turn>', '<end_of_turn>'],
      { opener: '<start_of_turn>user\n', closer: '<end_of_turn>' }],
    ['plain-text markers, no special tokens',
      (q, c) => `### User:\n${q}\n### Assistant:\n${c}\n`,
      [],
      { opener: '### User:\n', closer: '###' }],
    ['Phi-3 (the role inside the special token)',
      (q, c) => `<|user|>\n${q}<|end|>\n<|assistant|>\n${c}<|end|>\n`,
      ['<|user|>', '<|end|>', '<|assistant|>'],
      { opener: '<|user|>\n', closer: '<|end|>' }],
    ['Mistral (no role name)',
      (q, c) => `<s>[INST] ${q} [/INST]${c}</s>`,
      ['<s>', '</s>'],
      { opener: '<s>[INST] ', closer: '[/INST]' }],
  ];
  for (const [name, render, specials, expected] of templates) {
    it(name, async () => {
      const markers = await templateMarkers(render, specials);
      assert.deepEqual(markers, expected);
      const prompt = render('Add two numbers.', '\u0000').split('\u0000')[0];
      assert.equal(recoverQuestion(prompt, [markers!]).trim(), 'Add two numbers.');
    });
  }

  it('the Qwen3 template of the served model gives the ChatML markers', async () => {
    const encoder = new PromptEncoder(tokenizerModelDir(), 4096);
    const specials = tokenizerModelDir().specialTokens;
    assert.deepEqual(await templateMarkers((q, c) => encoder.renderChat(q, c), specials), CHATML);
  });

  const questions: [string, string, string][] = [
    ['a single user turn', chatPrompt('Add two numbers.'), 'Add two numbers.'],
    ['the last user turn of a conversation with a system turn',
      '<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n' + chatPrompt('Add two numbers.'), 'Add two numbers.'],
    ['a question spanning lines, with a fence in it', chatPrompt('Fix:\n```python\nx = (\n```\n'), 'Fix:\n```python\nx = (\n```\n'],
    ['a plain prompt is the question as a whole', 'Write add(a, b).\n', 'Write add(a, b).\n'],
  ];
  for (const [what, prompt, question] of questions) {
    it(`question: ${what}`, () => assert.equal(recoverQuestion(prompt, [CHATML]), question));
  }

  const ends = ['<|im_end|>', '<|endoftext|>'];
  const responses: [string, string, string | undefined][] = [
    ['<|im_end|> removed', 'P' + 'answer<|im_end|>', 'answer'],
    ['<|endoftext|> removed', 'P' + 'answer<|endoftext|>', 'answer'],
    ['both removed', 'P' + 'answer<|im_end|><|endoftext|>', 'answer'],
    ['no end token (cut at max tokens)', 'P' + 'answer', 'answer'],
    ['an end token inside the answer stays', 'P' + 'a<|im_end|>b', 'a<|im_end|>b'],
    ['a query that does not start with its prompt', 'Xanswer', undefined],
  ];
  for (const [what, query, expected] of responses) {
    it(`response: ${what}`, () => assert.equal(recoverResponse(query, 'P', ends), expected));
  }
});

describe('POST /get_reward', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ MAX_CLIENT_BATCH: '8' });
  });
  after(() => service.shutdown());

  const question = 'Add two numbers.';
  const answers = [
    fence('def add(a, b):\n    return a + b\n'),
    'Sure:\n' + fence('def add(a, b):\n    return a - b\n') + '\nDone.',
    fence('def add(a, b)\n    return a + b\n'),
    'I cannot.',
  ];
  const getReward = (payload: object) => service.app.inject({ method: 'POST', url: '/get_reward', payload });
  const rankRewards = async (q: string, responses: string[]) =>
    (await service.app.inject({ method: 'POST', url: '/v1/rank', payload: { question: q, responses } })).json().results.map((r: { reward: number }) => r.reward);

  it('rewards equal /v1/rank\'s for the same question and responses; scores equal rewards; validity logged', async () => {
    const prompt = chatPrompt(question);
    const res = await getReward({ query: answers.map((a) => prompt + a + '<|im_end|>'), prompts: answers.map(() => prompt), labels: answers.map(() => '') });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(body.rewards, await rankRewards(question, answers));
    assert.deepEqual(body.scores, body.rewards);
    assert.deepEqual(body.extra_logs, { valid: [1, 1, 0, 0], truncated: [0, 0, 0, 0] });
    assert.ok(body.rewards[0] > 0 && body.rewards[1] > 0);
    for (const h of ['x-queue-time', 'x-tokenization-time', 'x-inference-time']) assert.ok(h in res.headers, h);
  });

  it('one query per request, as the newest client sends it, with a multi-turn prompt and <|endoftext|>', async () => {
    const prompt = '<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n' + chatPrompt(question);
    const body = (await getReward({ query: [prompt + answers[0] + '<|endoftext|>'], prompts: [prompt], labels: [null] })).json();
    assert.deepEqual(body.rewards, await rankRewards(question, [answers[0]]));
  });

  it('a prompt without a chat template is the question as a whole', async () => {
    const prompt = 'Write a Python function add(a, b).\n';
    const body = (await getReward({ query: [prompt + answers[0]], prompts: [prompt] })).json();
    assert.deepEqual(body.rewards, await rankRewards(prompt, [answers[0]]));
  });

  it('unknown keys, as newer clients may add, are ignored', async () => {
    const prompt = chatPrompt(question);
    const res = await getReward({ query: [prompt + answers[0]], prompts: [prompt], labels: [''], metadata: [{ id: 1 }], eos_token: '<|im_end|>' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().rewards, await rankRewards(question, [answers[0]]));
  });

  // Each policy chat format, its prompt rendered from the format's real chat template (Jinja), sent
  // whole and with its front cut off as OpenRLHF sends an over-long prompt: the reward equals
  // /v1/rank's for the question and the answer.
  const formats: [string, { chat_template: string; bos_token: string; eos_token: string }][] = [
    ['ChatML (Qwen3, the served model)', { chat_template: tokenizerModelDir().chatTemplate, bos_token: '', eos_token: '<|im_end|>' }],
    ...['llama3', 'deepseek', 'gemma3', 'mistral', 'phi3'].map((name): [string, { chat_template: string; bos_token: string; eos_token: string }] =>
      [name, JSON.parse(readFileSync(new URL(`../fixtures/chat-templates/${name}.json`, import.meta.url), 'utf8'))]),
  ];
  const longQuestion = 'Write a Python function add(a, b) that returns the sum of a and b. ' + 'It must handle integers and floats alike. '.repeat(20) + 'Explain nothing.';
  for (const [name, format] of formats) {
    it(`chat format ${name}: whole and front-truncated prompts score as /v1/rank`, async () => {
      const render = (messages: object[]) => new Template(format.chat_template).render({ messages, add_generation_prompt: true, bos_token: format.bos_token, eos_token: format.eos_token });
      const prompt = render([{ role: 'user', content: longQuestion }]);
      assert.ok(prompt.includes(longQuestion));
      const truncated = prompt.slice(Math.floor(prompt.length / 2));
      const query = [prompt + answers[0] + format.eos_token, truncated + answers[1] + format.eos_token, truncated.slice(3) + answers[0]];
      const res = await getReward({ query, prompts: [prompt, prompt, prompt] });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().rewards, await rankRewards(longQuestion, [answers[0], answers[1], answers[0]]));
      // A multi-turn prompt: the question is the last user turn.
      const turns = render([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: question }]);
      const multi = await getReward({ query: [turns + answers[0] + format.eos_token], prompts: [turns] });
      assert.deepEqual(multi.json().rewards, await rankRewards(question, [answers[0]]));
    });
  }

  const prompt = chatPrompt(question);
  const bad: [string, object, number, RegExp][] = [
    ['query missing', { prompts: [prompt] }, 400, /query/],
    ['prompts missing (the oldest client sent only query)', { query: [prompt] }, 400, /prompts/],
    ['query empty', { query: [], prompts: [] }, 400, /query/],
    ['query not a list', { query: prompt, prompts: [prompt] }, 400, /query/],
    ['a query not a string', { query: [prompt, 3], prompts: [prompt, prompt] }, 400, /query\/1/],
    ['prompts and queries do not pair up', { query: [prompt + 'a', prompt + 'b'], prompts: [prompt] }, 400, /prompts.*pair/],
    ['a query that does not start with its prompt', { query: [prompt + 'a', 'a'], prompts: [prompt, prompt] }, 400, /query\/1.*prompts\/1/],
    ['more queries than MAX_CLIENT_BATCH', { query: Array(9).fill(prompt), prompts: Array(9).fill(prompt) }, 422, /query: 9 items/],
  ];
  for (const [what, payload, status, message] of bad) {
    it(`${status} naming the field: ${what}`, async () => {
      const res = await getReward(payload);
      assert.equal(res.statusCode, status);
      assert.equal(res.json().code, status === 400 ? 'invalid_request' : 'too_many_items');
      assert.match(res.json().error, message);
    });
  }
});
