// Builds the real app around the fake model, for route tests through app.inject().
import { buildApp, type RewardApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { RewardModel } from '../../src/model/reward-model.ts';
import { FakeModel, tokenizerModelDir } from './fakes.ts';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...overrides });
}

export async function fakeApp(overrides: Record<string, string> = {}, model: RewardModel = new FakeModel()): Promise<RewardApp> {
  const service = await buildApp({ config: testConfig(overrides), modelDir: tokenizerModelDir(), model });
  await service.warmUp;
  return service;
}
