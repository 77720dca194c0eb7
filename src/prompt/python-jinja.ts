// Chat templates are Python Jinja: transformers renders them with jinja2, where `content.strip('\n')`
// is Python's str.strip. @huggingface/jinja reimplements those string methods in JavaScript and gets
// several of them wrong: strip/lstrip/rstrip ignore `chars` and trim JavaScript's white space (which
// includes U+FEFF and lacks U+001C-U+001F and U+0085), split(None) splits on that same wrong set and
// takes no keyword arguments, title is /\b\w/ upper-casing, the trim filter ignores `chars`, the
// title filter is not jinja2's, and tojson sorts keys by locale and treats indent=0 as no indent.
// Qwen3's template alone calls .lstrip('\n'), .rstrip('\n') and .strip('\n') on the answer, so code
// that starts or ends with spaces or tabs, or contains `</think>`, rendered differently from
// transformers (10 of 200 pairs of scripts/check_hf_parity.py).
//
// These modules are the one place that fixes it: importing this one replaces those methods and
// filters in @huggingface/jinja's runtime with Python's semantics (CPython 3.11 str methods from
// python-str.ts, jinja2 3.1 filters, transformers' own tojson from python-tojson.ts; jinja-runtime.ts
// reaches the runtime's value classes), and `ChatTemplate` renders a template with that runtime and
// the variables transformers' apply_chat_template passes. test/parity/jinja.test.ts holds each
// method and filter against jinja2 itself. Not covered: string length, indexing and slicing still
// count UTF-16 units (Python counts code points), and the lexer reads no exponent literals (1e3).
import { Interpreter, Template, type Environment } from '@huggingface/jinja';
import { ArrayValue, BooleanValue, bindArgs, FunctionValue, optionalInt, optionalString, str, StringValue, type AstNode, type Builtin, type RuntimeValue } from './jinja-runtime.ts';
import { jinjaTitleFilter, pyCapitalize, pyReplace, pySplit, pyStrip, pyTitle } from './python-str.ts';
import { dumpOptions, pyJsonDumps } from './python-tojson.ts';

const strList = (parts: string[]): RuntimeValue => new ArrayValue(parts.map(str));

// ---------------------------------------------------------------------------------------------
// Python's str methods as runtime builtins (python-str.ts holds their semantics).

/** str.startswith / endswith (prefix, start=None, end=None); a tuple tries each entry. */
function affixTest(s: string, args: RuntimeValue[], fn: 'startswith' | 'endswith'): boolean {
  const [affix, startArg, endArg] = bindArgs(args, ['prefix', 'start', 'end'], fn);
  const cps = Array.from(s);
  const start = startArg === undefined || startArg.type === 'NullValue' ? 0 : optionalInt(startArg, 0, fn);
  const end = endArg === undefined || endArg.type === 'NullValue' ? cps.length : optionalInt(endArg, cps.length, fn);
  const window = pySlice(cps, start, end);
  if (window === null) return false;
  const candidates = affix?.type === 'ArrayValue' || affix?.type === 'TupleValue' ? (affix.value as RuntimeValue[]) : [affix];
  return candidates.some((c) => {
    if (c?.type !== 'StringValue') throw new Error(`TypeError: ${fn} first arg must be str or a tuple of str`);
    return fn === 'startswith' ? window.startsWith(c.value as string) : window.endsWith(c.value as string);
  });
}

/** s[start:end] over code points, or null where CPython's startswith reports False (start past the end). */
function pySlice(cps: string[], start: number, end: number): string | null {
  const n = cps.length;
  const from = start < 0 ? Math.max(0, n + start) : start;
  const to = end < 0 ? Math.max(0, n + end) : Math.min(end, n);
  if (from > n) return null;
  return cps.slice(from, Math.max(from, to)).join('');
}

function stringMethods(s: string): [string, Builtin][] {
  const strip = (left: boolean, right: boolean, fn: string): Builtin => (args) =>
    str(pyStrip(s, optionalString(bindArgs(args, ['chars'], fn)[0], fn), left, right));
  return [
    ['strip', strip(true, true, 'strip')],
    ['lstrip', strip(true, false, 'lstrip')],
    ['rstrip', strip(false, true, 'rstrip')],
    ['split', (args) => {
      const [sep, maxsplit] = bindArgs(args, ['sep', 'maxsplit'], 'split');
      return strList(pySplit(s, optionalString(sep, 'split'), optionalInt(maxsplit, -1, 'split')));
    }],
    ['startswith', (args) => new BooleanValue(affixTest(s, args, 'startswith'))],
    ['endswith', (args) => new BooleanValue(affixTest(s, args, 'endswith'))],
    ['replace', (args) => {
      const [old, replacement, count] = bindArgs(args, ['old', 'new', 'count'], 'replace');
      if (old?.type !== 'StringValue' || replacement?.type !== 'StringValue') throw new Error('TypeError: replace() arguments must be str');
      return str(pyReplace(s, old.value as string, replacement.value as string, optionalInt(count, -1, 'replace')));
    }],
    ['title', () => str(pyTitle(s))],
    // Python 3.8+: the first code point title-cased, the rest lower-cased.
    ['capitalize', () => str(pyCapitalize(s))],
  ];
}

// ---------------------------------------------------------------------------------------------
// The patch. StringValue keeps its other builtins (upper, lower, length, ...); the methods above
// replace theirs. Filters: trim, title, replace and tojson are answered here, the rest as before.

const stringProto = StringValue.prototype as object;
const originalBuiltins = Object.getOwnPropertyDescriptor(stringProto, 'builtins')!.get!;
const pythonBuiltins = new WeakMap<object, Map<string, RuntimeValue>>();
Object.defineProperty(stringProto, 'builtins', {
  configurable: true,
  get(this: RuntimeValue): Map<string, RuntimeValue> {
    let map = pythonBuiltins.get(this);
    if (map === undefined) {
      map = new Map(originalBuiltins.call(this) as Map<string, RuntimeValue>);
      for (const [name, fn] of stringMethods(this.value as string)) map.set(name, new FunctionValue(fn));
      pythonBuiltins.set(this, map);
    }
    return map;
  },
});

interface InterpreterInternals {
  applyFilter(operand: RuntimeValue, filter: AstNode, env: Environment): RuntimeValue;
  evaluateArguments(args: AstNode[], env: Environment): [RuntimeValue[], Map<string, RuntimeValue>];
}
const interpreterProto = Interpreter.prototype as unknown as InterpreterInternals;
const originalApplyFilter = interpreterProto.applyFilter;
interpreterProto.applyFilter = function applyPythonFilter(this: InterpreterInternals, operand, filter, env) {
  const name = filter.type === 'Identifier' ? filter.value : filter.type === 'CallExpression' && filter.callee?.type === 'Identifier' ? filter.callee.value : undefined;
  const call = (): RuntimeValue[] => {
    if (filter.type !== 'CallExpression') return [];
    const [args, kwargs] = this.evaluateArguments(filter.args ?? [], env);
    return kwargs.size > 0 ? [...args, { type: 'KeywordArgumentsValue', value: kwargs }] : args;
  };
  const isString = operand.type === 'StringValue';
  switch (name) {
    case 'tojson':
      return str(pyJsonDumps(operand, dumpOptions(call())));
    case 'trim':
      // jinja2: do_trim(value, chars=None) = soft_str(value).strip(chars)
      if (isString) return str(pyStrip(operand.value as string, optionalString(bindArgs(call(), ['chars'], 'trim')[0], 'trim')));
      break;
    case 'title':
      if (isString) return str(jinjaTitleFilter(operand.value as string));
      break;
    case 'capitalize':
      if (isString) return str(pyCapitalize(operand.value as string));
      break;
    case 'replace':
      // jinja2: do_replace(s, old, new, count=None); None means all.
      if (isString) {
        const [old, replacement, count] = bindArgs(call(), ['old', 'new', 'count'], 'replace');
        if (old?.type !== 'StringValue' || replacement?.type !== 'StringValue') throw new Error('TypeError: replace filter arguments must be str');
        const n = count === undefined || count.type === 'NullValue' ? -1 : optionalInt(count, -1, 'replace');
        return str(pyReplace(operand.value as string, old.value as string, replacement.value as string, n));
      }
      break;
  }
  return originalApplyFilter.call(this, operand, filter, env);
};

// ---------------------------------------------------------------------------------------------

/** Special-token variables apply_chat_template passes, named as in transformers' SPECIAL_TOKENS_ATTRIBUTES. */
const SPECIAL_TOKEN_VARIABLES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

/** A token setting from tokenizer_config.json: a string or an AddedToken-like {content}. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** A chat template compiled once, rendered as transformers' apply_chat_template renders it. */
export class ChatTemplate {
  private readonly template: Template;
  private readonly specialTokens: Record<string, string> = {};

  constructor(source: string, tokenizerConfig: Record<string, unknown>) {
    this.template = new Template(source);
    for (const name of SPECIAL_TOKEN_VARIABLES) {
      const text = tokenText(tokenizerConfig[name]);
      if (text !== undefined) this.specialTokens[name] = text;
    }
  }

  /** tools and documents are None, as apply_chat_template passes them when not given. */
  render(messages: { role: string; content: string }[], addGenerationPrompt: boolean): string {
    return this.template.render({ messages, tools: null, documents: null, add_generation_prompt: addGenerationPrompt, ...this.specialTokens });
  }
}

/** Renders a template with the Python-semantics runtime and the given variables (for tests and tools). */
export function renderTemplate(source: string, variables: Record<string, unknown>): string {
  return new Template(source).render(variables);
}
