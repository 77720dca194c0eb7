// deploy/nginx/nginx.conf run by a real nginx (tools/scale/nginx.ts) in front of three stub replicas
// that answer with their own index: requests with one x-reward-group go to one replica and the keys
// spread; requests without it are spread, not piled on one; a POST answered 503 or refused moves to
// another replica, and only the dead replica's keys move; tries are bounded; connections are kept
// alive; an over-limit body is refused by nginx itself; when no replica can take a request, the
// client gets the service's overload answer (503, Retry-After).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, waitFor } from '../../tools/service-command.ts';
import { startNginx, type Nginx } from '../../tools/scale/nginx.ts';

type Mode = 'ok' | '503';

interface Stub {
  server: Server;
  port: number;
  mode: Mode;
  requests: number;
  connections: number;
}

async function startStub(index: number, port = 0): Promise<Stub> {
  const stub: Stub = { server: undefined as unknown as Server, port, mode: 'ok', requests: 0, connections: 0 };
  stub.server = createServer((req, res) => {
    stub.requests++;
    req.resume();
    req.on('end', () => {
      if (stub.mode === '503') res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"queue full","code":"overloaded"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ replica: index }));
    });
  });
  stub.server.on('connection', () => stub.connections++);
  stub.server.listen(port, '127.0.0.1');
  await once(stub.server, 'listening');
  stub.port = (stub.server.address() as { port: number }).port;
  return stub;
}

describe('deploy/nginx/nginx.conf in a real nginx', () => {
  let stubs: Stub[] = [];
  let nginx: Nginx;
  let base = '';
  const dir = mkdtempSync(join(tmpdir(), 'nginx-test-'));

  before(async () => {
    stubs = await Promise.all([0, 1, 2].map((i) => startStub(i)));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    nginx = await startNginx(dir, port, stubs.map((s) => `127.0.0.1:${s.port}`));
    await waitFor('nginx', async () => fetch(`${base}/ready`, { method: 'POST' }).then((r) => r.ok, () => false));
    for (const s of stubs) s.requests = 0;
  });

  after(async () => {
    await nginx?.stop();
    for (const s of stubs) s.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (key?: string, body = '{}') => {
    const res = await fetch(`${base}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'x-reward-group': key }) }, body });
    const answer = (await res.json()) as { replica?: number; code?: string };
    return { status: res.status, replica: answer.replica ?? -1, code: answer.code, retryAfter: res.headers.get('retry-after') };
  };
  const keys = Array.from({ length: 30 }, (_, i) => `group-${i}`);
  let home = new Map<string, number>();

  it('every request with one key goes to one replica, and the keys spread over all three', async () => {
    for (let round = 0; round < 3; round++) {
      for (const key of keys) {
        const { replica } = await post(key);
        if (round === 0) home.set(key, replica);
        else assert.equal(replica, home.get(key), key);
      }
    }
    assert.deepEqual(new Set(home.values()), new Set([0, 1, 2]));
  });

  it('requests without the key are spread over the replicas, not piled on one', async () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 30; i++) counts[(await post()).replica]++;
    for (const c of counts) assert.ok(c >= 5, `answers per replica: ${counts}`);
  });

  it('connections to the replicas are kept alive', () => {
    const requests = stubs.reduce((n, s) => n + s.requests, 0);
    const connections = stubs.reduce((n, s) => n + s.connections, 0);
    assert.ok(connections * 5 < requests, `${connections} connections for ${requests} requests`);
  });

  it('a body over the service\'s BODY_LIMIT (32 MiB) is refused by nginx with the service\'s 413 answer', async () => {
    const before = stubs.reduce((n, s) => n + s.requests, 0);
    const refused = await post('big', 'x'.repeat(32 * 1024 * 1024 + 1));
    assert.deepEqual([refused.status, refused.code], [413, 'body_too_large']);
    assert.equal(stubs.reduce((n, s) => n + s.requests, 0), before);
  });

  it('a replica that is down: its keys go to another replica, every other key stays', async () => {
    const down = 1;
    stubs[down].server.closeAllConnections();
    stubs[down].server.close();
    await once(stubs[down].server, 'close');
    for (const key of keys) {
      const { status, replica } = await post(key);
      assert.equal(status, 200, key);
      if (home.get(key) === down) assert.notEqual(replica, down, key);
      else assert.equal(replica, home.get(key), key);
    }
    stubs[down] = await startStub(down, stubs[down].port);
  });

  it('a POST answered 503 is sent to the next replica (scoring is idempotent); at most 3 tries in all', async () => {
    stubs[0].mode = '503';
    const key = keys.find((k) => home.get(k) === 0)!;
    const before0 = stubs[0].requests;
    const answer = await post(key);
    assert.equal(answer.status, 200);
    assert.notEqual(answer.replica, 0);
    assert.equal(stubs[0].requests - before0, 1);

    for (const s of stubs) s.mode = '503';
    const total = () => stubs.reduce((n, s) => n + s.requests, 0);
    const beforeAll = total();
    const refused = await post('another key');
    assert.deepEqual([refused.status, refused.code, refused.retryAfter], [503, 'overloaded', '1']);
    assert.ok(total() - beforeAll <= 3, `${total() - beforeAll} tries`);
  });
});
