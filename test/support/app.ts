// Builds the real app around the fake model, for route tests through app.inject().
import { buildApp, type RewardApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { RewardModel } from '../../src/model/reward-model.ts';
import { FakeModel, tokenizerModelDir } from './fakes.ts';

/**
 * The defaults, except that items are prepared on the event loop (PREP_THREADS=0) unless a test asks
 * for threads: each prep thread builds its own tokenizer (~0.5 s of CPU), which would otherwise be
 * most of what a route test costs. Suites about the threads (test/prep/, health, hostile input) set
 * PREP_THREADS themselves.
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ PREP_THREADS: '0', ...overrides });
}

export async function fakeApp(overrides: Record<string, string> = {}, model: RewardModel = new FakeModel()): Promise<RewardApp> {
  const service = await buildApp({ config: testConfig(overrides), modelDir: tokenizerModelDir(), model });
  await service.warmUp;
  return service;
}
