// The service under test as a child process, run as `npm start` runs it (built into dist/, then
// plain node), and its readiness.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, serverCommand } from '../../tools/service-command.ts';
import { memoryOf, resetPeakOf } from './proc.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 180_000;

export interface ServiceHandle {
  pid: number;
  base: string;
  logPath: string;
  /** The execution provider the service reports in /info (cpu, cuda). */
  provider: string;
  memory(): { rss: number; hwm: number };
  resetPeak(): boolean;
  stop(): Promise<number | null>;
}

/** Starts the built server on a free port and waits for /ready; modelDir unset keeps MODEL_DIR's own default. */
export async function startService(opts: { modelDir?: string; env: NodeJS.ProcessEnv; nodeArgs?: string[]; logPath: string }): Promise<ServiceHandle> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...serverCommand({ built: true })], {
    cwd: REPO,
    env: { ...opts.env, ...(opts.modelDir ? { MODEL_DIR: opts.modelDir } : {}), PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(opts.logPath);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => {
    // Anything else on a shared machine that signals the service would otherwise look like a bench failure.
    if (!stopping) console.error(`service (pid ${child.pid}) exited before the bench stopped it (code ${code}, signal ${signal}; a SIGTERM from elsewhere shows as "draining" in the log); see ${opts.logPath}`);
    resolve(code);
  }));
  const pid = child.pid!;
  const base = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let dead = false;
  void exited.then(() => { dead = true; });
  for (;;) {
    if (dead) throw new Error(`service exited before /ready; see ${opts.logPath}:\n${readFileSync(opts.logPath, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service not ready after ${READY_TIMEOUT_MS / 1000}s; see ${opts.logPath}`);
    }
    try {
      if ((await fetch(`${base}/ready`)).status === 200) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const info = (await (await fetch(`${base}/info`)).json()) as { execution_provider: string };
  return {
    pid,
    base,
    logPath: opts.logPath,
    provider: info.execution_provider,
    memory: () => memoryOf(pid),
    resetPeak: () => resetPeakOf(pid),
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      const code = await exited;
      log.end();
      return code;
    },
  };
}
