// /v1/localization on the prep threads: the event loop stays free during a large request, and the
// answers and errors are those of one pass in order on the event loop (PREP_THREADS=0).
import assert from 'node:assert/strict';
import { tracingChannel } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import type { RewardApp } from '../../src/app.ts';
import { LocalizationInputError, scoreLocalization, type LocalizationItem } from '../../src/localization/index.ts';
import { ITEMS_PER_SLICE } from '../../src/prep/prepare.ts';
import { toErrorBody } from '../../src/http/errors.ts';
import { fakeApp } from '../support/app.ts';
import { assertResponsive, probeHealth } from '../support/health-probe.ts';
import { largePatchItem } from '../support/large-patch.ts';

const post = (service: RewardApp, payload: object) => service.app.inject({ method: 'POST', url: '/v1/localization', payload });

/**
 * Resolves when Fastify starts the handler of a request to `url`: its body has been parsed and
 * validated on the event loop (as every body is), and what runs from there is the route's own work.
 */
function handlerStarted(url: string): Promise<void> {
  const start = tracingChannel('fastify.request.handler').start;
  return new Promise((resolve) => {
    const onStart = (message: unknown) => {
      if ((message as { request: { url: string } }).request.url !== url) return;
      start.unsubscribe(onStart);
      resolve();
    };
    start.subscribe(onStart);
  });
}

/** The error body the route gives for the library's LocalizationInputError on `body`. */
function expectedError(body: { items: LocalizationItem[] }): { error: string; code: string } {
  try {
    scoreLocalization(body);
  } catch (err) {
    assert.ok(err instanceof LocalizationInputError);
    return { error: `body/${err.message} (${err.code})`, code: err.status === 422 ? 'unprocessable' : 'invalid_request' };
  }
  assert.fail('the body was expected to be refused');
}

describe('localization on the prep threads', () => {
  let threads: RewardApp;
  let inline: RewardApp;
  before(async () => {
    [threads, inline] = await Promise.all([fakeApp({ PREP_THREADS: '2' }), fakeApp({ PREP_THREADS: '0' })]);
  });
  after(() => Promise.all([threads.shutdown(), inline.shutdown()]));

  it('/health answers during a large request, the event loop mostly idle', async () => {
    // 64 items, each deriving its gold from its own 1,000-line patch (~35 ms of CPU each).
    const items = Array.from({ length: 64 }, (_, i) => largePatchItem(i));
    let done = false;
    const started = handlerStarted('/v1/localization');
    const scoring = post(threads, { items }).finally(() => {
      done = true;
    });
    await started;
    const probes = await probeHealth(threads.app, () => !done);
    const res = await scoring;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), scoreLocalization({ items }));
    assertResponsive(probes, 'the localization request');
  });

  it('answers as one pass on the event loop, slice by slice', async () => {
    const items = Array.from({ length: 2 * ITEMS_PER_SLICE + 5 }, (_, i) => largePatchItem(i % 3));
    items[40] = { ...items[40], locations: [{ file: 'pkg/mod_1.py', class_name: null, function_name: 'f_3' }] };
    const body = { items, weights: { file: 0.5, module: 1, entity: 2 } };
    const [a, b] = await Promise.all([post(threads, body), post(inline, body)]);
    assert.equal(a.statusCode, 200);
    assert.equal(a.body, b.body);
    assert.deepEqual(a.json(), scoreLocalization(body));
  });

  it('of several bad items in several slices, the first is the one reported, as today', async () => {
    const items = Array.from({ length: 3 * ITEMS_PER_SLICE }, (_, i) => largePatchItem(i % 5));
    const missingFile = (item: LocalizationItem): LocalizationItem => ({ ...item, gold: { patch: (item.gold as { patch: string }).patch, files: {} } });
    const badHunk = (item: LocalizationItem): LocalizationItem => ({ ...item, gold: { patch: (item.gold as { patch: string }).patch, files: { 'pkg/mod_0.py': 'x = 1\n', 'pkg/mod_1.py': '', 'pkg/mod_2.py': '', 'pkg/mod_3.py': '' } } });
    // The last slice is bad from its first item, so a worker refuses it before the earlier ones finish.
    for (const [at, make] of [[2 * ITEMS_PER_SLICE, missingFile], [ITEMS_PER_SLICE + 7, badHunk], [ITEMS_PER_SLICE + 9, missingFile]] as const) {
      items[at] = make(items[at]);
    }
    const expected = expectedError({ items });
    assert.match(expected.error, new RegExp(`items\\[${ITEMS_PER_SLICE + 7}\\]\\.gold.*hunk_mismatch`));
    for (const service of [threads, inline]) {
      const res = await post(service, { items });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), expected);
    }
  });
});

describe('LocalizationInputError in the one error handler', () => {
  it('a 400 kind is invalid_request, a 422 kind unprocessable; the message names the field and the localization code', () => {
    const malformed = new LocalizationInputError('malformed_patch', 'hunk 1 is truncated', 'patch').within('items[2].gold');
    assert.deepEqual(toErrorBody(malformed), { status: 400, body: { error: 'body/items[2].gold.patch: hunk 1 is truncated (malformed_patch)', code: 'invalid_request' } });
    const unknown = new LocalizationInputError('unknown_file', 'no source given', 'files["a.py"]').within('items[0].gold');
    assert.deepEqual(toErrorBody(unknown), { status: 422, body: { error: 'body/items[0].gold.files["a.py"]: no source given (unknown_file)', code: 'unprocessable' } });
  });
});
