// openapi.yaml is the contract: the served document is the file, the routes the app registers are the
// paths it lists, each route's own JSON schemas agree with it (required fields, properties, types,
// enums, defaults, error codes), every request example in it is answered 200 with a body that
// conforms to it, every route but the probes and the reference (/docs, /openapi.yaml) needs the bearer token, and every scoring route
// answers a full queue with 503 and Retry-After.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { RewardApp } from '../src/app.ts';
import { OPENAPI_PATH } from '../src/http/routes/docs.ts';
import { fakeApp } from './support/app.ts';
import { FakeModel } from './support/fakes.ts';
import { until } from './support/until.ts';

type Schema = Record<string, any>;
const yamlText = readFileSync(OPENAPI_PATH, 'utf8');
const spec = parse(yamlText);
const OPEN_ROUTES = new Set(['/health', '/ready', '/metrics', '/docs', '/openapi.yaml']);

function deref(node: any): any {
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    node = node.$ref.replace(/^#\//, '').split('/').reduce((o: any, k: string) => o?.[k], spec);
  }
  return node;
}

const sorted = (v: unknown) => (Array.isArray(v) ? [...v].sort() : v);

/** What a schema says about data, with descriptions and $refs gone, so two spellings compare equal. */
function shape(node: any): any {
  node = deref(node);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const key of ['type', 'enum', 'required', 'additionalProperties', 'minItems', 'default']) {
    if (node[key] !== undefined) out[key] = sorted(node[key]);
  }
  if (node.properties) out.properties = Object.fromEntries(Object.keys(node.properties).sort().map((k) => [k, shape(node.properties[k])]));
  if (node.items) out.items = shape(node.items);
  if (node.anyOf) out.anyOf = node.anyOf.map(shape);
  return out;
}

/** Where value breaks the schema (type, required, nested), or undefined when it conforms. */
function violation(value: unknown, schema: any, at = '$'): string | undefined {
  schema = deref(schema);
  if (schema.anyOf) return schema.anyOf.some((s: unknown) => violation(value, s, at) === undefined) ? undefined : `${at}: matches no anyOf branch`;
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

describe('openapi.yaml', () => {
  let service: RewardApp;
  before(async () => {
    service = await fakeApp();
  });
  after(() => service.shutdown());

  it('is OpenAPI 3.1 and GET /openapi.yaml serves the file as it is', async () => {
    assert.equal(spec.openapi, '3.1.0');
    const res = await service.app.inject({ method: 'GET', url: '/openapi.yaml' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/yaml/);
    assert.equal(res.body, yamlText);
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

  it('documents exactly the routes the app serves', () => {
    const served = service.app.routeCatalog.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`).sort();
    assert.deepEqual(served, operations.map((o) => `${o.method} ${o.path}`).sort());
  });

  for (const { method, path, op } of operations) {
    it(`${method} ${path}: the route's schemas agree with the document`, () => {
      const route = service.app.routeCatalog.find((r) => r.method === method && r.url === path)!;
      const routeSchema = (route.schema ?? {}) as Schema;
      if (routeSchema.body) {
        assert.equal(op.requestBody?.required, true);
        assert.deepEqual(shape(requestSchema(op)), shape(routeSchema.body));
      } else {
        assert.equal(op.requestBody, undefined);
      }
      const routeCodes = Object.keys(routeSchema.response ?? {}).map(String);
      assert.deepEqual(Object.keys(op.responses).sort(), [...new Set([...routeCodes, '200'])].sort(), 'status codes');
      for (const code of routeCodes.filter((c) => c !== '200')) {
        assert.deepEqual(sorted(deref(jsonResponse(op, code)).required), sorted(routeSchema.response[code].required), `body of ${code}`);
      }
      if (routeSchema.response?.[200]) assert.deepEqual(shape(jsonResponse(op, '200')), shape(routeSchema.response[200]));
    });
  }

  for (const { method, path, op } of operations.filter((o) => requestExample(o.op) !== undefined)) {
    it(`${method} ${path}: the document's example is answered 200 with a body that conforms to it`, async () => {
      const res = await service.app.inject({ method, url: path, payload: requestExample(op) });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(violation(res.json(), jsonResponse(op, '200')), undefined);
      assert.equal(violation(requestExample(op), requestSchema(op)), undefined, 'the example itself conforms');
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
