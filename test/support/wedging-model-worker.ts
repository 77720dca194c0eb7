// The real model worker, except that a batch of exactly three rows never ends: the thread spins in
// JavaScript, as a hung run would hold it.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (req: { batchSize: number }) => {
  if (req.batchSize === 3) for (;;);
});
await import('../../src/model/onnx-worker.ts');
