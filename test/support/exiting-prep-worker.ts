// The real prep worker, except that a slice holding an item whose question is EXIT_QUESTION ends
// the thread (from JavaScript, between native calls, as a crash of the worker's own code would).
// Imported on the main thread (by the test, for the constant), it does nothing else.
import { parentPort } from 'node:worker_threads';

export const EXIT_QUESTION = 'exit this prep worker';

if (parentPort) {
  // This listener starts the port before the real worker's is attached, so it answers close too.
  parentPort.on('message', (req: { kind: string; items?: { question: string }[] }) => {
    if (req.kind === 'items' && req.items?.some((it) => it.question === EXIT_QUESTION)) process.exit(7);
    if (req.kind === 'close') process.exit(0);
  });
  await import('../../src/prep/prep-worker.ts');
}
