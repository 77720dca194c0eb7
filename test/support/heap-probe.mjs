// Preloaded into a command under test (node --expose-gc --import): every 200 ms the main thread
// collects garbage and notes its live heap; at exit it prints the largest, so a test sees what the
// code retains, apart from what V8 and malloc keep committed but unused.
import { threadId } from 'node:worker_threads';

if (threadId === 0) {
  let maxLive = 0;
  setInterval(() => {
    globalThis.gc();
    maxLive = Math.max(maxLive, process.memoryUsage().heapUsed);
  }, 200).unref();
  process.on('exit', () => process.stderr.write(`heap-probe: live heap after GC at most ${(maxLive / 1048576).toFixed(1)} MiB\n`));
}
