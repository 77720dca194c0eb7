// The supervisor's deadline in CPU time: a thread that waits (for a core, a lock) is not overdue,
// one that spins is replaced once it has used its deadline, and its owner hears of it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SupervisedWorker } from '../src/worker-supervisor.ts';
import { until } from './support/until.ts';

describe('SupervisedWorker deadline in CPU time', { skip: process.platform !== 'linux' && 'the thread CPU time comes from Linux /proc' }, () => {
  it('a thread asleep past the deadline answers; a spinning one is replaced', async () => {
    const messages: string[] = [];
    const overdue: number[] = [];
    const errors: string[] = [];
    const worker = new SupervisedWorker<string>({
      entry: new URL('./support/sleepy-worker.ts', import.meta.url),
      workerData: {},
      name: 'test worker',
      log: { error: (msg) => errors.push(msg) },
      handshake: (msg) => msg === 'ready' || undefined,
      onMessage: (msg) => messages.push(msg),
      onExit: () => assert.fail('no exit expected'),
      deadline: { ms: 300, clock: 'cpu' },
      onDeadline: (ms) => overdue.push(ms),
    });
    try {
      await worker.ready();
      worker.post('sleep');
      await until(() => messages.length === 1);
      assert.deepEqual([messages, overdue, worker.restarts], [['slept'], [], 0]);

      worker.post('spin');
      await until(() => overdue.length === 1);
      assert.deepEqual([overdue, worker.restarts], [[300], 1]);
      assert.equal(typeof worker.troubleSince, 'number');
      assert.match(errors.join('\n'), /test worker ran past its deadline of 300 ms; replaced, restart #1/);
      await worker.ready();
      worker.post('sleep');
      await until(() => messages.length === 2);
      worker.reportSuccess();
      assert.equal(worker.troubleSince, undefined);
    } finally {
      await worker.terminate();
    }
  });
});
