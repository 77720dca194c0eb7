import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extractCode, findFencedBlocks, pyStrip, scanFencedBlocks } from '../../src/extract/fences.ts';

interface FenceCase { name: string; text: string; expected: string[] }

const cases: FenceCase[] = JSON.parse(readFileSync(new URL('../fixtures/extract/fences.json', import.meta.url), 'utf8'));

for (const c of cases) {
  test(`findFencedBlocks: ${c.name}`, () => {
    assert.deepEqual(findFencedBlocks(c.text), c.expected);
  });
}

test('status table for the extraction modes', () => {
  const two = '```python\na = 1\n```\n```python\nb = 2\n```';
  assert.deepEqual(extractCode(two, 'single_block'), { status: 'multiple_blocks', code: '' });
  assert.deepEqual(extractCode(two, 'last_block'), { status: 'ok', code: 'b = 2' });
  assert.deepEqual(extractCode('no fences here', 'single_block'), { status: 'no_code', code: '' });
  assert.deepEqual(extractCode('no fences here', 'last_block'), { status: 'no_code', code: '' });
  assert.deepEqual(extractCode('  \n\t', 'none'), { status: 'empty_code', code: '' });
  assert.deepEqual(extractCode('```\n \n```', 'single_block'), { status: 'empty_code', code: '' });
});

test('pyStrip uses Python whitespace, not JS trim', () => {
  assert.equal(pyStrip('\x1c\x1d\x1e\x1f\x85 x \u3000'), 'x');
  assert.equal(pyStrip('\ufeffx\ufeff'), '\ufeffx\ufeff');
});

// Hostile shapes: each is built at three sizes, ten times apart. The scan counts the characters it
// inspects: a bounded number per input character, and ten times the input costs about ten times the
// steps (a quadratic scan would cost a hundred times).
const hostile: Record<string, (n: number) => string> = {
  'all backticks': (n) => '`'.repeat(n),
  'fences without newline': (n) => '```x'.repeat(n / 4),
  'many small blocks': (n) => '```\nx\n```'.repeat(n / 10),
  'unclosed openings': (n) => '```\n'.repeat(n / 4),
  'long tags that fail': (n) => ('```' + 'a'.repeat(97)).repeat(n / 100),
  'alternating tick runs': (n) => '``\n`'.repeat(n / 4),
};

for (const [name, make] of Object.entries(hostile)) {
  test(`linear scan: ${name}`, () => {
    const runs = [20_000, 200_000, 2_000_000].map((size) => {
      const text = make(size);
      const { steps } = scanFencedBlocks(text);
      assert.ok(steps <= 4 * text.length + 16, `${name} @${size}: ${steps} steps for ${text.length} chars`);
      return { steps, chars: text.length };
    });
    for (const [small, big] of [runs.slice(0, 2), runs.slice(1)]) {
      const growth = big.steps / small.steps;
      assert.ok(growth <= 1.2 * (big.chars / small.chars), `${name}: steps grew ${growth.toFixed(1)}x for ${big.chars / small.chars}x the input`);
    }
  });
}

test('20,000 fences are all found', () => {
  const text = Array.from({ length: 20_000 }, (_, i) => '```python\nx = ' + i + '\n```').join('\nprose\n');
  const { blocks, steps } = scanFencedBlocks(text);
  assert.equal(blocks.length, 20_000);
  assert.equal(blocks[19_999], 'x = 19999\n');
  assert.ok(steps <= 4 * text.length + 16, `${steps} steps for ${text.length} chars`);
  assert.equal(extractCode(text, 'single_block').status, 'multiple_blocks');
  assert.deepEqual(extractCode(text, 'last_block'), { status: 'ok', code: 'x = 19999' });
});
