// Shared by the parity tests: the venv's python (PARITY_PYTHON, set by scripts/test-parity.sh).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The parity venv's python; the suite is meant to run through `npm run test:parity`, which sets it. */
export function parityPython(): string {
  const python = process.env.PARITY_PYTHON;
  if (!python) throw new Error('PARITY_PYTHON is not set: run the parity tests with `npm run test:parity`');
  return python;
}

export interface PythonRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the venv's python in the repository root, input on stdin; output as text. */
export function runPython(python: string, args: string[], input = ''): PythonRun {
  const out = spawnSync(python, args, { cwd: REPO, input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (out.error) throw out.error;
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}
