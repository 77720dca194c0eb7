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
// This module is the one place that fixes it: importing it replaces those methods and filters in
// @huggingface/jinja's runtime with Python's semantics (CPython 3.11 str methods, jinja2 3.1
// filters, transformers' own tojson), and `ChatTemplate` renders a template with that runtime and
// the variables transformers' apply_chat_template passes. test/parity/jinja.test.ts holds each
// method and filter against jinja2 itself. Not covered: string length, indexing and slicing still
// count UTF-16 units (Python counts code points), and the lexer reads no exponent literals (1e3).
import { Environment, Interpreter, Template } from '@huggingface/jinja';

/** A value of @huggingface/jinja's runtime (StringValue, ArrayValue, ...): its type tag and JS value. */
interface RuntimeValue {
  type: string;
  value: unknown;
}
type RuntimeCtor = new (value: unknown) => RuntimeValue;
type Builtin = (args: RuntimeValue[]) => RuntimeValue;
interface AstNode {
  type: string;
  value?: string;
  callee?: AstNode;
  args?: AstNode[];
}

/** The runtime's value classes are not exported; each is the constructor of a converted JS value. */
function runtimeClassOf(sample: unknown): RuntimeCtor {
  return (new Environment().set('sample', sample) as unknown as RuntimeValue).constructor as RuntimeCtor;
}
const StringValue = runtimeClassOf('');
const ArrayValue = runtimeClassOf([]);
const BooleanValue = runtimeClassOf(true);
const FunctionValue = runtimeClassOf(() => undefined);

const str = (s: string): RuntimeValue => new StringValue(s);
const strList = (parts: string[]): RuntimeValue => new ArrayValue(parts.map(str));

// ---------------------------------------------------------------------------------------------
// Python's str semantics. Python strings are sequences of code points, so everything below walks
// code points (Array.from), never UTF-16 units.

/** str.isspace() in CPython: Unicode White_Space plus the bidi classes B, S, WS (U+001C-U+001F). */
const PY_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
const isPySpace = (c: string): boolean => PY_SPACE.test(c);

/** str.strip / lstrip / rstrip: `chars` None strips white space, otherwise any of its code points. */
export function pyStrip(s: string, chars: string | null, left = true, right = true): string {
  const cps = Array.from(s);
  const drop = chars === null ? isPySpace : (c: string) => Array.from(chars).includes(c);
  let start = 0;
  let end = cps.length;
  if (left) while (start < end && drop(cps[start])) start++;
  if (right) while (end > start && drop(cps[end - 1])) end--;
  return cps.slice(start, end).join('');
}

/** str.split(sep=None, maxsplit=-1). */
export function pySplit(s: string, sep: string | null, maxsplit: number): string[] {
  const limit = maxsplit < 0 ? Infinity : maxsplit;
  if (sep !== null) {
    if (sep === '') throw new Error('ValueError: empty separator');
    const parts: string[] = [];
    let from = 0;
    for (let at = s.indexOf(sep); at !== -1 && parts.length < limit; at = s.indexOf(sep, from)) {
      parts.push(s.slice(from, at));
      from = at + sep.length;
    }
    parts.push(s.slice(from));
    return parts;
  }
  // Runs of white space separate; none at either end yields an empty field. After maxsplit splits
  // the rest is one field, its leading white space dropped and its trailing white space kept.
  const cps = Array.from(s);
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    while (i < cps.length && isPySpace(cps[i])) i++;
    if (i === cps.length) break;
    if (parts.length === limit) {
      parts.push(cps.slice(i).join(''));
      break;
    }
    let j = i;
    while (j < cps.length && !isPySpace(cps[j])) j++;
    parts.push(cps.slice(i, j).join(''));
    i = j;
  }
  return parts;
}

/** str.replace(old, new, count=-1); an empty `old` matches before every code point and at the end. */
export function pyReplace(s: string, old: string, replacement: string, count: number): string {
  const limit = count < 0 ? Infinity : count;
  if (old === '') {
    const cps = Array.from(s);
    let out = '';
    let done = 0;
    for (const c of cps) {
      if (done < limit) {
        out += replacement;
        done++;
      }
      out += c;
    }
    return done < limit ? out + replacement : out;
  }
  let out = '';
  let from = 0;
  let done = 0;
  for (let at = s.indexOf(old); at !== -1 && done < limit; at = s.indexOf(old, from)) {
    out += s.slice(from, at) + replacement;
    from = at + old.length;
    done++;
  }
  return out + s.slice(from);
}

const CASED = /^\p{Cased}$/u;
/** Title-case forms that differ from the upper-case one: the Latin digraphs (U+01C4-U+01CC, U+01F1-U+01F3). */
const TITLECASE: Record<string, string> = {
  '\u01c4': '\u01c5', '\u01c5': '\u01c5', '\u01c6': '\u01c5', '\u01c7': '\u01c8', '\u01c8': '\u01c8', '\u01c9': '\u01c8',
  '\u01ca': '\u01cb', '\u01cb': '\u01cb', '\u01cc': '\u01cb', '\u01f1': '\u01f2', '\u01f2': '\u01f2', '\u01f3': '\u01f2',
};
/** Unicode title case of one code point: the upper-case mapping with all but its first letter lowered (ß → Ss, ﬁ → Fi). */
function toTitle(c: string): string {
  if (TITLECASE[c] !== undefined) return TITLECASE[c];
  const upper = Array.from(c.toUpperCase());
  return upper[0] + upper.slice(1).join('').toLowerCase();
}

const CASE_IGNORABLE = /^\p{Case_Ignorable}$/u;
/**
 * Lower case of cps[i] in its context: a capital sigma becomes final ς when a cased letter precedes
 * it and none follows (case-ignorable code points skipped), as CPython's lower/title/capitalize do.
 */
function lowerAt(cps: string[], i: number): string {
  if (cps[i] !== '\u03a3') return cps[i].toLowerCase();
  const casedBeside = (step: number): boolean => {
    for (let j = i + step; j >= 0 && j < cps.length; j += step) {
      if (!CASE_IGNORABLE.test(cps[j])) return CASED.test(cps[j]);
    }
    return false;
  };
  return casedBeside(-1) && !casedBeside(1) ? '\u03c2' : '\u03c3';
}

/** str.title(): a cased character after an uncased one is title-cased, any other lower-cased. */
export function pyTitle(s: string): string {
  const cps = Array.from(s);
  let out = '';
  let previousCased = false;
  cps.forEach((c, i) => {
    out += previousCased ? lowerAt(cps, i) : toTitle(c);
    previousCased = CASED.test(c);
  });
  return out;
}

/** str.capitalize() (Python 3.8+): the first code point title-cased, the rest lower-cased. */
export function pyCapitalize(s: string): string {
  const cps = Array.from(s);
  return cps.map((c, i) => (i === 0 ? toTitle(c) : lowerAt(cps, i))).join('');
}

/** jinja2's `title` filter (not str.title): each word after - ( { [ < or white space gets item[0].upper(). */
export function jinjaTitleFilter(s: string): string {
  // CPython's \s in a str pattern is str.isspace(); the class below lists the same code points.
  const parts = s.split(/([-\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000({[<]+)/u);
  return parts.filter((p) => p !== '').map((p) => {
    const [first, ...rest] = Array.from(p);
    return first.toUpperCase() + rest.join('').toLowerCase();
  }).join('');
}

// ---------------------------------------------------------------------------------------------
// tojson: transformers replaces jinja2's filter with json.dumps(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False), each overridable by keyword.

interface DumpOptions {
  indent: string | null;
  ensureAscii: boolean;
  separators: [string, string];
  sortKeys: boolean;
}

/** repr(float) in Python: the shortest round-tripping digits, exponent form below 1e-4 and from 1e16. */
function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e16 || abs < 1e-4) {
    const [mantissa, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

function dumpString(s: string, ensureAscii: boolean): string {
  // JSON.stringify escapes exactly json.dumps's set (", \, \b \f \n \r \t, other C0 as \u00XX).
  const quoted = JSON.stringify(s);
  return ensureAscii ? quoted.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : quoted;
}

function pyJsonDumps(v: RuntimeValue, opts: DumpOptions, depth = 0): string {
  switch (v.type) {
    case 'NullValue':
    case 'UndefinedValue':
      return 'null';
    case 'BooleanValue':
      return v.value ? 'true' : 'false';
    case 'IntegerValue':
      return String(v.value);
    case 'FloatValue':
      return pyFloatRepr(v.value as number);
    case 'StringValue':
      return dumpString(v.value as string, opts.ensureAscii);
    case 'ArrayValue':
    case 'TupleValue':
    case 'ObjectValue':
    case 'KeywordArgumentsValue':
    case 'NamespaceValue': {
      const isList = v.type === 'ArrayValue' || v.type === 'TupleValue';
      const items = isList
        ? (v.value as RuntimeValue[]).map((x) => pyJsonDumps(x, opts, depth + 1))
        : sortedEntries(v.value as Map<string, RuntimeValue>, opts.sortKeys)
          .map(([k, x]) => dumpString(k, opts.ensureAscii) + opts.separators[1] + pyJsonDumps(x, opts, depth + 1));
      const [open, close] = isList ? ['[', ']'] : ['{', '}'];
      if (items.length === 0) return open + close;
      if (opts.indent === null) return open + items.join(opts.separators[0]) + close;
      const inner = '\n' + opts.indent.repeat(depth + 1);
      return open + inner + items.join(opts.separators[0] + inner) + '\n' + opts.indent.repeat(depth) + close;
    }
    default:
      throw new Error(`TypeError: Object of type ${v.type} is not JSON serializable`);
  }
}

function sortedEntries(map: Map<string, RuntimeValue>, sort: boolean): [string, RuntimeValue][] {
  const entries = Array.from(map.entries());
  // Python orders str keys by code point; UTF-16 order differs only across astral vs U+E000-U+FFFF.
  const key = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  };
  return sort ? entries.sort(([a], [b]) => cmp(key(a), key(b))) : entries;
}

// ---------------------------------------------------------------------------------------------
// Arguments as Python binds them: positional first, then the keywords (KeywordArgumentsValue last).

function bindArgs(args: RuntimeValue[], names: string[], fn: string): (RuntimeValue | undefined)[] {
  const last = args.at(-1);
  const kwargs = last?.type === 'KeywordArgumentsValue' ? (last.value as Map<string, RuntimeValue>) : undefined;
  const positional = kwargs ? args.slice(0, -1) : args;
  if (positional.length > names.length) throw new Error(`TypeError: ${fn}() takes at most ${names.length} arguments (${positional.length} given)`);
  const bound: (RuntimeValue | undefined)[] = names.map((_, i) => positional[i]);
  for (const [key, value] of kwargs ?? []) {
    const at = names.indexOf(key);
    if (at === -1) throw new Error(`TypeError: ${fn}() got an unexpected keyword argument '${key}'`);
    bound[at] = value;
  }
  return bound;
}

/** A str-or-None argument (None and absent mean the default). */
function optionalString(v: RuntimeValue | undefined, fn: string): string | null {
  if (v === undefined || v.type === 'NullValue' || v.type === 'UndefinedValue') return null;
  if (v.type !== 'StringValue') throw new Error(`TypeError: ${fn} arg must be None or str`);
  return v.value as string;
}

function optionalInt(v: RuntimeValue | undefined, fallback: number, fn: string): number {
  if (v === undefined) return fallback;
  if (v.type !== 'IntegerValue' && v.type !== 'BooleanValue') throw new Error(`TypeError: ${fn}: an integer is required`);
  return Number(v.value);
}

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

function dumpOptions(args: RuntimeValue[]): DumpOptions {
  const [ensureAscii, indent, separators, sortKeys] = bindArgs(args, ['ensure_ascii', 'indent', 'separators', 'sort_keys'], 'tojson');
  let indentText: string | null = null;
  if (indent !== undefined && indent.type !== 'NullValue') {
    // json.dumps: an int indents by that many spaces (0 still breaks lines), a str by the string itself.
    indentText = indent.type === 'StringValue' ? (indent.value as string) : ' '.repeat(Math.max(0, optionalInt(indent, 0, 'tojson')));
  }
  let seps: [string, string] = indentText === null ? [', ', ': '] : [',', ': '];
  if (separators !== undefined && separators.type !== 'NullValue') {
    const pair = separators.value as RuntimeValue[];
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((p) => p.type !== 'StringValue')) throw new Error('TypeError: separators must be a pair of str');
    seps = [pair[0].value as string, pair[1].value as string];
  }
  return { indent: indentText, ensureAscii: ensureAscii?.value === true, separators: seps, sortKeys: sortKeys?.value === true };
}

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
