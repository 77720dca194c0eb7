// N replicas of the service on ports port+1..port+N behind deploy/nginx on `port`: what
// `npm run scale:local` runs, and what `npm run test:scale` and `npm run bench:scale` measure. It
// stops exactly what it started: its replicas' processes and its nginx.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, untilReady, waitFor, type Launched, type LaunchOptions } from '../service-command.ts';
import { startNginx, type Nginx } from './nginx.ts';

export interface Replica {
  port: number;
  base: string;
  launched: Launched;
}

export interface ClusterOptions {
  replicas: number;
  /** nginx's port; replica i listens on port + 1 + i. */
  port: number;
  /** The replicas' environment, over this process's. */
  env?: NodeJS.ProcessEnv;
  launch?: LaunchOptions;
  /** How long a replica may take to answer /ready (a large model loads for minutes); 120 s when unset. */
  readyTimeoutMs?: number;
}

export class LocalCluster {
  /** The proxy's base URL. */
  readonly base: string;
  readonly replicas: Replica[];
  private constructor(
    private readonly opts: ClusterOptions,
    private readonly dir: string,
    readonly nginx: Nginx,
    replicas: Replica[],
  ) {
    this.base = `http://127.0.0.1:${opts.port}`;
    this.replicas = replicas;
  }

  /** Starts the replicas and nginx, and waits until every replica and the proxy answer /ready. */
  static async start(opts: ClusterOptions): Promise<LocalCluster> {
    const ports = Array.from({ length: opts.replicas }, (_, i) => opts.port + 1 + i);
    const dir = mkdtempSync(join(tmpdir(), 'code-reward-nginx-'));
    const replicas = ports.map((port) => LocalCluster.launchReplica(opts, port));
    let nginx: Nginx | undefined;
    try {
      nginx = await startNginx(dir, opts.port, ports.map((p) => `127.0.0.1:${p}`));
      const cluster = new LocalCluster(opts, dir, nginx, replicas);
      await cluster.untilReady();
      return cluster;
    } catch (err) {
      await Promise.all([...replicas.map((r) => stopChild(r.launched)), nginx?.stop()]);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private static launchReplica(opts: ClusterOptions, port: number): Replica {
    return { port, base: `http://127.0.0.1:${port}`, launched: launch({ ...opts.env, PORT: String(port) }, [], opts.launch) };
  }

  /** Waits for every replica's /ready, then the proxy's. */
  async untilReady(): Promise<void> {
    await Promise.all(this.replicas.map((r) => untilReady(r.launched, r.base, this.opts.readyTimeoutMs ?? 120_000)));
    await waitFor('nginx', async () => {
      if (this.nginx.output().includes('[emerg]')) throw new Error(`nginx: ${this.nginx.output()}`);
      return fetch(`${this.base}/ready`).then((r) => r.status === 200, () => false);
    });
  }

  /** Kills replica i at once (no drain), as a crashed node would go. */
  async kill(i: number): Promise<void> {
    const { child } = this.replicas[i].launched;
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }

  /** Starts replica i again on its port and waits for its /ready. */
  async restart(i: number): Promise<void> {
    const replica = LocalCluster.launchReplica(this.opts, this.replicas[i].port);
    this.replicas[i] = replica;
    await untilReady(replica.launched, replica.base, this.opts.readyTimeoutMs ?? 120_000);
  }

  /** Stops the replicas (SIGTERM, they drain) and nginx, and removes nginx's files. */
  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => stopChild(r.launched)));
    await this.nginx.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function stopChild({ child }: Launched): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await once(child, 'exit');
  clearTimeout(timer);
}
