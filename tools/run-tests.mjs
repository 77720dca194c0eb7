// `npm test` and `npm run test:system`: node's test runner over one suite's files, then the wall time.
//
//   unit    every test/**/*.test.ts outside test/system/ and test/parity/: in process (fake model,
//           demo model, pure functions), no spawned process, socket, build, install or download.
//           Budget: 90 s on a 2-core machine (README, "Tests").
//   system  test/system/*.test.ts: what spawns, listens, builds, installs or downloads.
//   scale   test/scale/*.test.ts: replicas behind Debian's nginx (npm run test:scale).
//
// Extra arguments go to node (e.g. --test-name-pattern). test/parity/ runs through
// scripts/test-parity.sh (npm run test:parity).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SUITES = {
  // In process, so two files at once use both cores (node 20 runs one at a time on 2 cores otherwise).
  unit: { dirs: ['test'], skip: ['test/system', 'test/scale', 'test/parity', 'test/support', 'test/fixtures'], budgetS: 90, args: ['--test-concurrency=2'] },
  system: { dirs: ['test/system'], skip: [], budgetS: null },
  scale: { dirs: ['test/scale'], skip: [], budgetS: null },
};

/** Test files under dir (repository-relative, sorted), leaving out the skipped folders. */
function testFiles(dir, skip) {
  return readdirSync(join(root, dir), { withFileTypes: true })
    .flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return skip.includes(path) ? [] : testFiles(path, skip);
      return entry.name.endsWith('.test.ts') ? [path] : [];
    })
    .sort();
}

const [name = 'unit', ...nodeArgs] = process.argv.slice(2);
const suite = SUITES[name];
if (!suite) {
  console.error(`usage: node tools/run-tests.mjs [${Object.keys(SUITES).join('|')}] [node options]`);
  process.exit(2);
}
const files = suite.dirs.flatMap((dir) => testFiles(dir, suite.skip));
const started = performance.now();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...(suite.args ?? []), ...nodeArgs, ...files], { cwd: root, stdio: 'inherit' });
const seconds = (performance.now() - started) / 1000;
const budget = suite.budgetS ? ` (budget ${suite.budgetS} s on 2 cores)` : '';
console.log(`\n${name} tests: ${files.length} files in ${seconds.toFixed(1)} s${budget}`);
process.exit(run.status ?? 1);
