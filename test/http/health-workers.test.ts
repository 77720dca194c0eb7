// /ready and /health read the supervised threads: /ready is 503 while no thread of a component can
// take work, /health is 503 once a component has been failing for UNHEALTHY_AFTER_MS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import type { WorkerHealth } from '../../src/worker-supervisor.ts';
import { fakeApp } from '../support/app.ts';
import { FakeModel } from '../support/fakes.ts';

class ReportingModel extends FakeModel {
  health: WorkerHealth = { serving: true, troubleSince: undefined };
}

describe('/ready and /health from the workers', () => {
  const model = new ReportingModel();
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ PREP_THREADS: '1', UNHEALTHY_AFTER_MS: '60000' }, model);
  });
  after(() => service.shutdown());
  const get = (url: string) => service.app.inject({ method: 'GET', url });

  it('ready while the model worker serves; 503 naming it while it cannot', async () => {
    assert.equal((await get('/ready')).statusCode, 200);
    model.health = { serving: false, troubleSince: undefined };
    const res = await get('/ready');
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { status: 'not_serving', reason: 'model worker: no thread can take work now' });
    model.health = { serving: true, troubleSince: undefined };
    assert.equal((await get('/ready')).statusCode, 200);
  });

  it('alive through a short failure; 503 once it has lasted UNHEALTHY_AFTER_MS', async () => {
    model.health = { serving: true, troubleSince: Date.now() - 1_000 };
    assert.equal((await get('/health')).statusCode, 200);
    model.health = { serving: true, troubleSince: Date.now() - 61_000 };
    const res = await get('/health');
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().status, 'failing');
    assert.match(res.json().reason, /^model worker: failing for 6\d{4} ms with no success \(UNHEALTHY_AFTER_MS 60000\)$/);
    model.health = { serving: true, troubleSince: undefined };
    assert.equal((await get('/health')).statusCode, 200);
  });
});
