// The service as a real process on a free port, for tests that need a real client (Prometheus,
// Python) on the other side of a socket. The launcher itself is tools/service-command.ts, shared
// with the benchmarks; tests add quiet, CPU-only defaults and a stop that cannot hang.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort, launch, untilReady, type Launched } from '../../tools/service-command.ts';

export { freePort, REPO_ROOT as ROOT, waitFor } from '../../tools/service-command.ts';

export interface ServiceProcess {
  child: ChildProcess;
  base: string;
  output(): string;
  stop(): Promise<void>;
}

const TEST_ENV = { LOG_LEVEL: 'warn', EXECUTION_PROVIDER: 'cpu' };

/** Spawns the server (from source, or built as `npm start` runs it, with node's own flags) with env, collecting its output; does not wait. */
export function spawnService(env: Record<string, string>, args: string[] = [], opts: { built?: boolean; nodeArgs?: string[] } = {}): Launched {
  return launch({ ...TEST_ENV, ...env }, args, opts);
}

/** Starts the service with env (on env.PORT, else a free port) and waits for /ready. */
export async function startService(env: Record<string, string> = {}, opts: { built?: boolean; nodeArgs?: string[] } = {}): Promise<ServiceProcess> {
  const port = env.PORT ?? String(await freePort());
  const launched = spawnService({ ...env, PORT: port }, [], opts);
  const { child, output } = launched;
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
    await untilReady(launched, base);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}
