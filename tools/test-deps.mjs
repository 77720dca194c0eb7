// `npm run test:system`'s pretest: what the system tests need beyond npm, brought by the test command
// itself so that `npm ci && npm run test:system` is the whole set-up. Today that is the prometheus binary (the Grafana
// dashboard's queries run against a real Prometheus) and nginx (the router in front of replicas). As
// root on Debian/Ubuntu they are installed with apt-get; anywhere else the script says what to install
// and fails, so nothing is skipped silently. `node tools/test-deps.mjs nginx` brings only the commands
// named (`npm run scale:local` brings nginx so).
import { spawnSync } from 'node:child_process';

/** Debian package that provides each missing command. */
const NEEDED = [
  { command: 'prometheus', args: ['--version'], debianPackage: 'prometheus', why: 'test/system/prometheus.test.ts runs the Grafana dashboard against it' },
  { command: 'nginx', args: ['-v'], debianPackage: 'nginx', why: 'deploy/nginx routes between replicas in test/scale/nginx.test.ts, npm run test:scale and npm run scale:local' },
];

// Debian puts nginx in /usr/sbin, which a non-root PATH may lack.
const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
const present = ({ command, args }) => spawnSync(command, args, { stdio: 'ignore', env: { ...process.env, PATH } }).status === 0;

const named = process.argv.slice(2);
const missing = NEEDED.filter((need) => (named.length === 0 || named.includes(need.command)) && !present(need));
if (missing.length > 0) {
  const packages = missing.map((m) => m.debianPackage);
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (canInstall) {
    console.error(`npm run test:system: installing the Debian package(s) ${packages.join(' ')} (${missing.map((m) => `${m.command}: ${m.why}`).join('; ')})`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]]) {
      const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (result.status !== 0) {
        console.error(`npm run test:system: apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
        process.exit(1);
      }
    }
  }
  const still = missing.filter((need) => !present(need));
  if (still.length > 0) {
    for (const m of still) console.error(`npm run test:system needs the ${m.command} binary on PATH (${m.why}).`);
    console.error(`Install it, then run npm run test:system again: sudo apt-get install ${still.map((m) => m.debianPackage).join(' ')} (Debian/Ubuntu), or put the binary on PATH.`);
    process.exit(1);
  }
}
