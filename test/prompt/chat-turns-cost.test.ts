// Prompt-overlap matching for OpenRLHF's front-truncated prompts costs time linear in the query and
// the prompt: counted in characters examined by the string operations it makes, and compared
// between two sizes, so the guard fails on quadratic matching without reading a clock. Its answers
// are held against the plain search it replaced (every occurrence of the anchor, tried in turn).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { recoverResponse } from '../../src/prompt/chat-turns.ts';

const ENDS = ['<|im_end|>', '<|endoftext|>'];

/** The plain search: the first anchor occurrence in the prompt whose tail the query continues. */
function plainResponse(query: string, prompt: string): string | undefined {
  let start: number | undefined = query.startsWith(prompt) ? prompt.length : undefined;
  for (let skip = 0; start === undefined && skip <= 4 && skip < query.length; skip++) {
    const anchor = query.slice(skip, skip + 32);
    if (anchor.length < 8) break;
    for (let at = prompt.indexOf(anchor); at >= 0; at = prompt.indexOf(anchor, at + 1)) {
      if (query.startsWith(prompt.slice(at), skip)) {
        start = skip + prompt.length - at;
        break;
      }
    }
  }
  if (start === undefined) return undefined;
  let response = query.slice(start);
  for (let t = ENDS.find((e) => response.endsWith(e)); t; t = ENDS.find((e) => response.endsWith(e))) response = response.slice(0, -t.length);
  return response;
}

type Method = 'charCodeAt' | 'indexOf' | 'lastIndexOf' | 'startsWith' | 'endsWith' | 'slice' | 'trimEnd';

/**
 * Characters examined by `fn` through String.prototype's methods, each charged what a plain
 * implementation of it reads: a search its scanned stretch, a comparison its needle, a copy its result.
 */
function charactersExamined(fn: () => void): number {
  const proto = String.prototype as unknown as Record<Method, (...args: unknown[]) => unknown>;
  const originals = Object.fromEntries((['charCodeAt', 'indexOf', 'lastIndexOf', 'startsWith', 'endsWith', 'slice', 'trimEnd'] as const).map((m) => [m, proto[m]])) as Record<Method, (...args: unknown[]) => unknown>;
  let count = 0;
  const charge = (m: Method, cost: (self: string, result: unknown, args: unknown[]) => number) => {
    proto[m] = function (this: string, ...args: unknown[]) {
      const result = originals[m].apply(this, args);
      count += cost(String(this), result, args);
      return result;
    };
  };
  charge('charCodeAt', () => 1);
  charge('indexOf', (self, r, [needle, from]) => ((r as number) >= 0 ? (r as number) - Number(from ?? 0) + String(needle).length : self.length - Number(from ?? 0)));
  charge('lastIndexOf', (self, r) => ((r as number) >= 0 ? self.length - (r as number) : self.length));
  charge('startsWith', (_self, _r, [needle]) => String(needle).length);
  charge('endsWith', (_self, _r, [needle]) => String(needle).length);
  charge('slice', (_self, r) => (r as string).length);
  charge('trimEnd', (self) => self.length);
  try {
    fn();
  } finally {
    Object.assign(proto, originals);
  }
  return count;
}

describe('prompt-overlap matching (OpenRLHF front-truncated prompts)', () => {
  it('answers as the plain search on random prompts, tails and responses', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '<|im_end|>'), maxLength: 80 });
    fc.assert(fc.property(text, fc.nat(80), fc.nat(4), text, (prompt, cut, noise, response) => {
      const query = 'xyz'.slice(0, noise) + prompt.slice(Math.min(cut, prompt.length)) + response;
      assert.equal(recoverResponse(query, prompt, ENDS), plainResponse(query, prompt));
    }), { numRuns: 2000 });
  });

  // A trainer's repetitive output: the anchor occurs at every position of the prompt, and the
  // response ends with many end tokens.
  const hostile = (n: number) => {
    const prompt = 'a'.repeat(n);
    return { prompt, query: prompt.slice(n / 2) + 'print(1)' + '<|im_end|>'.repeat(n / 10) };
  };

  it('examines characters in linear proportion to its input: doubling the size at most doubles the work (and a little)', () => {
    const cost = (n: number) => {
      const { query, prompt } = hostile(n);
      let response: string | undefined;
      const count = charactersExamined(() => { response = recoverResponse(query, prompt, ENDS); });
      assert.equal(response, 'print(1)');
      return count;
    };
    const small = cost(4000);
    const large = cost(8000);
    assert.ok(large / small < 2.5, `work grew ${(large / small).toFixed(2)}x for 2x the input (${small} → ${large} characters)`);
    assert.ok(large < 100 * 8000, `${large} characters examined for an 8,000-character prompt`);
  });
});
