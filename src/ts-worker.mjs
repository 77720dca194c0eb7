// The first module of every worker thread run from source (the model worker and the prep threads,
// through worker-thread.ts): threads start without the parent's TypeScript loader, so this registers
// tsx in the thread, then loads the TypeScript worker module named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
