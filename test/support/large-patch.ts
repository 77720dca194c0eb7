// A localization item with a 1,000-line gold patch: four generated modules of 50 functions each
// (or `functions` each), every function's first body line edited. `seed` makes the sources (and so
// the gold) distinct.
import type { LocalizationItem } from '../../src/localization/index.ts';

const FILES = 4;

export function largePatchItem(seed: number, functions = 50): LocalizationItem {
  const files: Record<string, string> = {};
  const patch: string[] = [];
  for (let k = 0; k < FILES; k++) {
    const path = `pkg/mod_${k}.py`;
    const lines: string[] = [];
    patch.push(`--- a/${path}`, `+++ b/${path}`);
    for (let f = 0; f < functions; f++) {
      const row = lines.length + 1;
      const body = `    y = x + ${seed}`;
      lines.push(`def f_${f}(x):`, body, `    return y * ${f}`, '');
      patch.push(`@@ -${row},3 +${row},3 @@`, ` def f_${f}(x):`, `-${body}`, `+${body} + 1`, `     return y * ${f}`);
    }
    files[path] = lines.join('\n') + '\n';
  }
  return { locations: [{ file: 'pkg/mod_0.py', function_name: 'f_0' }], gold: { patch: patch.join('\n') + '\n', files } };
}
