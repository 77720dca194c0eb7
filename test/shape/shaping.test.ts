import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needsModel, shapeReward, sigmoid, softplus } from '../../src/shape/shaping.ts';

describe('shaping', () => {
  it('softplus matches log(1+e^x) and stays finite at the extremes', () => {
    for (const x of [-30, -5, -0.5, 0, 0.5, 5, 30]) assert.ok(Math.abs(softplus(x) - Math.log(1 + Math.exp(x))) < 1e-12, String(x));
    assert.equal(softplus(1000), 1000);
    assert.ok(softplus(-1000) >= 0 && softplus(-1000) < 1e-300);
    assert.ok(softplus(-50) > 0, 'valid code never reaches the invalid floor');
  });

  it('sigmoid is stable on both sides', () => {
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(1000), 1);
    assert.equal(sigmoid(-1000), 0);
    assert.ok(Math.abs(sigmoid(2) - 1 / (1 + Math.exp(-2))) < 1e-15);
  });

  it('softplus gives invalid items exactly 0 and lets them skip the model', () => {
    assert.equal(shapeReward('softplus', false, 12.5), 0);
    assert.equal(shapeReward('softplus', false, null), 0);
    assert.equal(shapeReward('softplus', true, 0), Math.log(2));
    assert.equal(needsModel('softplus', false), false);
    assert.equal(needsModel('softplus', true), true);
  });

  it('none passes the raw logit through and always runs the model', () => {
    assert.equal(shapeReward('none', false, -3.25), -3.25);
    assert.equal(shapeReward('none', true, 7), 7);
    assert.equal(needsModel('none', false), true);
  });
});
