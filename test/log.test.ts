// Start-up warnings: one line each, only where they apply.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { warnIfOpen } from '../src/log.ts';

describe('warnIfOpen: API_KEY unset on an address other machines reach', () => {
  const cases: [string, string, boolean][] = [
    ['', '0.0.0.0', true],
    ['', '::', true],
    ['', '10.0.3.7', true],
    ['', 'reward.internal', true],
    ['', '127.0.0.1', false],
    ['', '127.1.2.3', false],
    ['', '::1', false],
    ['', 'localhost', false],
    ['k', '0.0.0.0', false],
  ];
  for (const [apiKey, host, warns] of cases) {
    it(`API_KEY ${apiKey === '' ? 'unset' : 'set'}, HOST=${host}: ${warns ? 'one warning line' : 'nothing'}`, () => {
      const lines: string[] = [];
      warnIfOpen({ API_KEY: apiKey, HOST: host }, { warn: (msg) => lines.push(msg) });
      assert.equal(lines.length, warns ? 1 : 0);
      if (warns) {
        assert.doesNotMatch(lines[0], /\n/);
        assert.match(lines[0], new RegExp(`API_KEY is unset and HOST=${host.replace(/[.]/g, '\\.')} .*set API_KEY`));
      }
    });
  }
});
