// deploy/nginx/nginx.conf run locally: the same file with the local replicas in its upstream block,
// its listen port, and temp paths under a directory of its own, so that nginx runs without touching
// /etc, /var or /run (an unprivileged user can run it).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../service-command.ts';

export const NGINX_CONF = join(REPO_ROOT, 'deploy/nginx/nginx.conf');
/** Debian installs nginx in /usr/sbin, which a non-root PATH may lack. */
const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

const SERVER_LINE = /^([ \t]*)server [^\s;]+((?: [^;\n]*)?);\n/gm;

/** deploy/nginx/nginx.conf with `upstreams` (host:port) as its replicas, listening on 127.0.0.1:listenPort, with temp paths under dir. */
export function localNginxConfig(template: string, listenPort: number, upstreams: string[], dir: string): string {
  const servers = [...template.matchAll(SERVER_LINE)];
  if (servers.length === 0 || !/^\s*listen \d+;$/m.test(template) || !/^http \{$/m.test(template)) {
    throw new Error(`${NGINX_CONF}: expected an upstream block with server lines, a "listen PORT;" and "http {"`);
  }
  const [, indent, params] = servers[0];
  let first = true;
  return template
    .replace(SERVER_LINE, () => {
      if (!first) return '';
      first = false;
      return upstreams.map((u) => `${indent}server ${u}${params};\n`).join('');
    })
    .replace(/^(\s*)listen \d+;$/m, `$1listen 127.0.0.1:${listenPort};`)
    .replace(/^http \{$/m, ['http {', ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(dir, 'temp', t)};`)].join('\n'));
}

export interface Nginx {
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** Runs nginx in the foreground (its master is the child) on listenPort in front of `upstreams`, its files under dir. */
export async function startNginx(dir: string, listenPort: number, upstreams: string[]): Promise<Nginx> {
  mkdirSync(join(dir, 'temp'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, localNginxConfig(readFileSync(NGINX_CONF, 'utf8'), listenPort, upstreams, dir));
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-e', 'stderr', '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], {
    env: { ...process.env, PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const [spawned] = await Promise.race([once(child, 'spawn').then(() => [true]), once(child, 'error').then(([e]) => { throw e; })]);
  if (!spawned || child.pid === undefined) throw new Error('nginx did not start');
  return {
    pid: child.pid,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM is nginx's fast shutdown: the master stops its workers, then exits.
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
