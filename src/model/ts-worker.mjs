// Worker threads start without the parent's TypeScript loader: register tsx in this thread, then
// load the TypeScript worker module named in workerData.entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
