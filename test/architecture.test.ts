// The import rules of .dependency-cruiser.cjs over src/: no import cycle, and the folder layering of
// ARCHITECTURE.md. Every violation fails.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs');

const describe = (v: IViolation) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`;

test('src/ has no import cycle and imports follow the layering of ARCHITECTURE.md', async () => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  let result: ICruiseResult;
  try {
    const reporting = await cruise(['src'], { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true, outputType: 'json' });
    result = JSON.parse(reporting.output as string) as ICruiseResult;
  } finally {
    process.chdir(cwd);
  }
  assert.ok(result.modules.filter((m) => m.source.startsWith('src/')).length > 50, 'the cruise found the source files');
  const found = result.summary.violations.map(describe);
  console.log(`import rules: ${result.modules.length} modules, ${found.length} violations`);
  assert.deepEqual(found, [], 'import-rule violations (see .dependency-cruiser.cjs)');
});
