// A worker that answers `sleep` after 600 ms of sleeping (no CPU) and never answers `spin` (all
// CPU), for the supervisor's deadline in CPU time.
import { parentPort } from 'node:worker_threads';
import '../../src/thread-stop.ts';

parentPort!.on('message', (msg: string) => {
  if (msg === 'sleep') {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
    parentPort!.postMessage('slept');
  }
  if (msg === 'spin') for (;;);
});
parentPort!.postMessage('ready');
