// A worker for the supervisor's tests: its first start fails (it exits before its ready message),
// later starts succeed. It answers 'crash' by exiting and anything else by echoing it.
import { existsSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { marker } = workerData as { marker: string };
if (!existsSync(marker)) {
  writeFileSync(marker, 'started once');
  process.exit(3);
}
parentPort!.on('message', (msg: string) => {
  if (msg === 'crash') process.exit(9);
  parentPort!.postMessage(`echo ${msg}`);
});
parentPort!.postMessage('ready');
