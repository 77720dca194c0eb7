// The configuration table of docs/operations.md, written from SPECS so that the two cannot drift
// apart: `npm run docs:config` rewrites the table between its markers; test/readme-config.test.ts
// fails when the page holds anything else.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SPECS, type Spec } from '../src/config.ts';

export const CONFIG_DOC = fileURLToPath(new URL('../docs/operations.md', import.meta.url));
export const START = '<!-- config-table: written by `npm run docs:config` from SPECS in src/config.ts -->';
export const END = '<!-- /config-table -->';

/** A default as the table shows it: `shown` where the value depends on the machine, else the value. */
export function defaultCell(spec: Spec): string {
  return spec.shown ?? `\`${String(spec.default)}\``;
}

export function configTable(): string {
  const rows = Object.entries(SPECS as Record<string, Spec>).map(([name, spec]) => `| \`${name}\` | ${defaultCell(spec)} | ${spec.help.replaceAll('|', '\\|')} |`);
  return ['| variable | default | trade-off |', '|---|---|---|', ...rows].join('\n');
}

/** The page with its table replaced by the one SPECS gives. */
export function withTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/operations.md lacks the markers ${START} ... ${END}`);
  return `${readme.slice(0, start + START.length)}\n${configTable()}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(CONFIG_DOC, withTable(readFileSync(CONFIG_DOC, 'utf8')));
}
