import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseFinishCall, predictionSets, type CodeLocation, type LocationSets } from '../../src/localization/index.ts';

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/localization/${name}`, import.meta.url), 'utf8')) as T;

describe('predictionSets: CodeScout parse_structured_outputs', () => {
  const { cases } = load<{ cases: { name: string; locations: CodeLocation[]; expect: LocationSets }[] }>('predictions.json');
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(predictionSets(c.locations), c.expect));
  }
});

describe('parseFinishCall: format checks of the final turn', () => {
  const { cases } = load<{ cases: { name: string; text: string; ok: boolean; reason?: string; locations?: CodeLocation[] }[] }>(
    'finish-calls.json',
  );
  for (const c of cases) {
    it(`${c.ok ? 'accepts' : 'rejects'}: ${c.name}`, () => {
      const got = parseFinishCall(c.text);
      if (c.ok) {
        assert.deepEqual(got, { ok: true, locations: c.locations });
      } else {
        assert.equal(got.ok, false);
        assert.match((got as { reason: string }).reason, new RegExp(c.reason!));
      }
    });
  }
});
