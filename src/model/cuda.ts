// Whether asking ONNX Runtime for CUDA can work here, answered from files alone. Asked and unable,
// ONNX Runtime logs a red "Failed to load library libonnxruntime_providers_shared.so" error of its
// own before it throws; EXECUTION_PROVIDER=auto checks first and says plainly why it chose the CPU,
// and a failed CUDA start names the libraries the provider could not find (diagnoseCudaProvider).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where onnxruntime-node keeps its native libraries, the CUDA provider among them when installed. */
export function ortBinFolder(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The CUDA provider's two libraries: ONNX Runtime loads the shared bridge, which loads the provider. */
export const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;

/** Why CUDA cannot start on this machine, or undefined when it may (ONNX Runtime then decides). */
export function cudaUnavailableReason(binFolder = ortBinFolder(), driverFiles = ['/proc/driver/nvidia/version', '/dev/nvidiactl']): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `onnxruntime-node has no CUDA provider for ${process.platform}/${process.arch}`;
  const provider = join(binFolder, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(provider)) {
    return `onnxruntime-node's CUDA provider is not installed (no ${provider}; npm run setup:cuda installs it)`;
  }
  if (!driverFiles.some((f) => existsSync(f))) return `no NVIDIA driver found (none of ${driverFiles.join(', ')})`;
  return undefined;
}

/**
 * What a CUDA library file is, by its soname: the CUDA runtime's and cuBLAS's majors are the CUDA
 * toolkit's, cuDNN's is its own. libcuda.so.1 is the driver's, which a container runtime mounts at
 * run time rather than an image carrying it.
 */
const ROLES: { pattern: RegExp; role: string; driver?: true }[] = [
  { pattern: /^libcudart\.so\.(\d+)/, role: 'CUDA runtime' },
  { pattern: /^libcublas(?:Lt)?\.so\.(\d+)/, role: 'cuBLAS' },
  { pattern: /^libcudnn[a-z_]*\.so\.(\d+)/, role: 'cuDNN' },
  { pattern: /^libcufft\.so\.(\d+)/, role: 'cuFFT' },
  { pattern: /^libcurand\.so\.(\d+)/, role: 'cuRAND' },
  { pattern: /^libnvrtc[a-z-]*\.so\.(\d+)/, role: 'NVRTC' },
  { pattern: /^libcuda\.so\.(\d+)/, role: 'NVIDIA driver', driver: true },
];

export interface LinkedLibrary {
  /** The soname asked for, e.g. libcudart.so.12. */
  name: string;
  /** Where the dynamic loader finds it; undefined when it does not. */
  path?: string;
  /** 'CUDA runtime 12', 'cuDNN 9', ...; undefined for libraries outside CUDA (libc, libstdc++). */
  role?: string;
  /** The driver's own library: present only where a driver is (or a container runtime mounts it). */
  driver?: boolean;
}

export function libraryRole(name: string): Pick<LinkedLibrary, 'role' | 'driver'> {
  for (const { pattern, role, driver } of ROLES) {
    const m = pattern.exec(name);
    if (m) return { role: `${role} ${m[1]}`, ...(driver && { driver }) };
  }
  return {};
}

/** DT_NEEDED entries of an ELF file (`readelf -d`): what it asks the loader for by name. */
export function parseNeeded(readelfDynamic: string): string[] {
  return [...readelfDynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/** `ldd` lines as soname → path, or undefined for "not found" (its transitive needs included). */
export function parseLdd(ldd: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const line of ldd.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(not found|(\S+))/.exec(line);
    if (m) out.set(m[1], m[2] === 'not found' ? undefined : m[3]);
  }
  return out;
}

export interface ProviderDiagnosis {
  /** The provider library looked at. */
  provider: string;
  /** The CUDA major the provider was built for, read from the libcudart it asks for. */
  cudaMajor?: number;
  /** Its direct needs, resolved. */
  needed: LinkedLibrary[];
  /** Every library, direct or not, the loader cannot find, the driver's aside. */
  missing: LinkedLibrary[];
  /** The driver's libraries the loader cannot find (normal in an image build; fatal at run time). */
  missingDriver: LinkedLibrary[];
}

/** What the CUDA provider in `binFolder` links and which of those libraries this machine lacks (readelf + ldd). */
export function diagnoseCudaProvider(binFolder = ortBinFolder(), env: NodeJS.ProcessEnv = process.env): ProviderDiagnosis {
  const provider = join(binFolder, 'libonnxruntime_providers_cuda.so');
  const needed = parseNeeded(execFileSync('readelf', ['-d', provider], { encoding: 'utf8' }));
  const resolved = new Map<string, string | undefined>();
  for (const lib of CUDA_PROVIDER_LIBRARIES) {
    const file = join(binFolder, lib);
    if (!existsSync(file)) {
      resolved.set(lib, undefined);
      continue;
    }
    for (const [name, path] of parseLdd(runLdd(file, env))) {
      // What lies beside the provider (libonnxruntime.so.1, the shared bridge) is loaded by ONNX
      // Runtime itself before the provider, whether or not the loader's search path reaches it.
      const beside = join(binFolder, name);
      if (!resolved.get(name)) resolved.set(name, path ?? (existsSync(beside) ? beside : undefined));
    }
  }
  const describe = (name: string): LinkedLibrary => ({ name, ...(resolved.get(name) && { path: resolved.get(name) }), ...libraryRole(name) });
  const absent = [...resolved].filter(([, path]) => path === undefined).map(([name]) => describe(name));
  const cudart = needed.map((n) => /^libcudart\.so\.(\d+)/.exec(n)).find((m) => m !== null);
  return {
    provider,
    ...(cudart && { cudaMajor: Number(cudart[1]) }),
    needed: needed.map(describe),
    missing: absent.filter((l) => !l.driver),
    missingDriver: absent.filter((l) => l.driver),
  };
}

function runLdd(file: string, env: NodeJS.ProcessEnv): string {
  // ldd exits non-zero on a file it cannot read as a library; its output still lists what it resolved.
  try {
    return execFileSync('ldd', [file], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? '');
  }
}

/** The diagnosis as lines a person acts on: what the provider needs, what is missing, what to install. */
export function describeDiagnosis(d: ProviderDiagnosis): string[] {
  const lines = [`CUDA provider ${d.provider}: built for ${d.cudaMajor !== undefined ? `CUDA ${d.cudaMajor}` : 'an unknown CUDA version (it names no libcudart)'}`];
  for (const lib of d.needed.filter((l) => l.role)) lines.push(`  needs ${lib.name} (${lib.role}): ${lib.path ?? 'NOT FOUND'}`);
  for (const lib of d.missing.filter((l) => !d.needed.some((n) => n.name === l.name))) {
    lines.push(`  needs ${lib.name}${lib.role ? ` (${lib.role})` : ''} through another library: NOT FOUND`);
  }
  for (const lib of d.missingDriver) lines.push(`  ${lib.name} (${lib.role}) not found: it comes with the NVIDIA driver (a container gets it from the NVIDIA container runtime)`);
  if (d.missing.length > 0) {
    const roles = [...new Set(d.missing.map((l) => l.role ?? l.name))];
    lines.push(`missing: ${roles.join(', ')}. Install them (the nvidia/cuda:${d.cudaMajor ?? 'N'}.x cudnn-runtime images carry all of them) or add their folder to LD_LIBRARY_PATH.`);
  }
  return lines;
}

/**
 * A failed CUDA start explained: ONNX Runtime's own first line, then what setup:cuda would say of
 * the provider's libraries (or that the provider is not installed at all).
 */
export function explainCudaFailure(ortMessage: string, binFolder = ortBinFolder()): string {
  const first = ortMessage.split('\n')[0];
  const absent = CUDA_PROVIDER_LIBRARIES.filter((lib) => !existsSync(join(binFolder, lib)));
  if (absent.length > 0) return `${first}; onnxruntime-node's CUDA provider is not installed (no ${absent.join(', ')} in ${binFolder}): run npm run setup:cuda`;
  try {
    return [first, ...describeDiagnosis(diagnoseCudaProvider(binFolder))].join('\n');
  } catch (err) {
    return `${first} (its libraries could not be inspected: ${(err as Error).message.split('\n')[0]})`;
  }
}
