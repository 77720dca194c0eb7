import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CancelledError, ERROR_STATUS, InferenceFailedError, InvalidRequestError, ModelUnavailableError,
  OverloadedError, ServiceError, ShuttingDownError, TooManyItemsError,
} from '../src/errors.ts';
import { toErrorBody } from '../src/http/errors.ts';

describe('error classes', () => {
  const cases: [ServiceError, string, string, number, RegExp, number | undefined][] = [
    [new InvalidRequestError('body/items must be array'), 'InvalidRequestError', 'invalid_request', 400, /items must be array/, undefined],
    [new TooManyItemsError('items', 5000, 4096), 'TooManyItemsError', 'too_many_items', 422, /5000 items.*4096.*MAX_CLIENT_BATCH/, undefined],
    [new OverloadedError(4096, 4096, 2), 'OverloadedError', 'overloaded', 503, /queue full.*MAX_QUEUE_ITEMS/, 2],
    [new ShuttingDownError(1), 'ShuttingDownError', 'shutting_down', 503, /shutting down/, 1],
    [new ModelUnavailableError('worker exited', 1), 'ModelUnavailableError', 'model_unavailable', 503, /worker exited/, 1],
    [new InferenceFailedError('bad shape'), 'InferenceFailedError', 'inference_failed', 500, /bad shape/, undefined],
    [new CancelledError(), 'CancelledError', 'client_closed', 499, /disconnected/, undefined],
  ];
  for (const [err, name, code, status, message, retry] of cases) {
    it(`${name}: code ${code}, status ${status}`, () => {
      assert.equal(err.name, name);
      assert.equal(err.code, code);
      assert.equal(err.status, status);
      assert.equal(ERROR_STATUS[err.code], status);
      assert.match(err.message, message);
      assert.equal(err.retryAfterS, retry);
      const { body } = toErrorBody(err);
      if (status < 500 || code === 'overloaded' || code === 'shutting_down') assert.equal(body.error, err.message);
      else assert.doesNotMatch(body.error, message, 'a 5xx body carries no exception text');
      assert.deepEqual(toErrorBody(err), { status, body: { error: body.error, code }, retryAfterS: retry });
    });
  }

  it('an unknown error becomes a 500 that shows no internals', () => {
    const out = toErrorBody(new TypeError('secret stack detail at /src/x.ts:1'));
    assert.deepEqual(out, { status: 500, body: { error: 'internal error; the service log has the cause', code: 'internal' } });
  });
});
