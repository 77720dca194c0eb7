// Time to derive gold locations from a 1,000-line patch across 20 files (`npx tsx bench/localization.ts`).
// The files are generated Python (classes with methods, functions with nested functions, imports,
// docstrings, comments) at three sizes; every hunk edits two lines inside a method or function.
// Target: under 50 ms for the patch, whatever the size of the files it touches.
import os from 'node:os';
import { goldFromPatch } from '../src/localization/index.ts';
import { mulberry32 } from '../tools/mulberry32.ts';
import { percentile } from './lib/stats.ts';

const FILES = 20;
const PATCH_LINES = 1_000;
const TARGET_MS = 50;
const RUNS = 30;

const rng = mulberry32;

/** A Python module of about `size` lines; returns its lines and the rows that hold statements in a def body. */
function pythonModule(k: number, size: number, rand: () => number): { lines: string[]; bodyRows: number[] } {
  const lines = [`"""Module ${k}: generated for the localization benchmark."""`, 'import os', 'from collections import (',
    '    OrderedDict,', '    defaultdict,', ')', '', `LIMIT_${k} = ${k}`, ''];
  const bodyRows: number[] = [];
  const body = (...stmts: string[]) => {
    for (const s of stmts) {
      if (!s.trimStart().startsWith('#')) bodyRows.push(lines.length);
      lines.push(s);
    }
  };
  for (let n = 0; lines.length < size; n++) {
    if (rand() < 0.6) {
      lines.push('', '', `class Widget${n}:`, `    """Widget ${n} of module ${k}."""`, '', `    size = ${n}`);
      for (let m = 0; m < 3; m++) {
        lines.push('', `    def method_${m}(self, value):`);
        body('        # scale the value first', `        total = value * ${m + 1}`, '        for i in range(value):',
          `            total += i % ${n + 2}`, '        if total > LIMIT:', '            return total - LIMIT', '        return total');
      }
    } else {
      lines.push('', '', `def helper_${n}(a, b):`, `    """Helper ${n}."""`);
      body('    def inner(y):', '        return y * 2', '    result = inner(a) + b', '    if result < 0:',
        '        raise ValueError(result)', '    return result');
    }
  }
  return { lines, bodyRows };
}

/** A unified diff that changes two adjacent body lines per hunk, hunks at least 10 lines apart. */
function patchFor(files: { path: string; lines: string[]; bodyRows: number[] }[], rand: () => number): string {
  const hunks = Math.floor((PATCH_LINES - 3 * files.length) / 11); // 3 header lines a file, 11 lines a hunk
  const out: string[] = [];
  for (const [k, { path, lines, bodyRows }] of files.entries()) {
    const perFile = Math.floor(hunks / files.length) + (k < hunks % files.length ? 1 : 0);
    out.push(`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`);
    const rows: number[] = [];
    for (let tries = 0; rows.length < perFile && tries < 10_000; tries++) {
      const r = bodyRows[Math.floor(rand() * bodyRows.length)];
      if (r >= 3 && r + 5 < lines.length && bodyRows.includes(r + 1) && rows.every((q) => Math.abs(q - r) > 10)) rows.push(r);
    }
    for (const r of rows.sort((a, b) => a - b)) {
      out.push(`@@ -${r - 2},8 +${r - 2},8 @@`, ...lines.slice(r - 3, r).map((l) => ` ${l}`),
        `-${lines[r]}`, `-${lines[r + 1]}`, `+${lines[r]}  # changed`, `+${lines[r + 1]}  # changed`,
        ...lines.slice(r + 2, r + 5).map((l) => ` ${l}`));
    }
  }
  return out.join('\n') + '\n';
}

const HEADER = ['lines/file', 'patch lines', 'entities', 'median ms', 'p90 ms', 'cpu median ms', 'median/target'];
console.log(`gold from a ${PATCH_LINES.toLocaleString()}-line patch across ${FILES} files, ${RUNS} runs each; target ${TARGET_MS} ms`);
console.log(`load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores (wall times suffer from a busy machine; cpu times less)`);
console.log(HEADER.join('  '));
for (const size of [200, 500, 2_000]) {
  const rand = rng(size);
  const files = Array.from({ length: FILES }, (_, k) => ({ path: `pkg/mod_${k}.py`, ...pythonModule(k, size, rand) }));
  const patch = patchFor(files, rand);
  const sources = Object.fromEntries(files.map((f) => [f.path, f.lines.join('\n') + '\n']));
  let gold = goldFromPatch(patch, sources);
  for (let i = 0; i < 3; i++) gold = goldFromPatch(patch, sources);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    goldFromPatch(patch, sources);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const median = percentile(wall, 0.5);
  const cells = [size, patch.split('\n').length - 1, gold.entities.length, median.toFixed(1), percentile(wall, 0.9).toFixed(1),
    percentile(cpu, 0.5).toFixed(1), (median / TARGET_MS).toFixed(2)];
  console.log(cells.map((c, i) => String(c).padStart(HEADER[i].length)).join('  '));
}
