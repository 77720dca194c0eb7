// tojson: transformers replaces jinja2's filter with json.dumps(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False), each overridable by keyword.
import { bindArgs, optionalInt, type RuntimeValue } from './jinja-runtime.ts';

export interface DumpOptions {
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

export function pyJsonDumps(v: RuntimeValue, opts: DumpOptions, depth = 0): string {
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

/** tojson's arguments as json.dumps's options, with transformers' defaults. */
export function dumpOptions(args: RuntimeValue[]): DumpOptions {
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
