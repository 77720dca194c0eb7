// Request and connection timeouts on a real socket: uploads that stall halfway are answered 408 in
// the documented error shape and closed, and the service's live heap and buffers (read after a collection)
// returns to where it was; an answer slower than REQUEST_TIMEOUT_MS is not cut; a connection that
// sends nothing is closed; a normal request succeeds afterwards.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startService, type ServiceProcess } from '../support/service-process.ts';

const MiB = 1024 * 1024;
const STALLED = 10;
const SENT_EACH = 4 * MiB;

/** A raw connection and everything the server wrote on it until it closed. */
function rawConnection(port: number): { socket: Socket; received: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (d) => (data += d));
  socket.on('error', () => {});
  return { socket, received: once(socket, 'close').then(() => data) };
}

describe('timeouts (REQUEST_TIMEOUT_MS=4000)', { timeout: 120_000 }, () => {
  let service: ServiceProcess;
  let port: number;
  before(async () => {
    // MAX_WAIT_MS holds a lone item's batch 5 s: every answer is slower than the request timeout.
    service = await startService(
      { REQUEST_TIMEOUT_MS: '4000', CONNECTION_TIMEOUT_MS: '8000', MAX_WAIT_MS: '5000', ADMISSION_TIMEOUT_MS: '6000', PREP_THREADS: '1' },
      { nodeArgs: ['--expose-gc', '--import', './test/support/live-heap-on-signal.mjs'] },
    );
    port = Number(new URL(service.base).port);
  });
  after(() => service.stop());

  /** The service's live heap after a full collection. */
  async function liveHeap(): Promise<number> {
    const seen = service.output().length;
    service.child.kill('SIGUSR2');
    for (;;) {
      const line = /live-heap (\d+)\n/.exec(service.output().slice(seen));
      if (line) return Number(line[1]);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const score = () => fetch(`${service.base}/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ question: 'q', response: '```python\nprint(1)\n```' }] }),
  });

  it('ten uploads stalled halfway: each is answered 408 {error, code} and closed, and the heap they took is freed', async () => {
    assert.equal((await score()).status, 200);
    const baseline = await liveHeap();
    const slow = score(); // answered after MAX_WAIT_MS, longer than REQUEST_TIMEOUT_MS
    const head = `POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 * SENT_EACH}\r\n\r\n`;
    const stalled = Array.from({ length: STALLED }, () => {
      const conn = rawConnection(port);
      conn.socket.write(head + '{"items":[{"question":"' + 'a'.repeat(SENT_EACH - 23));
      return conn;
    });
    // While they stall, the service holds what they sent (the measure sees it).
    let held = 0;
    while (held < (STALLED * SENT_EACH) / 2 && stalled.every((c) => !c.socket.closed)) held = (await liveHeap()) - baseline;
    assert.ok(held >= (STALLED * SENT_EACH) / 2, `held ${held} bytes before the timeout closed the uploads`);

    for (const answer of await Promise.all(stalled.map((c) => c.received))) {
      assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      assert.deepEqual(Object.keys(body).sort(), ['code', 'error']);
      assert.equal(body.code, 'request_timeout');
      assert.match(body.error, /REQUEST_TIMEOUT_MS \(4000 ms\)/);
    }
    // The service lets go once it has seen each close, in a later turn of its loop than the client's.
    let left = Infinity;
    for (const deadline = Date.now() + 10_000; left >= (STALLED * SENT_EACH) / 10 && Date.now() < deadline;) left = (await liveHeap()) - baseline;
    assert.ok(left < (STALLED * SENT_EACH) / 10, `still held ${left} bytes 10 s after the uploads were closed (had ${held})`);

    const answered = await slow;
    assert.equal(answered.status, 200, 'an answer slower than REQUEST_TIMEOUT_MS is not cut');
    assert.equal((await score()).status, 200);
  });

  it('a connection that sends nothing is closed; a normal request succeeds afterwards', async () => {
    const silent = rawConnection(port);
    await silent.received;
    assert.equal((await score()).status, 200);
  });
});
