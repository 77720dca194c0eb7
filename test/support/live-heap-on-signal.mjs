// Preloaded into the service under test (node --expose-gc --import): on SIGUSR2 the main thread
// collects garbage and prints its live heap and the external memory of its buffers, so a test reads what the service holds at a moment of
// its choosing, apart from what V8 and malloc keep committed but unused.
import { threadId } from 'node:worker_threads';

if (threadId === 0) {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    const { heapUsed, external } = process.memoryUsage();
    process.stderr.write(`live-heap ${heapUsed + external}\n`);
  });
}
