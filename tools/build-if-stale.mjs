// `npm start`'s prestart: rebuild dist/ and the demo model only when their sources changed, like make,
// so that a start (or `--help`, or a bad setting) does not wait for a full tsc run (13-16 s) each time.
// Plain JavaScript on purpose: no TypeScript loader to start before the check.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...parts) => join(root, ...parts);

/** Newest modification time (ms) of the files under each path; 0 when none exists. */
function newest(paths) {
  let max = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) max = Math.max(max, newest([join(path, entry)]));
    } else {
      max = Math.max(max, stat.mtimeMs);
    }
  }
  return max;
}

/** True when `target` is missing or older than any of `sources`. */
function stale(target, sources) {
  return !existsSync(target) || statSync(target).mtimeMs < newest(sources);
}

function run(what, args) {
  const result = spawnSync(args[0], args.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`code-reward-service: ${what} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

// The demo model that MODEL_DIR defaults to (make-model itself rebuilds it when its generator changed).
if (stale(at('models/tiny-random-qwen3-rm/model.onnx'), [at('tools/make-model'), at('tools/mulberry32.ts')])) {
  run('making the demo model', ['npm', 'run', '--silent', 'ensure-model']);
}

// dist/ from src/: the stamp is written only after a successful build.
const stamp = at('dist/.build-stamp');
if (stale(stamp, [at('src'), at('tsconfig.json'), at('tsconfig.build.json'), at('package-lock.json')])) {
  console.error('code-reward-service: sources changed since the last build; compiling src/ into dist/ ...');
  run('the build', ['npm', 'run', '--silent', 'build']);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
