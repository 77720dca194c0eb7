// The HTTP edge against hostile and careless requests (issue 23, findings 6-8): each row is sent as
// it is and must get its status and the documented `{error, code}` body, and a normal request right
// after it must be answered 200. Then: what an allowed origin gets (CORS headers and preflight),
// what the key does and does not guard, and what a 5xx body and the log each carry.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { buildApp, type RewardApp } from '../../src/app.ts';
import { ModelUnavailableError, ServiceError } from '../../src/errors.ts';
import type { ModelBatch } from '../../src/model/reward-model.ts';
import { fakeApp, testConfig } from '../support/app.ts';
import { FakeModel, tokenizerModelDir } from '../support/fakes.ts';

const KEY = 's3cret';
const ALLOWED = 'https://dashboard.example';
const item = { question: 'Add two numbers.', response: '```python\ndef add(a, b):\n    return a + b\n```' };
const json = { 'content-type': 'application/json' };

type AppName = 'open' | 'keyed' | 'cors';
interface Row {
  finding: number;
  what: string;
  app: AppName;
  request: InjectOptions;
  status: number;
  code: string;
  error?: RegExp;
}

const MiB = 1024 * 1024;
const ROWS: Row[] = [
  // 6: the invalid-JSON scan
  { finding: 6, what: 'invalid JSON nested 200,000 deep', app: 'open', request: { method: 'POST', url: '/score', headers: json, body: '{"items":' + '['.repeat(200_000) }, status: 400, code: 'invalid_request', error: /^body is nested more than 1000 deep at line 1, column 1009/ },
  { finding: 6, what: '4 MiB of newlines, then a brace', app: 'open', request: { method: 'POST', url: '/score', headers: json, body: '\n'.repeat(4 * MiB) + '}' }, status: 400, code: 'invalid_request', error: new RegExp(`unexpected "}" at line ${4 * MiB + 1}, column 1`) },
  // 8: bodies that are not sent as JSON are not read as JSON
  { finding: 8, what: 'a JSON body without a content-type', app: 'open', request: { method: 'POST', url: '/score', body: JSON.stringify({ items: [item] }) }, status: 415, code: 'unsupported_media_type', error: /Content-Type: application\/json/ },
  { finding: 8, what: 'a JSON body sent as text/plain (what a cross-site form can send)', app: 'open', request: { method: 'POST', url: '/score', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ items: [item] }) }, status: 415, code: 'unsupported_media_type' },
  { finding: 8, what: 'a form-encoded body', app: 'open', request: { method: 'POST', url: '/score', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'items=1' }, status: 415, code: 'unsupported_media_type' },
  // 8: web pages
  { finding: 8, what: 'a POST from another site', app: 'open', request: { method: 'POST', url: '/score', headers: { ...json, origin: 'https://evil.example' }, payload: { items: [item] } }, status: 403, code: 'forbidden_origin', error: /"https:\/\/evil\.example" is not in CORS_ORIGINS/ },
  { finding: 8, what: 'a GET /info from another site', app: 'open', request: { method: 'GET', url: '/info', headers: { origin: 'https://evil.example' } }, status: 403, code: 'forbidden_origin' },
  { finding: 8, what: 'a preflight from another site', app: 'open', request: { method: 'OPTIONS', url: '/score', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } }, status: 403, code: 'forbidden_origin' },
  { finding: 8, what: 'Origin: null (a sandboxed frame, a file)', app: 'open', request: { method: 'POST', url: '/score', headers: { ...json, origin: 'null' }, payload: { items: [item] } }, status: 403, code: 'forbidden_origin' },
  { finding: 8, what: 'a page whose own name resolves to the service (DNS rebinding)', app: 'open', request: { method: 'POST', url: '/score', headers: { ...json, host: 'rebind.example:8080', origin: 'http://rebind.example:8080' }, payload: { items: [item] } }, status: 403, code: 'forbidden_origin' },
  { finding: 8, what: 'an origin CORS_ORIGINS does not list', app: 'cors', request: { method: 'POST', url: '/score', headers: { ...json, origin: 'https://dashboard.example.evil' }, payload: { items: [item] } }, status: 403, code: 'forbidden_origin' },
  { finding: 8, what: 'with the key, from another site', app: 'keyed', request: { method: 'POST', url: '/score', headers: { ...json, origin: 'https://evil.example', authorization: `Bearer ${KEY}` }, payload: { items: [item] } }, status: 403, code: 'forbidden_origin' },
  // 8: URLs and routes
  { finding: 8, what: 'GET /% (a URL that does not decode)', app: 'open', request: { method: 'GET', url: '/%' }, status: 400, code: 'invalid_request', error: /not a valid url/ },
  { finding: 8, what: 'POST /score%zz', app: 'keyed', request: { method: 'POST', url: '/score%zz', headers: json, payload: {} }, status: 400, code: 'invalid_request' },
  { finding: 8, what: 'a route that does not exist', app: 'open', request: { method: 'GET', url: '/admin' }, status: 404, code: 'not_found' },
  { finding: 8, what: 'a route under the wrong method', app: 'open', request: { method: 'GET', url: '/score' }, status: 405, code: 'method_not_allowed' },
  // 8: the key
  { finding: 8, what: 'no key', app: 'keyed', request: { method: 'GET', url: '/info' }, status: 401, code: 'unauthorized' },
  { finding: 8, what: 'another scheme', app: 'keyed', request: { method: 'GET', url: '/info', headers: { authorization: `Basic ${KEY}` } }, status: 401, code: 'unauthorized' },
  { finding: 8, what: 'the key in another case', app: 'keyed', request: { method: 'GET', url: '/info', headers: { authorization: `Bearer ${KEY.toUpperCase()}` } }, status: 401, code: 'unauthorized' },
  { finding: 8, what: 'the scheme run into the key', app: 'keyed', request: { method: 'GET', url: '/info', headers: { authorization: `Bearer${KEY}` } }, status: 401, code: 'unauthorized' },
];

describe('hostile requests: each answered with its status and {error, code}, and the next request served', () => {
  const apps = new Map<AppName, RewardApp>();
  before(async () => {
    apps.set('open', await fakeApp());
    apps.set('keyed', await fakeApp({ API_KEY: KEY }));
    apps.set('cors', await fakeApp({ CORS_ORIGINS: `${ALLOWED}, http://localhost:3000` }));
  });
  after(async () => {
    for (const service of apps.values()) await service.shutdown();
  });

  for (const row of ROWS) {
    it(`finding ${row.finding}: ${row.what} → ${row.status} ${row.code}`, async () => {
      const { app } = apps.get(row.app)!;
      const res = await app.inject(row.request);
      assert.equal(res.statusCode, row.status, res.body.slice(0, 300));
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['code', 'error']);
      assert.equal(body.code, row.code);
      assert.equal(typeof body.error, 'string');
      if (row.error) assert.match(body.error, row.error);
      const auth = row.app === 'keyed' ? { authorization: `Bearer ${KEY}` } : {};
      const next = await app.inject({ method: 'POST', url: '/score', headers: { ...json, ...auth }, payload: { items: [item] } });
      assert.equal(next.statusCode, 200, next.body);
    });
  }

  it('an allowed origin gets CORS headers on its answer, and its preflight a 204 naming what it may send', async () => {
    const { app } = apps.get('cors')!;
    const res = await app.inject({ method: 'POST', url: '/score', headers: { ...json, origin: ALLOWED }, payload: { items: [item] } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(res.headers.vary), /origin/i);
    assert.match(String(res.headers['access-control-expose-headers']), /retry-after/);
    const preflight = await app.inject({ method: 'OPTIONS', url: '/score', headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    assert.equal(preflight.statusCode, 204, preflight.body);
    assert.equal(preflight.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization.*content-type/);
    // A request with no Origin (a trainer) gets none of it.
    const plain = await app.inject({ method: 'POST', url: '/score', headers: json, payload: { items: [item] } });
    assert.equal(plain.headers['access-control-allow-origin'], undefined);
  });

  it("the service's own /docs page, opened at an address or localhost, may send its POSTs", async () => {
    const { app } = apps.get('open')!;
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080']) {
      const res = await app.inject({ method: 'POST', url: '/score', headers: { ...json, host, origin: `http://${host}` }, payload: { items: [item] } });
      assert.equal(res.statusCode, 200, `${host}: ${res.body}`);
    }
  });

  it('with the key set: /docs and /openapi.yaml open without it, the API not; Bearer in any case', async () => {
    const { app } = apps.get('keyed')!;
    assert.equal((await app.inject({ method: 'GET', url: '/docs' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/openapi.yaml' })).statusCode, 200);
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const res = await app.inject({ method: 'GET', url: '/info', headers: { authorization: `${scheme} ${KEY}` } });
      assert.equal(res.statusCode, 200, scheme);
    }
  });

  it('while draining: new work is refused 503 shutting_down in the error shape with Retry-After; the probes answer', async () => {
    const service = apps.get('open')!;
    service.lifecycle.draining = true;
    try {
      const refused = await service.app.inject({ method: 'POST', url: '/score', headers: json, payload: { items: [item] } });
      assert.equal(refused.statusCode, 503);
      assert.deepEqual(Object.keys(refused.json()).sort(), ['code', 'error']);
      assert.equal(refused.json().code, 'shutting_down');
      assert.ok(Number(refused.headers['retry-after']) >= 0);
      assert.equal((await service.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
      assert.deepEqual((await service.app.inject({ method: 'GET', url: '/ready' })).json(), { status: 'draining' });
    } finally {
      service.lifecycle.draining = false;
    }
    assert.equal((await service.app.inject({ method: 'POST', url: '/score', headers: json, payload: { items: [item] } })).statusCode, 200);
  });

  it('/info names the model directory by its folder, never by a path', async () => {
    const { app } = apps.get('open')!;
    const info = (await app.inject({ method: 'GET', url: '/info' })).json();
    assert.equal(info.model_dir, 'models');
    assert.doesNotMatch(JSON.stringify(info), /\/work\/|node_modules|[/\\]models\b/);
  });
});

/** The fake model, made to throw on its next batch. */
class FailingModel extends FakeModel {
  failWith?: Error;
  override async predict(batch: ModelBatch): Promise<Float32Array> {
    const err = this.failWith;
    this.failWith = undefined;
    if (err) throw err;
    return super.predict(batch);
  }
}

describe('a 5xx body carries no internal message; the log does', () => {
  const lines: string[] = [];
  const model = new FailingModel();
  let service: RewardApp;
  before(async () => {
    const stream = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
    service = await buildApp({ config: testConfig({ RETRY_AFTER_S: '2' }), modelDir: tokenizerModelDir(), model, logger: { level: 'info', stream } as never });
    await service.warmUp;
  });
  after(() => service.shutdown());

  const failures: [string, Error, number, string][] = [
    ['ONNX Runtime throws', new Error('Non-zero status code returned while running MatMul node /srv/models/secret/model.onnx'), 500, 'inference_failed'],
    ['the model worker is lost', new ModelUnavailableError('worker exited with code 134 at /srv/models/secret', 2), 503, 'model_unavailable'],
    ['a prep thread fails (its message is internal)', new ServiceError('internal', 'preparing items failed: ENOENT /srv/models/secret/tokenizer.json'), 500, 'internal'],
    ['anything else', new TypeError("Cannot read properties of undefined (reading 'x') at /srv/app/src/batch/queue.ts:12"), 500, 'inference_failed'],
  ];
  for (const [what, err, status, code] of failures) {
    it(`${what}: ${status} ${code}, no path or exception text in the body; the log has it`, async () => {
      model.failWith = err;
      const res = await service.app.inject({ method: 'POST', url: '/score', headers: json, payload: { items: [{ question: what, response: item.response }] } });
      assert.equal(res.statusCode, status, res.body);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['code', 'error']);
      assert.equal(body.code, code);
      assert.doesNotMatch(body.error, /\/srv|secret|MatMul|exited|undefined|\.ts:\d/);
      assert.ok(lines.some((l) => l.includes('/srv/')), 'the log carries the message');
      const next = await service.app.inject({ method: 'POST', url: '/score', headers: json, payload: { items: [item] } });
      assert.equal(next.statusCode, 200, next.body);
    });
  }
});
