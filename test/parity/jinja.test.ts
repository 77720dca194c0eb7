// Chat templates rendered by the service (src/prompt/python-jinja.ts) against Python: each string
// method and filter Hugging Face templates use, held against transformers' jinja2 environment, then
// whole conversations through the Qwen3, Llama 3 and Llama 3.1 templates against apply_chat_template.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ChatTemplate, renderTemplate } from '../../src/prompt/python-jinja.ts';
import { chatTemplates, conversations, type Conversation } from './chat-cases.ts';
import { RECORDING, recordingText, renderWithJinja2 as pythonRender, tableCases, type Rendered } from './jinja-table.ts';

function jsRender(fn: () => string): Rendered {
  try {
    return { text: fn() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Both rendered the same text, or both refused; the first few differences, readable. */
function compare(labels: string[], ours: Rendered[], python: Rendered[]): string[] {
  const problems: string[] = [];
  ours.forEach((got, i) => {
    const want = python[i];
    const same = 'text' in got && 'text' in want ? got.text === want.text : 'error' in got && 'error' in want;
    if (!same) problems.push(`${labels[i]}\n    service: ${JSON.stringify(got)}\n    python:  ${JSON.stringify(want)}`);
  });
  return problems;
}

const tmp = mkdtempSync(join(tmpdir(), 'jinja-parity-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('string methods and filters render as in jinja2 (table from test/fixtures/prompt/python-jinja-cases.json)', () => {
  const cases = tableCases();
  const python = pythonRender('strings', { cases });
  const ours = cases.map((c) => jsRender(() => renderTemplate(c.template, c.variables)));
  const problems = compare(cases.map((c) => `${c.template} with s=${JSON.stringify(c.variables.s)}`), ours, python);
  console.log(`jinja2 table: ${cases.length - problems.length}/${cases.length} cases equal`);
  assert.deepEqual(problems.slice(0, 40), [], `${problems.length} of ${cases.length} cases differ`);
  // The table must exercise both outcomes: most render, and Python refuses some (bad arguments).
  assert.ok(python.filter((r) => 'text' in r).length > cases.length * 0.9);
});

test("the recording npm test reads (test/fixtures/prompt/jinja2-table.json) is jinja2's output today", () => {
  const cases = tableCases();
  const fresh = recordingText(cases, pythonRender('strings', { cases })).split('\n');
  const recorded = readFileSync(RECORDING, 'utf8').split('\n');
  const differ = fresh.flatMap((line, i) => (line === recorded[i] ? [] : [`line ${i + 1}\n    recorded: ${recorded[i]}\n    jinja2:   ${line}`]));
  assert.equal(recorded.length, fresh.length, 'the recording has another number of cases than the table: re-record (see test/parity/jinja-table.ts)');
  assert.deepEqual(differ.slice(0, 20), [], `${differ.length} recorded cases differ from jinja2: re-record (see test/parity/jinja-table.ts)`);
});

for (const template of chatTemplates()) {
  test(`${template.name}: ${template.what} renders as transformers' apply_chat_template`, () => {
    const dir = join(tmp, template.name);
    template.writeTokenizer(dir);
    const convs: Conversation[] = conversations();
    const python = pythonRender('chat', { tokenizer_dir: dir, conversations: convs });
    const tokenizerConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const chat = new ChatTemplate(template.source, tokenizerConfig);
    const ours = convs.map((c) => jsRender(() => chat.render(c.messages, c.add_generation_prompt)));
    const problems = compare(convs.map((c, i) => `conversation ${i} (${c.kind})`), ours, python);
    console.log(`${template.name}: ${convs.length - problems.length}/${convs.length} conversations render equal`);
    assert.deepEqual(problems.slice(0, 5), [], `${problems.length} of ${convs.length} conversations differ`);
    assert.ok(python.every((r) => 'text' in r), 'every conversation renders in Python');
  });
}
