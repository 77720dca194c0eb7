// How tests and benchmarks start the service as a process: a free port, node's arguments for either
// the TypeScript source (through tsx) or the build that `npm start` runs, the spawn and the wait for
// /ready. test/support/service-process.ts and bench/lib/service-process.ts add only what each needs.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/**
 * Node's arguments to run the server, from REPO_ROOT. `built` runs what `npm start` runs: dist/ as
 * plain JavaScript, compiled first when a source is newer than the last build (tools/build-if-stale.mjs);
 * otherwise the source runs through tsx.
 */
export function serverCommand(opts: { built: boolean }): string[] {
  if (!opts.built) return ['--import', 'tsx', 'src/server.ts'];
  execFileSync(process.execPath, ['tools/build-if-stale.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
  return ['dist/server.js'];
}

export interface LaunchOptions {
  /** Run as `npm start` runs it (dist/); from source otherwise. */
  built?: boolean;
  /** Node's own flags, before the script. */
  nodeArgs?: string[];
  /** Where stdout and stderr go (a benchmark's log); kept in memory when absent. */
  logPath?: string;
}

export interface Launched {
  child: ChildProcess;
  /** Everything the service has written so far, stdout and stderr together. */
  output(): string;
}

/** Spawns the server with `env` over this process's environment; does not wait. */
export function launch(env: NodeJS.ProcessEnv, args: string[] = [], opts: LaunchOptions = {}): Launched {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...serverCommand({ built: opts.built ?? false }), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (opts.logPath !== undefined) {
    const log = createWriteStream(opts.logPath);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const logPath = opts.logPath;
    return { child, output: () => readFileSync(logPath, 'utf8') };
  }
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

/** Polls probe until it answers true; a probe that throws ends the wait with its error. */
export async function waitFor(what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

/** Waits until `base`/ready answers 200; a service that exits first, or never gets there, ends the wait with the tail of its output. */
export async function untilReady({ child, output }: Launched, base: string, ms = 60_000): Promise<void> {
  try {
    await waitFor('the service', async () => {
      if (child.exitCode !== null) throw new Error(`the service exited ${child.exitCode}`);
      return fetch(`${base}/ready`).then((r) => r.status === 200, () => false);
    }, ms);
  } catch (err) {
    throw new Error(`${(err as Error).message}:\n${output().slice(-4000)}`);
  }
}
