#!/usr/bin/env node
// The package's command (`npx code-reward-service score IN.jsonl -o OUT.jsonl`). In a checkout with
// the development dependencies it runs src/cli/main.ts through tsx (which also starts the worker
// threads from their TypeScript source), so an edit takes effect at once; an install without them
// (`npm ci --omit=dev` after `npm run build`) runs the plain JavaScript in dist/.
let tsx;
try {
  tsx = await import('tsx/esm/api');
} catch {
  tsx = undefined;
}
if (tsx) {
  tsx.register();
  await import('../src/cli/main.ts');
} else {
  await import('../dist/cli/main.js');
}
