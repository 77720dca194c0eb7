// The service's tokenizer (src/prompt/prompt.ts, @huggingface/tokenizers) against transformers'
// AutoTokenizer in the parity venv, on Qwen3's and Llama 3's tokenizers: the same ids with and
// without special tokens, the same token strings and the same decoded text, over every rendered
// parity conversation and the raw edge strings.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PromptEncoder } from '../../src/prompt/prompt.ts';
import { ChatTemplate } from '../../src/prompt/python-jinja.ts';
import { chatTemplates, conversations, EDGE_CONTENT } from './chat-cases.ts';
import { parityPython, runPython } from './support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tokenizer-parity-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Encoded {
  plain: number[];
  special: number[];
  tokens: (string | null)[];
  decoded: string;
}

const PYTHON = `
import json, sys, transformers
job = json.load(sys.stdin)
tok = transformers.AutoTokenizer.from_pretrained(job["dir"])
out = []
for text in job["texts"]:
    plain = tok(text, add_special_tokens=False)["input_ids"]
    out.append({"plain": plain, "special": tok(text, add_special_tokens=True)["input_ids"],
                "tokens": tok.convert_ids_to_tokens(plain), "decoded": tok.decode(plain, skip_special_tokens=False)})
print(json.dumps(out))
`;

for (const template of chatTemplates()) {
  test(`${template.name}: ids, token strings and decoded text as transformers' AutoTokenizer`, () => {
    const dir = join(tmp, template.name);
    template.writeTokenizer(dir);
    const tokenizerConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const chat = new ChatTemplate(template.source, tokenizerConfig);
    const texts = [...conversations().map((c) => chat.render(c.messages, c.add_generation_prompt)), ...EDGE_CONTENT.filter((t) => t !== '')];
    const run = runPython(parityPython(), ['-c', PYTHON], JSON.stringify({ dir, texts }));
    assert.equal(run.status, 0, run.stderr);
    const python = JSON.parse(run.stdout) as Encoded[];
    const encoder = new PromptEncoder({ tokenizerPath: join(dir, 'tokenizer.json'), tokenizerConfig, chatTemplate: template.source }, Number.MAX_SAFE_INTEGER);
    const problems: string[] = [];
    texts.forEach((text, i) => {
      const plain = encoder.tokenize(text, false);
      const ours: Encoded = { plain, special: encoder.tokenize(text, true), tokens: encoder.tokenStrings(plain).map((t) => t ?? null), decoded: (encoder.detokenize(plain) as { text: string }).text };
      for (const key of ['plain', 'special', 'tokens', 'decoded'] as const) {
        if (JSON.stringify(ours[key]) !== JSON.stringify(python[i][key])) problems.push(`text ${i} ${JSON.stringify(text.slice(0, 40))}: ${key} differs`);
      }
    });
    console.log(`${template.name}: ${texts.length - new Set(problems.map((p) => p.split(':')[0])).size}/${texts.length} texts tokenize equal`);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} differences`);
    assert.ok(python.some((p) => p.special.length > p.plain.length) || template.name === 'qwen3', 'Llama adds its begin-of-text token');
  });
}
