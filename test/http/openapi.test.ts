// The OpenAPI document is generated from the route schemas: GET /openapi.json and /openapi.yaml serve
// the same document, /docs carries it, every operation is named and described, every request
// example in it is answered 200 with a body that conforms to the documented answer, every route but
// the probes and the reference needs the bearer token, and every scoring route answers a full queue with 503 and
// Retry-After, as documented.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from '../support/app.ts';
import { FakeModel } from '../support/fakes.ts';
import { openapiDocument } from '../support/openapi.ts';
import { until } from '../support/until.ts';

type Schema = Record<string, any>;
const spec = await openapiDocument();
const PROBES = new Set(['/health', '/ready', '/metrics']);
/** Open without the key: the probes, and the reference, which asks for the key in its page. */
const OPEN_ROUTES = new Set([...PROBES, '/docs', '/openapi.json', '/openapi.yaml']);

function deref(node: any): any {
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    node = node.$ref.replace(/^#\//, '').split('/').reduce((o: any, k: string) => o?.[k], spec);
  }
  return node;
}

/** Where value breaks the schema (type, required, nested), or undefined when it conforms. */
function violation(value: unknown, schema: any, at = '$'): string | undefined {
  schema = deref(schema);
  if (schema.anyOf) return schema.anyOf.some((s: unknown) => violation(value, s, at) === undefined) ? undefined : `${at}: matches no anyOf branch`;
  if (schema.enum && !schema.enum.includes(value)) return `${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`;
  const types = [schema.type ?? []].flat();
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (types.length && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) return `${at}: ${actual}, expected ${types.join('|')}`;
  if (actual === 'array' && schema.items) {
    for (const [i, v] of (value as unknown[]).entries()) {
      const bad = violation(v, schema.items, `${at}[${i}]`);
      if (bad) return bad;
    }
  }
  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    const missing = (schema.required ?? []).find((k: string) => !(k in obj));
    if (missing) return `${at}: missing ${missing}`;
    for (const [k, v] of Object.entries(obj)) {
      const bad = schema.properties?.[k] && violation(v, schema.properties[k], `${at}.${k}`);
      if (bad) return bad;
    }
  }
  return undefined;
}

interface Operation { method: string; path: string; op: Schema }
const operations: Operation[] = Object.entries(spec.paths as Record<string, Record<string, Schema>>)
  .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
const requestSchema = (op: Schema) => op.requestBody?.content?.['application/json']?.schema;
const requestExample = (op: Schema) => op.requestBody?.content?.['application/json']?.example;
const jsonResponse = (op: Schema, code: string) => deref(op.responses[code])?.content?.['application/json']?.schema;

describe('the OpenAPI document', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp();
  });
  after(() => service.shutdown());

  it('is OpenAPI 3.1, served as JSON and as YAML alike', async () => {
    assert.equal(spec.openapi, '3.1.0');
    const json = await service.app.inject({ method: 'GET', url: '/openapi.json' });
    const yaml = await service.app.inject({ method: 'GET', url: '/openapi.yaml' });
    assert.match(String(json.headers['content-type']), /^application\/json/);
    assert.match(String(yaml.headers['content-type']), /^application\/yaml/);
    assert.deepEqual(parse(yaml.body), json.json());
    assert.deepEqual(json.json(), spec);
  });

  it('GET /docs is a self-contained page carrying the same document', async () => {
    const res = await service.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    const embedded = /<script id="spec" type="application\/json">([\s\S]*?)<\/script>/.exec(res.body);
    assert.ok(embedded, 'the spec is embedded in the page');
    assert.deepEqual(JSON.parse(embedded[1]), spec);
    assert.doesNotMatch(res.body, /(src|href)="(https?:)?\/\//, 'nothing is loaded from another host');
  });

  it('GET / lists exactly the documented operations, and each is a route the app serves', async () => {
    const root = (await service.app.inject({ method: 'GET', url: '/' })).json();
    assert.deepEqual([...root.routes].sort(), operations.map((o) => `${o.method} ${o.path}`).sort());
    for (const { method, path } of operations) assert.ok(service.app.hasRoute({ method: method as 'GET', url: path }), `${method} ${path}`);
  });

  it('names every operation once, and describes it and every answer it documents', () => {
    const ids = operations.map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const { method, path, op } of operations) {
      const where = `${method} ${path}`;
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z0-9]+$/, where);
      assert.ok(op.summary?.length > 10, `${where}: summary`);
      for (const [code, response] of Object.entries<Schema>(op.responses)) {
        assert.notEqual(response.description, 'Default Response', `${where} ${code}: description`);
        // The probes answer a status, 503 included; every other answer but a 200 is an error.
        if (code !== '200' && !PROBES.has(path)) assert.deepEqual(response.content?.['application/json']?.schema?.required, ['error', 'code'], `${where} ${code}: the error shape`);
      }
      if (requestSchema(op)) assert.notEqual(requestExample(op), undefined, `${where}: a request example`);
    }
  });

  for (const { method, path, op } of operations.filter((o) => requestExample(o.op) !== undefined)) {
    it(`${method} ${path}: the document's example is answered 200 with a body that conforms to it`, async () => {
      const res = await service.app.inject({ method, url: path, payload: requestExample(op) });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(violation(res.json(), jsonResponse(op, '200')), undefined);
      assert.equal(violation(requestExample(op), requestSchema(op)), undefined, 'the example itself conforms');
      for (const [name, header] of Object.entries<Schema>(op.responses['200'].headers ?? {})) assert.ok(res.headers[name] !== undefined, `header ${name}`);
    });
  }
});

describe('every route but the probes and the reference needs the bearer token', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp({ API_KEY: 's3cret' });
  });
  after(() => service.shutdown());

  for (const { method, path, op } of operations) {
    it(`${method} ${path}`, async () => {
      const payload = requestExample(op);
      const without = await service.app.inject({ method, url: path, payload });
      const wrong = await service.app.inject({ method, url: path, payload, headers: { authorization: 'Bearer s3cre' } });
      const right = await service.app.inject({ method, url: path, payload, headers: { authorization: 'Bearer s3cret' } });
      if (OPEN_ROUTES.has(path)) {
        assert.equal(without.statusCode, 200);
        assert.ok(!('401' in op.responses));
      } else {
        for (const res of [without, wrong]) {
          assert.equal(res.statusCode, 401);
          assert.deepEqual(res.json(), { error: res.json().error, code: 'unauthorized' });
        }
        assert.ok('401' in op.responses, 'the 401 is documented');
      }
      assert.equal(right.statusCode, 200, right.body);
    });
  }
});

describe('every scoring route answers a full queue with 503 and Retry-After', () => {
  let service: RewardApp;
  const model = new FakeModel();
  before(async () => {
    // One item runs while four wait, and the queue holds four: any further item is refused. Every
    // case sends the same item, which must reach the model each time: no result cache.
    service = await fakeApp({ MAX_QUEUE_ITEMS: '4', ADMISSION_TIMEOUT_MS: '0', RETRY_AFTER_S: '7', RESULT_CACHE_ITEMS: '0' }, model);
  });
  after(() => service.shutdown());

  // The localization reward and the tokenizer routes run no model: they never wait in the queue.
  const NO_MODEL = new Set(['/v1/localization', '/tokenize', '/detokenize']);
  const scoring = operations.filter((o) => o.method === 'POST' && !NO_MODEL.has(o.path));
  it('covers every POST route that runs the model, and each documents the 503', () => {
    assert.deepEqual(scoring.map((o) => o.path).sort(), ['/classify', '/get_reward', '/pooling', '/rerank', '/score', '/v1/classify', '/v1/embeddings', '/v1/rank', '/v1/rerank', '/v1/score', '/v2/rerank']);
    for (const { op } of scoring) assert.ok('503' in op.responses);
  });

  for (const { method, path, op } of scoring) {
    it(`${method} ${path}`, async () => {
      const item = { question: 'q', response: '```python\nx = 1\n```' };
      let release!: () => void;
      model.gate = new Promise<void>((r) => (release = r));
      const running = service.app.inject({ method: 'POST', url: '/score', payload: { items: [item] } });
      await until(() => model.running === 1);
      const waiting = service.app.inject({ method: 'POST', url: '/score', payload: { items: [item, item, item, item] } });
      await until(() => service.queue.size === 4);
      const refused = await service.app.inject({ method, url: path, payload: requestExample(op) });
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.headers['retry-after'], '7');
      assert.equal(refused.json().code, 'overloaded');
      model.gate = undefined;
      release();
      assert.deepEqual([(await running).statusCode, (await waiting).statusCode], [200, 200]);
      const later = await service.app.inject({ method, url: path, payload: requestExample(op) });
      assert.equal(later.statusCode, 200, 'served again once the queue has room');
    });
  }
});
