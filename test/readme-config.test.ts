// The configuration table of docs/operations.md against SPECS: every variable, in order, with its default and
// its help, so that a new option or a changed default cannot go undocumented.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SPECS, type Spec } from '../src/config.ts';
import { CONFIG_DOC, defaultCell, END, START, withTable } from '../tools/config-table.ts';

const readme = readFileSync(CONFIG_DOC, 'utf8');

/** The table's rows as [variable, default cell, description], parsed from the Markdown. */
function tableRows(text: string): [string, string, string][] {
  const table = text.slice(text.indexOf(START) + START.length, text.indexOf(END));
  return table.trim().split('\n').slice(2).map((line) => {
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replaceAll('\\|', '|'));
    assert.equal(cells.length, 3, line);
    return [cells[0].replace(/^`(.*)`$/, '$1'), cells[1], cells[2]];
  });
}

describe('the configuration table of docs/operations.md', () => {
  const rows = tableRows(readme);
  const specs = Object.entries(SPECS as Record<string, Spec>);

  it('names every variable of SPECS, in the same order', () => {
    assert.deepEqual(rows.map(([name]) => name), specs.map(([name]) => name));
  });

  it('states each default and help as SPECS has them', () => {
    for (const [name, spec] of specs) {
      const row = rows.find(([n]) => n === name)!;
      assert.equal(row[1], defaultCell(spec), `${name} default`);
      // A literal default is the value the service uses; `shown` only where that depends on the machine.
      if (spec.shown === undefined) assert.equal(row[1], `\`${String(spec.default)}\``, `${name} default`);
      assert.equal(row[2], spec.help, `${name} help`);
    }
  });

  it('is what `npm run docs:config` writes', () => {
    assert.equal(withTable(readme), readme);
  });

  it('the parser sees a changed default', () => {
    const changed = readme.replace('| `PORT` | `8080` |', '| `PORT` | `8081` |');
    assert.notEqual(tableRows(changed).find(([n]) => n === 'PORT')![1], defaultCell(SPECS.PORT));
  });
});
