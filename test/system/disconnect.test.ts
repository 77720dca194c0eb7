// A client that gives up while its items wait: they are dropped before they run, over a real socket.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { fakeApp } from '../support/app.ts';
import { FakeModel } from '../support/fakes.ts';
import { until } from '../support/until.ts';
import { fence } from '../support/fence.ts';

describe('client disconnects', () => {
  it('queued items of a client that went away never reach the model', async () => {
    const model = new FakeModel();
    const service = await fakeApp({ MAX_BATCH_ITEMS: '1', MAX_WAIT_MS: '0' }, model);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = service.app.server.address() as { port: number };
    try {
      const post = (items: unknown[]) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/score', headers: { 'content-type': 'application/json' } });
        req.on('error', () => {});
        req.end(JSON.stringify({ items }));
        return req;
      };
      const callsBefore = model.calls;
      let release!: () => void;
      model.gate = new Promise<void>((r) => (release = r));
      // The patient client occupies the model; the impatient one's 3 items wait behind it.
      const patient = new Promise<number>((resolve) => post([{ question: 'patient', response: fence('a = 1') }]).on('response', (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode!));
      }));
      await until(() => model.calls - callsBefore === 1);
      const impatient = post(['b = 1', 'b = 2', 'b = 3'].map((c) => ({ question: 'impatient', response: fence(c) })));
      await until(() => service.queue.size === 3);
      impatient.destroy();
      // The hang-up reaches the service while the patient item still holds the model.
      await new Promise((r) => setTimeout(r, 100));
      release();
      assert.equal(await patient, 200);
      // The service goes on serving; one item per batch, oldest first, so had the dropped items
      // been run they would have run before this one.
      const after = await service.app.inject({ method: 'POST', url: '/score', payload: { items: [{ question: 'q', response: fence('c = 1') }] } });
      assert.equal(after.statusCode, 200);
      assert.equal(model.calls - callsBefore, 2, 'only the patient item and the later one ran');
      const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /reward_dropped_items_total 3/);
    } finally {
      await service.shutdown();
    }
  });
});
