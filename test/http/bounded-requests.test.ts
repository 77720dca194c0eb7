// Every request's cost is bounded and stays off the event loop (issue 23, findings 3 and 4):
// - a text field over MAX_TEXT_CHARS is a 413 naming the field and the setting, on every route that
//   takes text, and a normal request succeeds right after it;
// - /tokenize, /detokenize, /classify's messages and /get_reward do no tokenizer or template work on
//   the event loop when prep threads are there: counted in calls to the encoder on this thread,
//   and in the loop's utilisation while a long /tokenize runs.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { TextTooLongError } from '../../src/errors.ts';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { fakeApp } from '../support/app.ts';
import { tokenizerModelDir } from '../support/fakes.ts';

const LIMIT = 1024;
const long = 'x'.repeat(LIMIT + 1);
const ok = 'def f():\n    return 1\n';
const fenced = '```python\nprint(1)\n```';

/** [route, hostile body, the field the 413 names, a normal body for the same route]. */
const HOSTILE: [string, unknown, string, unknown][] = [
  ['/score', { items: [{ question: 'q', response: fenced }, { question: long, response: fenced }] }, 'body/items/1/question', { items: [{ question: 'q', response: fenced }] }],
  ['/score', { items: [{ question: 'q', response: long }] }, 'body/items/0/response', { items: [{ question: 'q', response: fenced }] }],
  ['/v1/score', { text_1: long, text_2: [fenced] }, 'body/text_1', { text_1: 'q', text_2: [fenced] }],
  ['/v1/score', { queries: 'q', documents: [fenced, long] }, 'body/documents/1', { queries: 'q', documents: [fenced] }],
  ['/v1/rank', { question: long, responses: [fenced] }, 'body/question', { question: 'q', responses: [fenced] }],
  ['/v1/rank', { question: 'q', responses: [long] }, 'body/responses/0', { question: 'q', responses: [fenced] }],
  ['/rerank', { query: long, texts: [fenced] }, 'body/query', { query: 'q', texts: [fenced] }],
  ['/v1/rerank', { query: 'q', documents: [fenced, long] }, 'body/documents/1', { query: 'q', documents: [fenced] }],
  ['/get_reward', { query: [long], prompts: ['p'] }, 'body/query/0', { query: [`p${fenced}`], prompts: ['p'] }],
  ['/get_reward', { query: ['p'], prompts: [long] }, 'body/prompts/0', { query: [`p${fenced}`], prompts: ['p'] }],
  ['/classify', { model: 'm', input: long }, 'body/input', { model: 'm', input: ok }],
  ['/classify', { model: 'm', input: [ok, long] }, 'body/input/1', { model: 'm', input: [ok] }],
  ['/classify', { model: 'm', text: [long] }, 'body/text/0', { model: 'm', text: [ok] }],
  ['/classify', { model: 'm', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: long }] }, 'body/messages/1/content', { model: 'm', messages: [{ role: 'user', content: 'q' }] }],
  ['/classify', { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: long }] }] }, 'body/messages/0/content/0/text', { model: 'm', messages: [{ role: 'user', content: 'q' }] }],
  ['/pooling', { model: 'm', input: long }, 'body/input', { model: 'm', input: ok }],
  ['/v1/embeddings', { model: 'm', input: [long] }, 'body/input/0', { model: 'm', input: [ok] }],
  ['/tokenize', { prompt: long }, 'body/prompt', { prompt: ok }],
  ['/tokenize', { messages: [{ role: 'user', content: long }] }, 'body/messages/0/content', { messages: [{ role: 'user', content: 'q' }] }],
  ['/detokenize', { tokens: Array.from({ length: LIMIT + 1 }, () => 16) }, 'body/tokens', { tokens: [16, 17] }],
];

describe('MAX_TEXT_CHARS: one long field is a 413 that names it and the setting', () => {
  let service: RewardApp;
  before(async () => { service = await fakeApp({ MAX_TEXT_CHARS: String(LIMIT), PREP_THREADS: '0' }); });
  after(() => service.shutdown());

  it('TextTooLongError: its name, code, status and message', () => {
    const err = new TextTooLongError('items/3/question', 2000, 1024);
    assert.deepEqual([err.name, err.code, err.status, err.message], ['TextTooLongError', 'body_too_large', 413, 'body/items/3/question: 2000 characters, more than the limit of 1024 (MAX_TEXT_CHARS)']);
  });

  for (const [url, body, field, normal] of HOSTILE) {
    it(`${url} ${field}: 413, then a normal request succeeds`, async () => {
      const res = await service.app.inject({ method: 'POST', url, payload: body as object });
      assert.equal(res.statusCode, 413, res.body);
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'error']);
      assert.equal(res.json().code, 'body_too_large');
      assert.ok(res.json().error.startsWith(`${field}: `) && res.json().error.includes('MAX_TEXT_CHARS'), res.json().error);
      const after = await service.app.inject({ method: 'POST', url, payload: normal as object });
      assert.equal(after.statusCode, 200, after.body);
    });
  }
});

const ENCODER_WORK = ['tokenize', 'tokenizeRequest', 'detokenize', 'tokenStrings', 'renderMessages', 'renderChat', 'encodeText', 'encodeChat'] as const;

/** Calls to the encoder's methods on this thread (the event loop's) while `fn` runs. */
async function encoderCallsHere(fn: () => Promise<void>): Promise<number> {
  const proto = PromptEncoder.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = ENCODER_WORK.map((m) => [m, proto[m]] as const);
  let calls = 0;
  for (const [m, original] of originals) proto[m] = function (this: unknown, ...args: unknown[]) { calls++; return original.apply(this, args); };
  try {
    await fn();
  } finally {
    for (const [m, original] of originals) proto[m] = original;
  }
  return calls;
}

describe('with prep threads, tokenizer and template work stays off the event loop', () => {
  let service: RewardApp;
  const encoder = new PromptEncoder(tokenizerModelDir(), 4096);
  before(async () => { service = await fakeApp({ PREP_THREADS: '1' }); });
  after(() => service.shutdown());

  it('/tokenize, /detokenize, /classify with messages and /get_reward: right answers, no encoder call on this thread', async () => {
    const messages = [{ role: 'user', content: 'Sum 12 and 34.' }, { role: 'assistant', content: 'print(12 + 34)' }];
    const prompt = encoder.renderMessages(messages, false);
    const ids = encoder.tokenize('Hello 123 <|im_end|>', true);
    const answers: Record<string, unknown> = {};
    const calls = await encoderCallsHere(async () => {
      for (const [name, url, payload] of [
        ['prompt', '/tokenize', { prompt: 'Hello 123 <|im_end|>', return_token_strs: true }],
        ['messages', '/tokenize', { messages, add_generation_prompt: false }],
        ['detokenize', '/detokenize', { tokens: ids }],
        ['unknown id', '/detokenize', { tokens: [ids[0], 10 ** 8] }],
        ['classify', '/classify', { model: 'm', messages }],
        ['refused messages', '/classify', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'x' }] }] }],
        ['get_reward', '/get_reward', { query: [`<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n${fenced}<|im_end|>`], prompts: ['<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n'] }],
      ] as const) {
        const res = await service.app.inject({ method: 'POST', url, payload });
        answers[name] = { status: res.statusCode, body: res.json() };
      }
    });
    assert.equal(calls, 0, 'encoder calls on the event loop');
    assert.deepEqual(answers.prompt, { status: 200, body: { count: ids.length, max_model_len: 4096, tokens: ids, token_strs: encoder.tokenStrings(ids) } });
    assert.deepEqual((answers.messages as { body: { tokens: number[] } }).body.tokens, encoder.tokenize(prompt, false));
    assert.deepEqual(answers.detokenize, { status: 200, body: { prompt: 'Hello 123 <|im_end|>' } });
    assert.equal((answers['unknown id'] as { status: number }).status, 400);
    assert.match((answers['unknown id'] as { body: { error: string } }).body.error, /^body\/tokens\/1: token id 100000000/);
    assert.equal((answers.classify as { status: number }).status, 200);
    assert.equal((answers.classify as { body: { usage: { prompt_tokens: number } } }).body.usage.prompt_tokens, encoder.tokenize(prompt, false).length);
    assert.deepEqual(answers['refused messages'], { status: 400, body: { error: 'body/messages/0/content/0: only text parts ({"type": "text", "text": ...}) are supported', code: 'invalid_request' } });
    assert.equal((answers.get_reward as { status: number }).status, 200);
  });

  it('the event loop stays mostly idle while a prep thread tokenizes 128 Ki digits for /tokenize', async () => {
    const before = performance.eventLoopUtilization();
    const res = await service.app.inject({ method: 'POST', url: '/tokenize', payload: { prompt: '7'.repeat(128 * 1024) } });
    const used = performance.eventLoopUtilization(before);
    assert.equal(res.json().count, 128 * 1024);
    assert.ok(used.utilization < 0.5, `event loop utilisation ${used.utilization.toFixed(2)} over ${used.active.toFixed(0)} ms busy`);
  });
});
