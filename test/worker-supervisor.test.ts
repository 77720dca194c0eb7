// The worker supervisor: a failed start is not retried in a loop but on the next use, a started
// worker that exits is replaced at once, and its owner hears of each exit to fail the work it held.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SupervisedWorker } from '../src/worker-supervisor.ts';
import { until } from './support/until.ts';

describe('SupervisedWorker', () => {
  it('a failed start stays down until the next use; a crash after start is restarted at once', async () => {
    const exits: number[] = [];
    const messages: string[] = [];
    const errors: string[] = [];
    const worker = new SupervisedWorker<string>({
      entry: new URL('./support/flaky-start-worker.ts', import.meta.url),
      workerData: { marker: join(mkdtempSync(join(tmpdir(), 'supervisor-')), 'started') },
      name: 'test worker',
      log: { error: (msg) => errors.push(msg) },
      handshake: (msg) => msg === 'ready' || undefined,
      onMessage: (msg) => messages.push(msg),
      onExit: (code) => exits.push(code),
    });
    try {
      await assert.rejects(worker.startup, /test worker exited with code 3 before it was ready/);
      assert.equal(worker.state, 'failed');
      // No restart of its own: a while later it is still down.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(worker.state, 'failed');
      assert.deepEqual(exits, [3]);
      assert.equal(worker.restarts, 0);

      // The next use fails with the reason and starts another, which comes up.
      await assert.rejects(worker.ready(), /exited with code 3/);
      await worker.ready();
      assert.equal(worker.state, 'ready');
      worker.post('one');
      await until(() => messages.length === 1);
      assert.deepEqual(messages, ['echo one']);

      // A started worker that exits is replaced without waiting for a use.
      worker.post('crash');
      await until(() => exits.length === 2);
      assert.equal(exits[1], 9);
      assert.equal(worker.restarts, 1);
      assert.match(errors.join('\n'), /test worker exited with code 9; restart #1/);
      await worker.ready();
      worker.post('two');
      await until(() => messages.length === 2);
      assert.equal(messages[1], 'echo two');
    } finally {
      await worker.terminate();
    }
    // Closing is not an exit the owner has to handle.
    assert.equal(exits.length, 2);
  });
});
