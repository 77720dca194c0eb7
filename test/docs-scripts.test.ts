// Every `npm run X` that the README, docs/, bench/README.md, the Dockerfile and CI name is a script
// of package.json, so that a merge or a rename cannot leave a documented command behind.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const scripts = Object.keys(JSON.parse(read('package.json')).scripts as Record<string, string>);
const files = ['README.md', 'ARCHITECTURE.md', 'bench/README.md', 'Dockerfile', '.ci/run', ...readdirSync(new URL('docs/', root)).map((f) => `docs/${f}`)];

describe('documented npm scripts', () => {
  for (const file of files) {
    it(`${file}: every npm run names a script`, () => {
      const named = [...read(file).matchAll(/npm run (?:--silent |-s )?([a-z][\w:-]*)/g)].map((m) => m[1]);
      assert.deepEqual(named.filter((name) => !scripts.includes(name)), [], `scripts of package.json: ${scripts.join(', ')}`);
    });
  }
});
