// Runs python3 once over a JSON payload: the reference implementation for the extract and syntax
// tests (re.findall for fences, ast.parse for validity). Scripts are named from test/fixtures/.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function runPython<T>(script: string, input: unknown): T {
  const res = spawnSync('python3', [fixtures + script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (res.status !== 0) throw new Error(`python3 ${script} failed (${res.status}): ${res.stderr || res.error}`);
  return JSON.parse(res.stdout) as T;
}
