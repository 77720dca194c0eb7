// Reads the `localization_finish` call out of the agent's final turn, with the checks CodeScout's
// generator applies to that turn (sanity_check_last_step) and those its tool stack applies on the
// way to a LocalizationFinishAction (vLLM's hermes parser, the OpenHands SDK, pydantic):
//   1. exactly one `<tool_call>` and exactly one `</tool_call>`, in that order;
//   2. at most one `<|im_end|>` (upstream decodes the stop token and wants exactly one; a turn sent
//      without it ends at the end of the text);
//   3. nothing but white space between `</tool_call>` and `<|im_end|>` (or the end);
//   4. the call is a JSON object `{"name": "localization_finish", "arguments": {...}}`;
//   5. `arguments` holds `locations` and nothing else (the SDK pops `security_risk` first; the
//      action model forbids other fields);
//   6. `locations` is a list of objects with a string `file` and optional string-or-null
//      `class_name` / `function_name` (other keys are ignored, as pydantic's default does).
import { isObject } from './json.ts';
import { pyStrip } from './text.ts';
import type { CodeLocation } from './types.ts';

export type FinishCall = { ok: true; locations: CodeLocation[] } | { ok: false; reason: string };

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const END = '<|im_end|>';
const IGNORED_ARGUMENTS = new Set(['security_risk']);

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function fail(reason: string): FinishCall {
  return { ok: false, reason };
}

function optionalName(v: unknown): v is string | null | undefined {
  return v === undefined || v === null || typeof v === 'string';
}

export function parseFinishCall(text: string): FinishCall {
  if (count(text, OPEN) !== 1 || count(text, CLOSE) !== 1) {
    return fail(`expected exactly one ${OPEN} and one ${CLOSE}`);
  }
  if (count(text, END) > 1) return fail(`more than one ${END}`);
  const open = text.indexOf(OPEN);
  const close = text.indexOf(CLOSE);
  if (close < open) return fail(`${CLOSE} comes before ${OPEN}`);
  const trailer = text.slice(close + CLOSE.length).split(END)[0];
  if (pyStrip(trailer) !== '') return fail(`text after ${CLOSE}`);

  let call: unknown;
  try {
    call = JSON.parse(text.slice(open + OPEN.length, close));
  } catch {
    return fail('the tool call is not valid JSON');
  }
  if (!isObject(call)) return fail('the tool call is not a JSON object');
  if (call.name !== 'localization_finish') return fail('the tool called is not localization_finish');
  const args = call.arguments;
  if (!isObject(args)) return fail('arguments is not an object');
  const extra = Object.keys(args).filter((k) => k !== 'locations' && !IGNORED_ARGUMENTS.has(k));
  if (extra.length) return fail(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (!Array.isArray(args.locations)) return fail('locations is not a list');

  const locations: CodeLocation[] = [];
  for (const [i, entry] of args.locations.entries()) {
    if (!isObject(entry) || typeof entry.file !== 'string') {
      return fail(`locations[${i}] has no string file`);
    }
    const { file, class_name, function_name } = entry;
    if (!optionalName(class_name) || !optionalName(function_name)) {
      return fail(`locations[${i}] has a class_name or function_name that is not a string or null`);
    }
    locations.push({ file, class_name: class_name ?? null, function_name: function_name ?? null });
  }
  return { ok: true, locations };
}
