// npm run setup:cuda [-- --check-only] [--ort-dir DIR]
//
// Installs onnxruntime-node's CUDA provider the way its own install script does (that script, with
// ONNXRUNTIME_NODE_INSTALL set to the manifest its metadata lists for this platform: it fetches
// libonnxruntime_providers_{cuda,shared}.so from the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet package
// of the same version), which package.json's allowScripts keeps npm from running. Then checks, with
// readelf and ldd, that every library the provider needs is found, and names what is missing: the
// CUDA runtime, cuBLAS, cuDNN, with their major versions. Exits 1 when the install or a library fails.
// --check-only skips the install; --ort-dir points at another onnxruntime-node folder (tests).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CUDA_PROVIDER_LIBRARIES, describeDiagnosis, diagnoseCudaProvider } from '../src/model/cuda.ts';

interface InstallMetadata {
  requirements: Record<string, string[]>;
  manifests: Record<string, Record<string, { package: string; path: string }>>;
  packages: Record<string, { name: string; versions: { feed: string; version: string }[] }>;
  feeds: Record<string, { index: string }>;
}

function parseArgs(argv: string[]): { checkOnly: boolean; ortDir: string } {
  let checkOnly = false;
  let ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check-only') checkOnly = true;
    else if (argv[i] === '--ort-dir' && argv[i + 1]) ortDir = argv[++i];
    else fail(`unknown argument ${argv[i]} (usage: setup:cuda [--check-only] [--ort-dir DIR])`);
  }
  return { checkOnly, ortDir };
}

function fail(message: string): never {
  process.stderr.write(`setup:cuda: ${message}\n`);
  process.exit(1);
}

function install(ortDir: string, binFolder: string, metadata: InstallMetadata, manifestName: string): void {
  const manifest = metadata.manifests[`${process.platform}/${process.arch}:${manifestName}`];
  const source = metadata.packages[Object.values(manifest)[0].package];
  const { feed, version } = source.versions[0];
  const what = `${source.name} ${version} from ${metadata.feeds[feed].index}`;
  process.stdout.write(`setup:cuda: installing the ${manifestName} CUDA provider with onnxruntime-node's install script (${what})\n`);
  const run = spawnSync(process.execPath, [join(ortDir, 'script', 'install.js')], {
    cwd: ortDir,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: manifestName },
    encoding: 'utf8',
  });
  process.stdout.write(run.stdout);
  if (run.status === 0) return;
  const reason = /^\w*Error: .*$/m.exec(run.stderr)?.[0] ?? run.stderr.trim().split('\n').pop() ?? `exit ${run.status}`;
  const nupkg = `${source.name.toLowerCase()}.${version}.nupkg`;
  fail([
    `could not install the CUDA provider: ${reason}`,
    `  The install downloads ${what}; without network it cannot. Elsewhere, fetch ${nupkg}`,
    `  (a zip; https://api.nuget.org/v3-flatcontainer/${source.name.toLowerCase()}/${version}/${nupkg}), copy`,
    ...Object.entries(manifest).map(([file, { path }]) => `    ${path} -> ${join(binFolder, file)}`),
    '  and run `npm run setup:cuda -- --check-only`.',
  ].join('\n'));
}

function main(): void {
  const { checkOnly, ortDir } = parseArgs(process.argv.slice(2));
  const metadata = createRequire(join(ortDir, 'package.json'))('./script/install-metadata.js') as InstallMetadata;
  const platform = `${process.platform}/${process.arch}`;
  const manifestName = metadata.requirements[platform]?.[0];
  if (!manifestName) fail(`onnxruntime-node ships no CUDA provider for ${platform}`);
  const binFolder = join(ortDir, 'bin', 'napi-v6', process.platform, process.arch);
  const present = CUDA_PROVIDER_LIBRARIES.every((lib) => existsSync(join(binFolder, lib)));
  if (!present && !checkOnly) install(ortDir, binFolder, metadata, manifestName);
  const absent = CUDA_PROVIDER_LIBRARIES.filter((lib) => !existsSync(join(binFolder, lib)));
  if (absent.length > 0) fail(`${absent.join(' and ')} not in ${binFolder}: the CUDA provider is not installed (run npm run setup:cuda without --check-only)`);
  const diagnosis = diagnoseCudaProvider(binFolder);
  process.stdout.write(describeDiagnosis(diagnosis).join('\n') + '\n');
  if (diagnosis.missing.length > 0) process.exit(1);
  process.stdout.write(`setup:cuda: every library the CUDA provider needs is found${diagnosis.missingDriver.length > 0 ? ' (the driver aside)' : ''}\n`);
}

main();
