// The string-method table (test/fixtures/prompt/python-jinja-cases.json) rendered by transformers'
// jinja2 environment, recorded into test/fixtures/prompt/jinja2-table.json so that npm test holds the
// service's template engine to jinja2 without Python. test/parity/jinja.test.ts regenerates the
// recording and fails on any difference; to re-record after changing the table:
//
//   PARITY_PYTHON=.venv-parity/bin/python npx tsx test/parity/jinja-table.ts
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parityPython, REPO, runPython } from './support.ts';

export const TABLE = join(REPO, 'test/fixtures/prompt/python-jinja-cases.json');
export const RECORDING = join(REPO, 'test/fixtures/prompt/jinja2-table.json');

export type Rendered = { text: string } | { error: string };
export interface TableCase { template: string; variables: { s: string; obj: unknown } }

/** Every expression of the table applied to every string, in the recording's order. */
export function tableCases(): TableCase[] {
  const table = JSON.parse(readFileSync(TABLE, 'utf8')) as { strings: string[]; expressions: string[]; obj: unknown };
  return table.expressions.flatMap((template) => table.strings.map((s) => ({ template, variables: { s, obj: table.obj } })));
}

/** What jinja2 (through transformers' environment) renders for each case. */
export function renderWithJinja2(mode: 'strings' | 'chat', request: unknown): Rendered[] {
  const out = runPython(parityPython(), ['test/parity/render_jinja.py', mode], JSON.stringify(request));
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout) as Rendered[];
}

/** The recording's text: one line per case, so a changed case is a one-line diff; ASCII only, so
 * that no editor or tool rewrites its invisible characters. */
export function recordingText(cases: TableCase[], rendered: Rendered[]): string {
  const ascii = (json: string) => json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const lines = cases.map((c, i) => ascii(JSON.stringify({ template: c.template, s: c.variables.s, ...rendered[i] })));
  return `[\n${lines.join(',\n')}\n]\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cases = tableCases();
  writeFileSync(RECORDING, recordingText(cases, renderWithJinja2('strings', { cases })));
  console.log(`wrote ${cases.length} cases to ${RECORDING}`);
}
