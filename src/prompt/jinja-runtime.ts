// @huggingface/jinja's runtime as the Python-semantics patch (python-jinja.ts) sees it: its value
// classes, which the package does not export, and arguments bound as Python binds them.
import { Environment } from '@huggingface/jinja';

/** A value of @huggingface/jinja's runtime (StringValue, ArrayValue, ...): its type tag and JS value. */
export interface RuntimeValue {
  type: string;
  value: unknown;
}
type RuntimeCtor = new (value: unknown) => RuntimeValue;
export type Builtin = (args: RuntimeValue[]) => RuntimeValue;
export interface AstNode {
  type: string;
  value?: string;
  callee?: AstNode;
  args?: AstNode[];
}

/** The runtime's value classes are not exported; each is the constructor of a converted JS value. */
function runtimeClassOf(sample: unknown): RuntimeCtor {
  return (new Environment().set('sample', sample) as unknown as RuntimeValue).constructor as RuntimeCtor;
}
export const StringValue = runtimeClassOf('');
export const ArrayValue = runtimeClassOf([]);
export const BooleanValue = runtimeClassOf(true);
export const FunctionValue = runtimeClassOf(() => undefined);

export const str = (s: string): RuntimeValue => new StringValue(s);

// Arguments as Python binds them: positional first, then the keywords (KeywordArgumentsValue last).

export function bindArgs(args: RuntimeValue[], names: string[], fn: string): (RuntimeValue | undefined)[] {
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
export function optionalString(v: RuntimeValue | undefined, fn: string): string | null {
  if (v === undefined || v.type === 'NullValue' || v.type === 'UndefinedValue') return null;
  if (v.type !== 'StringValue') throw new Error(`TypeError: ${fn} arg must be None or str`);
  return v.value as string;
}

export function optionalInt(v: RuntimeValue | undefined, fallback: number, fn: string): number {
  if (v === undefined) return fallback;
  if (v.type !== 'IntegerValue' && v.type !== 'BooleanValue') throw new Error(`TypeError: ${fn}: an integer is required`);
  return Number(v.value);
}
