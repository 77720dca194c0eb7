// The service's template engine (src/prompt/python-jinja.ts, @huggingface/jinja with Python's
// string methods and filters) against jinja2's recorded output for the string-method table: every
// expression of test/fixtures/prompt/python-jinja-cases.json on every string. The recording is made,
// and checked against jinja2 itself, by test/parity/jinja-table.ts in npm run test:parity.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderTemplate } from '../../src/prompt/python-jinja.ts';

type Recorded = { template: string; s: string } & ({ text: string } | { error: string });

const table = JSON.parse(readFileSync(new URL('../fixtures/prompt/python-jinja-cases.json', import.meta.url), 'utf8')) as { strings: string[]; expressions: string[]; obj: unknown };
const recorded = JSON.parse(readFileSync(new URL('../fixtures/prompt/jinja2-table.json', import.meta.url), 'utf8')) as Recorded[];

test("string methods and filters render as jinja2's recorded output", () => {
  const problems: string[] = [];
  for (const want of recorded) {
    let got: { text: string } | { error: string };
    try {
      got = { text: renderTemplate(want.template, { s: want.s, obj: table.obj }) };
    } catch (err) {
      got = { error: (err as Error).message };
    }
    // A refusal matches a refusal: the two engines word their errors differently.
    const same = 'text' in want ? 'text' in got && got.text === want.text : 'error' in got;
    if (!same) problems.push(`${want.template} with s=${JSON.stringify(want.s)}\n    service: ${JSON.stringify(got)}\n    jinja2:  ${JSON.stringify(want)}`);
  }
  assert.equal(recorded.length, table.strings.length * table.expressions.length, 'the recording is of another table: re-record (test/parity/jinja-table.ts)');
  assert.deepEqual(problems.slice(0, 40), [], `${problems.length} of ${recorded.length} cases differ`);
  assert.ok(recorded.filter((r) => 'text' in r).length > recorded.length * 0.9);
});
