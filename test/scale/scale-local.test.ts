// `npm run scale:local -- --replicas 2 --port P` as a user runs it: it prints each replica's port and
// PID and nginx's, answers /ready behind the proxy, and on SIGINT stops exactly the processes it
// printed, and exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { freePort, REPO_ROOT, waitFor } from '../../tools/service-command.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run scale:local', () => {
  it('prints ports and PIDs, serves /ready through nginx, and SIGINT stops what it started', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/scale/local.ts', '--replicas', '2', '--port', String(port)], {
      cwd: REPO_ROOT,
      env: { ...process.env, EXECUTION_PROVIDER: 'cpu', LOG_LEVEL: 'warn', INTRA_OP_THREADS: '1', PREP_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await waitFor('scale:local', async () => {
        if (child.exitCode !== null) throw new Error(`scale:local exited ${child.exitCode}:\n${out}`);
        return out.includes('ready:');
      }, 200_000);
      const replicas = [...out.matchAll(/^replica http:\/\/127\.0\.0\.1:(\d+)\s+pid (\d+)$/gm)].map((m) => ({ port: Number(m[1]), pid: Number(m[2]) }));
      const nginx = /^nginx\s+http:\/\/127\.0\.0\.1:(\d+)\s+pid (\d+)$/m.exec(out);
      assert.deepEqual(replicas.map((r) => r.port), [port + 1, port + 2], out);
      assert.ok(nginx, out);
      assert.equal(Number(nginx[1]), port);
      const pids = [...replicas.map((r) => r.pid), Number(nginx[2])];
      assert.ok(pids.every(alive), 'every printed process runs');
      assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 200);

      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0, out);
      assert.deepEqual(pids.filter(alive), [], 'no process it started is left');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
