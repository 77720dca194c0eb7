// The warm-up runs both branches of the joined graph (whole items and suffixes against a shared
// prefix's keys and values) before /ready says 200, so neither branch's first run lands on a client.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Counter } from 'prom-client';
import { buildApp, type RewardApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { startModel } from '../../src/engine.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';

const quiet = { info() {}, warn() {}, error() {} };
const md = loadModelDir(loadConfig({}).MODEL_DIR);

async function total(c: Counter, label?: [string, string]): Promise<number> {
  return (await c.get()).values.filter((v) => !label || v.labels[label[0]] === label[1]).reduce((n, v) => n + v.value, 0);
}

describe('warm-up', () => {
  const services: RewardApp[] = [];
  const start = async (env: Record<string, string>) => {
    const config = loadConfig({ PREP_THREADS: '0', ...env });
    const service = await buildApp({ config, modelDir: md, model: await startModel(config, md, quiet) });
    services.push(service);
    return service;
  };
  after(async () => {
    for (const s of services) await s.shutdown();
  });

  it('with prefix sharing, runs a whole item and two items against a shared prefix before /ready turns 200', async () => {
    assert.ok(md.pastOnnxPath, 'the demo model has model-past.onnx');
    const service = await start({ PREFIX_MIN_TOKENS: '128' });
    await service.warmUp;
    assert.equal((await service.app.inject({ method: 'GET', url: '/ready' })).statusCode, 200);
    assert.equal(await total(service.metrics.prefixSharedItems), 2);
    assert.equal(await total(service.metrics.prefixCacheMisses), 1);
    assert.ok(await total(service.metrics.computedTokens, ['pass', 'whole']) > 0);
    assert.ok(await total(service.metrics.computedTokens, ['pass', 'prefix']) >= 128);
  });

  it('without prefix sharing, one whole item', async () => {
    const service = await start({ PREFIX_MIN_TOKENS: '0' });
    await service.warmUp;
    assert.equal(await total(service.metrics.prefixSharedItems), 0);
    assert.equal(await total(service.metrics.items), 1);
  });
});
