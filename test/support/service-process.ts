// The service as a real process on a free port, for tests that need a real client (Prometheus,
// Python) on the other side of a socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort, REPO_ROOT, serverCommand } from '../../tools/service-command.ts';

export { freePort, REPO_ROOT as ROOT } from '../../tools/service-command.ts';

/** Polls probe until it answers true; a probe that throws ends the wait with its error. */
export async function waitFor(what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

export interface ServiceProcess {
  child: ChildProcess;
  base: string;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns the server (from source, or built as `npm start` runs it) with env, collecting its output; does not wait. */
export function spawnService(env: Record<string, string>, args: string[] = [], opts = { built: false }): { child: ChildProcess; output(): string } {
  const child = spawn(process.execPath, [...serverCommand(opts), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', EXECUTION_PROVIDER: 'cpu', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

/** Starts the service with env (on env.PORT, else a free port) and waits for /ready. */
export async function startService(env: Record<string, string> = {}, opts = { built: false }): Promise<ServiceProcess> {
  const port = env.PORT ?? String(await freePort());
  const { child, output } = spawnService({ ...env, PORT: port }, [], opts);
  const base = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    child,
    base,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
  try {
    await waitFor('the service', async () => {
      if (child.exitCode !== null) throw new Error(`the service exited ${child.exitCode}: ${output()}`);
      return fetch(`${base}/ready`).then((r) => r.status === 200, () => false);
    });
  } catch (err) {
    await service.stop();
    throw new Error(`${(err as Error).message}\n${output()}`);
  }
  return service;
}
