// How tests and benchmarks start the service as a process: a free port, and node's arguments for
// either the TypeScript source (through tsx) or the build that `npm start` runs.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
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
