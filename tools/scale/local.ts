// `npm run scale:local -- --replicas N --port P`: N replicas of the service (ports P+1..P+N, built
// as `npm start` runs it, with this shell's settings: MODEL_DIR, API_KEY, ...) behind Debian's nginx
// on P with deploy/nginx/nginx.conf. It brings nginx the way `npm test` brings its tools
// (tools/test-deps.mjs), prints each replica's port and PID, and waits for /ready behind the proxy.
// SIGINT or SIGTERM stops everything it started, and only that.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../service-command.ts';
import { LocalCluster } from './cluster.ts';

const { values } = parseArgs({ options: { replicas: { type: 'string', default: '2' }, port: { type: 'string', default: '8080' } } });
const replicas = Number(values.replicas);
const port = Number(values.port);
if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`--replicas must be a positive integer, got ${values.replicas}`);
if (!Number.isInteger(port) || port < 1 || port + replicas > 65535) throw new Error(`--port must leave room for ${replicas} replica ports above it, got ${values.port}`);

if (spawnSync(process.execPath, ['tools/test-deps.mjs', 'nginx'], { cwd: REPO_ROOT, stdio: 'inherit' }).status !== 0) process.exit(1);

console.log(`starting ${replicas} replica(s) on ports ${port + 1}..${port + replicas} and nginx on ${port}`);
const cluster = await LocalCluster.start({ replicas, port, launch: { built: true } });
for (const r of cluster.replicas) console.log(`replica ${r.base}  pid ${r.launched.child.pid}`);
console.log(`nginx   ${cluster.base}  pid ${cluster.nginx.pid}`);
console.log(`ready: ${cluster.base}/ready answers 200 (Ctrl-C stops everything above)`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping the replicas and nginx`);
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// A replica that dies on its own is reported; the rest keep serving (nginx skips it).
for (const [i, r] of cluster.replicas.entries()) {
  r.launched.child.on('exit', (code, signal) => {
    if (!stopping) console.error(`replica ${i} (${r.base}) exited (${code ?? signal}):\n${r.launched.output().slice(-2000)}`);
  });
}
