// Starting the service's worker threads the same way from source and from the build: run from
// source (tsx), a worker module is .ts and its thread needs tsx registered first; built into dist/,
// it is .js and starts directly.
import { Worker } from 'node:worker_threads';

const TS_WORKER_BOOT = new URL('../src/ts-worker.mjs', import.meta.url);

/** The worker module `name` (without extension) beside the module at `moduleUrl`, .ts or .js as that one is. */
export function siblingWorkerUrl(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl);
}

export function startWorker(entry: URL, workerData: object): Worker {
  return entry.pathname.endsWith('.ts')
    ? new Worker(TS_WORKER_BOOT, { workerData: { ...workerData, entry: entry.href } })
    : new Worker(entry, { workerData });
}
