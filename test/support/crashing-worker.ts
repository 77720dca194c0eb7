// The real model worker, except that a batch of exactly three rows kills the thread mid-batch.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (req: { batchSize: number }) => {
  if (req.batchSize === 3) process.exit(7);
});
await import('../../src/model/onnx-worker.ts');
