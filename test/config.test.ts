import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_MODEL_DIR, SPECS, batchAttentionBudget, batchTokenBudget, flagName, isExplicit, loadConfig, providerSetting } from '../src/config.ts';
import { modelShape } from '../src/provider-defaults.ts';

/** Qwen3-1.7B's config.json sizes, in the fp16 export. */
const QWEN3_1_7B_FP16 = modelShape({ num_hidden_layers: 28, hidden_size: 2048, intermediate_size: 6144, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128 }, 'float16');

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.HOST, '127.0.0.1');
    assert.equal(c.PORT, 8080);
    assert.equal(c.MAX_LENGTH, 4096);
    assert.equal(c.MAX_BATCH_TOKENS, 0);
    assert.equal(c.MODEL_NICE, 10);
    assert.equal(c.MAX_WAIT_MS, 2);
    assert.equal(c.MAX_QUEUE_ITEMS, 4096);
    assert.equal(c.MAX_CLIENT_BATCH, 16384);
    assert.equal(c.ADMISSION_TIMEOUT_MS, 60000);
    assert.equal(c.BODY_LIMIT, 32 * 1024 * 1024);
    assert.equal(c.REQUEST_TIMEOUT_MS, 60000);
    assert.equal(c.CONNECTION_TIMEOUT_MS, 300000);
    assert.equal(c.EXECUTION_PROVIDER, 'auto');
    assert.equal(c.MODEL_DIR, DEFAULT_MODEL_DIR);
  });

  it('picks the batch token budget by execution provider and model unless MAX_BATCH_TOKENS is set', () => {
    assert.equal(batchTokenBudget(loadConfig({}), 'cuda', QWEN3_1_7B_FP16), 16384);
    assert.equal(batchTokenBudget(loadConfig({}), 'cpu', QWEN3_1_7B_FP16), 1024);
    // An item longer than the budget runs alone (test/batch/queue.test.ts), so MAX_LENGTH does not raise it.
    assert.equal(batchTokenBudget(loadConfig({ MAX_LENGTH: '8192' }), 'cpu', QWEN3_1_7B_FP16), 1024);
    assert.equal(loadConfig({ MAX_LENGTH: '8192', MAX_BATCH_TOKENS: '4096' }).MAX_BATCH_TOKENS, 4096);
    assert.equal(batchTokenBudget(loadConfig({ MAX_BATCH_TOKENS: '32768' }), 'cpu', QWEN3_1_7B_FP16), 32768);
    assert.equal(batchTokenBudget(loadConfig({ MAX_BATCH_TOKENS: '4096' }), 'cuda', QWEN3_1_7B_FP16), 4096);
  });

  it('limits rows x length^2 on CPU only, unless MAX_BATCH_ATTENTION is set', () => {
    assert.equal(batchAttentionBudget(loadConfig({}), 'cuda', QWEN3_1_7B_FP16), 0);
    assert.equal(batchAttentionBudget(loadConfig({}), 'cpu', QWEN3_1_7B_FP16), 1024 * 1024);
    assert.equal(batchAttentionBudget(loadConfig({ MAX_BATCH_ATTENTION: '5000000' }), 'cuda', QWEN3_1_7B_FP16), 5_000_000);
  });

  it('MAX_PADDING_SHARE, PREFIX_CACHE_MB and MODEL_NICE: the value set wins, unset they follow the provider', () => {
    const unset = loadConfig({});
    assert.deepEqual(['MAX_PADDING_SHARE', 'PREFIX_CACHE_MB', 'MODEL_NICE'].map((v) => providerSetting(unset, v as 'MODEL_NICE', 'cpu', QWEN3_1_7B_FP16)), [0.1, 64, 10]);
    assert.deepEqual(['MAX_PADDING_SHARE', 'PREFIX_CACHE_MB', 'MODEL_NICE'].map((v) => providerSetting(unset, v as 'MODEL_NICE', 'cuda', QWEN3_1_7B_FP16)), [0.25, 896, 0]);
    const set = loadConfig({ MAX_PADDING_SHARE: '0.1', PREFIX_CACHE_MB: '64' }, ['--model-nice', '10']);
    assert.deepEqual(['MAX_PADDING_SHARE', 'PREFIX_CACHE_MB', 'MODEL_NICE'].map((v) => providerSetting(set, v as 'MODEL_NICE', 'cuda', QWEN3_1_7B_FP16)), [0.1, 64, 10]);
    assert.equal(isExplicit(unset, 'MODEL_NICE'), false);
    assert.equal(isExplicit(set, 'MODEL_NICE'), true);
    // A copy is not loadConfig's: every value counts as set, so it runs exactly as written.
    assert.equal(isExplicit({ ...unset }, 'MODEL_NICE'), true);
  });

  it('reads environment variables, and flags win over them', () => {
    const c = loadConfig({ PORT: '9000', MAX_WAIT_MS: '5' }, ['--port', '9100', '--execution-provider=cpu']);
    assert.equal(c.PORT, 9100);
    assert.equal(c.MAX_WAIT_MS, 5);
    assert.equal(c.EXECUTION_PROVIDER, 'cpu');
  });

  it('every variable has a flag and a one-line help', () => {
    for (const [name, spec] of Object.entries(SPECS)) {
      assert.match(flagName(name), /^--[a-z0-9-]+$/);
      assert.ok(spec.help.length > 5 && !spec.help.includes('\n'), name);
    }
  });

  const bad: [Record<string, string>, string[], string, RegExp][] = [
    [{ PORT: 'eighty' }, [], 'PORT', /non-negative integer/],
    [{ PORT: '70000' }, [], 'PORT', /\[0, 65535\]/],
    [{ MAX_LENGTH: '-1' }, [], 'MAX_LENGTH', /integer/],
    [{ EXECUTION_PROVIDER: 'tpu' }, [], 'EXECUTION_PROVIDER', /auto\|cuda\|cpu/],
    [{}, ['--max-wait-ms'], 'MAX_WAIT_MS', /needs a value/],
    [{}, ['--no-such-flag', '1'], '--no-such-flag', /unknown option/],
    [{ HOST: '' }, [], 'HOST', /empty/],
    [{ MAX_PADDING_SHARE: '1.5' }, [], 'MAX_PADDING_SHARE', /\[0, 1\]/],
    [{ CONNECTION_TIMEOUT_MS: '60000' }, [], 'CONNECTION_TIMEOUT_MS', /more than ADMISSION_TIMEOUT_MS \(60000\)/],
    [{ MAX_PADDING_SHARE: 'lots' }, [], 'MAX_PADDING_SHARE', /must be a number/],
    [{ MODEL_NICE: '20' }, [], 'MODEL_NICE', /\[0, 19\]/],
  ];
  for (const [env, argv, variable, why] of bad) {
    it(`refuses ${JSON.stringify(env)} ${argv.join(' ')} naming ${variable}`, () => {
      assert.throws(() => loadConfig(env, argv), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.variable, variable);
        assert.ok(err.message.startsWith(variable));
        assert.match(err.message, why);
        return true;
      });
    });
  }
});
