#!/usr/bin/env node
// The package's command (`npx code-reward-service score IN.jsonl -o OUT.jsonl`): runs src/cli/main.ts
// through tsx, which also starts the worker threads from their TypeScript source.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
