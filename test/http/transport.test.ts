// Transport: a body without a content-type is a 415; gzip and deflate bodies are inflated with
// BODY_LIMIT applied to the inflated size (a zip bomb is a 413); a body that does not inflate is a
// 400; large answers are gzip-compressed when the client accepts it, small ones and others are not;
// an expected 503 logs one warn line without a stack.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { buildApp, type RewardApp } from '../../src/app.ts';
import { acceptsGzip } from '../../src/http/transport.ts';
import { fakeApp, testConfig } from '../support/app.ts';
import { FakeModel, tokenizerModelDir } from '../support/fakes.ts';
import { until } from '../support/until.ts';

const item = { question: 'Add two numbers.', response: '```python\ndef add(a, b):\n    return a + b\n```' };

describe('transport', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ BODY_LIMIT: String(64 * 1024) });
  });
  after(() => service.shutdown());

  const reference = async (items: object[]) =>
    (await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items } })).json();

  it('a JSON body without a content-type is a 415, not parsed', async () => {
    // A string body: inject sends it without a content-type header.
    const res = await service.app.inject({ method: 'POST', url: '/v1/score', body: JSON.stringify({ items: [item] }) });
    assert.equal(res.statusCode, 415, res.body);
    assert.equal(res.json().code, 'unsupported_media_type');
  });

  for (const [encoding, pack] of [['gzip', gzipSync], ['deflate', deflateSync]] as const) {
    it(`Content-Encoding ${encoding}: the body is inflated and scored`, async () => {
      const res = await service.app.inject({
        method: 'POST', url: '/v1/score', body: pack(JSON.stringify({ items: [item, item] })),
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), await reference([item, item]));
    });
  }

  it('a zip bomb (64 KiB limit, 8 MiB inflated from ~8 KiB) is a 413; the service carries on', async () => {
    const bomb = gzipSync(Buffer.concat([Buffer.from('{"items":[{"question":"'), Buffer.alloc(8 * 1024 * 1024, 'a'), Buffer.from('","response":"x"}]}')]));
    assert.ok(bomb.length < 64 * 1024);
    const res = await service.app.inject({ method: 'POST', url: '/v1/score', body: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.json().code, 'body_too_large');
    assert.equal((await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items: [item] } })).statusCode, 200);
  });

  it('a body that does not inflate is a 400; an unknown encoding is a 415', async () => {
    const bad = await service.app.inject({ method: 'POST', url: '/v1/score', body: Buffer.from('not gzip at all'), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().code, 'invalid_request');
    const br = await service.app.inject({ method: 'POST', url: '/v1/score', body: Buffer.from('{}'), headers: { 'content-type': 'application/json', 'content-encoding': 'br' } });
    assert.equal(br.statusCode, 415, br.body);
    assert.match(br.json().error, /br.*gzip and deflate/);
  });

  it('a large answer is gzip-compressed when accepted; small answers and clients that do not accept it get plain JSON', async () => {
    const items = Array.from({ length: 128 }, (_, i) => ({ question: 'q', response: `\`\`\`python\nx = ${i}\n\`\`\`` }));
    const plain = await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items } });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.rawPayload.length >= 8 * 1024, `answer of ${plain.rawPayload.length} bytes`);
    const packed = await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items }, headers: { 'accept-encoding': 'gzip, deflate' } });
    assert.equal(packed.headers['content-encoding'], 'gzip');
    assert.equal(packed.headers.vary, 'accept-encoding');
    assert.ok(packed.rawPayload.length < plain.rawPayload.length / 2);
    assert.deepEqual(JSON.parse(gunzipSync(packed.rawPayload).toString()), plain.json());
    const small = await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items: [item] }, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(small.headers['content-encoding'], undefined);
  });

  it('Accept-Encoding: gzip and * accepted, q=0 refused', () => {
    assert.deepEqual(['gzip', 'br, gzip;q=0.5', '*', 'deflate', 'gzip;q=0', undefined].map((h) => acceptsGzip(h)), [true, true, true, false, false, false]);
  });
});

describe('an expected 503 logs one warn line without a stack', () => {
  it('overloaded: one warn line naming the code, no stack; no error line', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
    const model = new FakeModel();
    const service = await buildApp({ config: testConfig({ MAX_QUEUE_ITEMS: '1', ADMISSION_TIMEOUT_MS: '0' }), modelDir: tokenizerModelDir(), model, logger: { level: 'info', stream } as never });
    await service.warmUp;
    try {
      let release!: () => void;
      model.gate = new Promise<void>((r) => (release = r));
      const running = service.app.inject({ method: 'POST', url: '/v1/score', payload: { items: [item] } });
      await until(() => model.running === 1);
      const queued = service.app.inject({ method: 'POST', url: '/v1/score', payload: { items: [item] } });
      await until(() => service.queue.size === 1);
      const refused = await service.app.inject({ method: 'POST', url: '/v1/score', payload: { items: [item] } });
      assert.equal(refused.statusCode, 503);
      model.gate = undefined;
      release();
      await Promise.all([running, queued]);
      const warns = lines.filter((l) => l.level === 40);
      assert.equal(warns.length, 1, JSON.stringify(lines));
      assert.equal(warns[0].code, 'overloaded');
      assert.doesNotMatch(JSON.stringify(warns[0]), /stack|at .*\.ts:\d+/);
      assert.equal(lines.filter((l) => (l.level as number) >= 50).length, 0);
    } finally {
      await service.shutdown();
    }
  });
});
