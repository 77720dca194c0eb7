// The service under test as a child process, run as `npm start` runs it (built into dist/, then
// plain node), with its log in a file, its memory, and the execution provider it chose. The spawn
// and the wait for /ready are tools/service-command.ts, as the tests use them.
import { freePort, launch, untilReady } from '../../tools/service-command.ts';
import { memoryOf, resetPeakOf } from './proc.ts';

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
  const env = { ...opts.env, ...(opts.modelDir ? { MODEL_DIR: opts.modelDir } : {}), PORT: String(port), HOST: '127.0.0.1' };
  const launched = launch(env, [], { built: true, nodeArgs: opts.nodeArgs, logPath: opts.logPath });
  const { child } = launched;
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => {
    // Anything else on a shared machine that signals the service would otherwise look like a bench failure.
    if (!stopping) console.error(`service (pid ${child.pid}) exited before the bench stopped it (code ${code}, signal ${signal}; a SIGTERM from elsewhere shows as "draining" in the log); see ${opts.logPath}`);
    resolve(code);
  }));
  const pid = child.pid!;
  const base = `http://127.0.0.1:${port}`;
  try {
    await untilReady(launched, base, READY_TIMEOUT_MS);
  } catch (err) {
    stopping = true;
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n(the whole log: ${opts.logPath})`);
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
      return exited;
    },
  };
}
