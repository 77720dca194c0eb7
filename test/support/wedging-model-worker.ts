// The real model worker, except that a batch of exactly three rows never ends: the thread blocks, as
// a hung native run would hold it, without taking a core from the other tests (Atomics.wait sleeps).
import { parentPort } from 'node:worker_threads';

const never = new Int32Array(new SharedArrayBuffer(4));
parentPort!.on('message', (req: { batchSize: number }) => {
  if (req.batchSize === 3) for (;;) Atomics.wait(never, 0, 0);
});
await import('../../src/model/onnx-worker.ts');
