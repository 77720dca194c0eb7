// The invalid-JSON scan: its verdict is JSON.parse's, it points where V8 points, it follows nesting
// without recursion and says so when depth is the fault, and it costs one pass with no copy of the
// text (allocation counted through V8's GC profiler, compared across two sizes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GCProfiler } from 'node:v8';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, invalidJsonError, jsonErrorPosition } from '../../src/http/json-body.ts';

/** Bytes the heap took while `fn` ran: what it holds at the end plus what collections freed meanwhile. */
function allocatedBy(fn: () => void): number {
  const profiler = new GCProfiler();
  const start = process.memoryUsage().heapUsed;
  profiler.start();
  fn();
  const end = process.memoryUsage().heapUsed;
  const freed = (profiler.stop()?.statistics ?? [])
    .reduce((sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize, 0);
  return end - start + freed;
}

/** A flat one-byte string, as a request body arrives (repeat() and + build ropes that flatten on first read). */
function flat(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

/** Where V8's own JSON.parse says it stopped, when its message gives a position. */
function v8Position(text: string): number | undefined {
  try {
    JSON.parse(text);
  } catch (err) {
    const at = /at position (\d+)/.exec((err as Error).message);
    return at ? Number(at[1]) : undefined;
  }
  return undefined;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('invalid-JSON scan', () => {
  // JSON texts and their one-character edits and cuts: valid or not, the scan agrees with JSON.parse.
  const edited = fc.tuple(fc.json({ maxDepth: 6 }), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', '\\', ':', '\n', '0', '-', 'e', 'x', '\u0001'), fc.constantFrom('insert', 'replace', 'cut'))
    .map(([json, at, ch, how]) => {
      const i = json.length === 0 ? 0 : at % json.length;
      if (how === 'cut') return json.slice(0, i);
      return json.slice(0, i) + ch + json.slice(how === 'replace' ? i + 1 : i);
    });

  it("verdict: JSON exactly when JSON.parse accepts it; where V8 gives a position, the same position", () => {
    fc.assert(fc.property(edited, (text) => {
      const fault = jsonErrorPosition(text);
      assert.equal(fault === undefined, parses(text), JSON.stringify(text));
      const v8 = v8Position(text);
      if (fault !== undefined && v8 !== undefined) assert.equal(fault.offset, v8, JSON.stringify(text));
    }), { numRuns: 3000 });
  });

  it('line and column count the newlines before the fault', () => {
    const text = '{\n  "items": [\n    1,\n  ]\n}';
    assert.deepEqual(jsonErrorPosition(text), { offset: text.indexOf(']'), line: 4, column: 3, tooDeep: false });
    assert.match(invalidJsonError(text).message, /unexpected "]" at line 4, column 3/);
  });

  // The recursive scan overflowed on these and called them valid JSON with a __proto__ key.
  const deep: [string, string, number][] = [
    ['a million open brackets', '['.repeat(1_000_000), MAX_JSON_DEPTH],
    ['nested objects', '{"a":'.repeat(200_000), MAX_JSON_DEPTH * 5],
    // The object is level 1, so the bracket at level MAX_JSON_DEPTH + 1 is the MAX_JSON_DEPTH-th.
    ['valid nesting, then a stray comma', '{"items":' + '['.repeat(5000) + ']'.repeat(5000) + ',}', '{"items":'.length + MAX_JSON_DEPTH - 1],
  ];
  for (const [what, text, offset] of deep) {
    it(`${what}: "nested too deep", at the bracket past MAX_JSON_DEPTH`, () => {
      const fault = jsonErrorPosition(text);
      assert.deepEqual(fault, { offset, line: 1, column: offset + 1, tooDeep: true });
      assert.match(invalidJsonError(text).message, new RegExp(`^body is nested more than ${MAX_JSON_DEPTH} deep at line 1, column ${offset + 1}`));
    });
  }

  it('a fault before the depth bound is reported as what it is', () => {
    const text = '['.repeat(MAX_JSON_DEPTH - 1) + '}';
    assert.deepEqual(jsonErrorPosition(text), { offset: MAX_JSON_DEPTH - 1, line: 1, column: MAX_JSON_DEPTH, tooDeep: false });
  });

  it('32 MiB of newlines: the heap grows by less than 1 KiB per MiB of text (the split of the text took ~9 MiB per MiB)', () => {
    const MiB = 1024 * 1024;
    const small = flat('\n'.repeat(MiB) + '}');
    const large = flat('\n'.repeat(32 * MiB) + '}');
    invalidJsonError(small); // compiled before measuring
    const [a, b] = [allocatedBy(() => invalidJsonError(small)), allocatedBy(() => invalidJsonError(large))];
    assert.match(invalidJsonError(large).message, new RegExp(`unexpected "}" at line ${32 * MiB + 1}, column 1`));
    assert.ok(b - a < 31 * 1024, `allocated ${a} bytes for 1 MiB, ${b} for 32 MiB`);
  });
});
