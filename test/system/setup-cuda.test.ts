// npm run setup:cuda and the CUDA failure diagnosis against a stub provider directory: a tiny
// libonnxruntime_providers_cuda.so built here with the C compiler, linked against fake CUDA 77
// libraries (a major no machine has, so the result is the same everywhere) of which only cuBLAS is
// left where the loader finds it. readelf and ldd then run for real on it. The install step runs
// onnxruntime-node's own script from a copy of its folder, behind a proxy that refuses connections,
// so it fails the way an offline machine does and never writes into node_modules.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { describeDiagnosis, diagnoseCudaProvider, explainCudaFailure } from '../../src/model/cuda.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ORT_DIR = join(ROOT, 'node_modules', 'onnxruntime-node');
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';

function cc(args: string[]): void {
  execFileSync('cc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** An onnxruntime-node folder (package.json, script/, bin/) whose bin holds the stub provider. */
function stubOrtDir(root: string, withProvider: boolean): { ortDir: string; bin: string; cudaLibs: string } {
  const ortDir = join(root, 'onnxruntime-node');
  const bin = join(ortDir, 'bin', 'napi-v6', process.platform, process.arch);
  const cudaLibs = join(root, 'cuda-libs');
  mkdirSync(bin, { recursive: true });
  mkdirSync(cudaLibs, { recursive: true });
  cpSync(join(ORT_DIR, 'package.json'), join(ortDir, 'package.json'));
  cpSync(join(ORT_DIR, 'script'), join(ortDir, 'script'), { recursive: true });
  if (!withProvider) return { ortDir, bin, cudaLibs };
  const src = join(root, 'empty.c');
  writeFileSync(src, 'int stub_symbol(void) { return 0; }\n');
  const build = join(root, 'build');
  mkdirSync(build);
  for (const soname of ['libcudart.so.77', 'libcublasLt.so.77', 'libcudnn.so.77']) {
    cc(['-shared', '-fPIC', '-o', join(build, soname), `-Wl,-soname,${soname}`, src]);
  }
  cc(['-shared', '-fPIC', '-o', join(bin, 'libonnxruntime_providers_shared.so'), '-Wl,-soname,libonnxruntime_providers_shared.so', src]);
  cc(['-shared', '-fPIC', '-o', join(bin, 'libonnxruntime_providers_cuda.so'), src, '-Wl,--no-as-needed', `-L${build}`, `-L${bin}`,
    '-l:libcudart.so.77', '-l:libcublasLt.so.77', '-l:libcudnn.so.77', '-l:libonnxruntime_providers_shared.so']);
  // Only cuBLAS stays findable (through LD_LIBRARY_PATH); the runtime and cuDNN are gone.
  cpSync(join(build, 'libcublasLt.so.77'), join(cudaLibs, 'libcublasLt.so.77'));
  rmSync(build, { recursive: true });
  return { ortDir, bin, cudaLibs };
}

describe('CUDA provider diagnosis on a stub provider', { skip: linuxX64 ? false : 'the CUDA provider exists for linux/x64 only' }, () => {
  let root: string;
  let stub: ReturnType<typeof stubOrtDir>;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'reward-cuda-stub-'));
    stub = stubOrtDir(root, true);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads the CUDA major from the libcudart it links and names each missing library with its role', () => {
    const d = diagnoseCudaProvider(stub.bin, { ...process.env, LD_LIBRARY_PATH: stub.cudaLibs });
    assert.equal(d.cudaMajor, 77);
    assert.deepEqual(d.missing.map((l) => [l.name, l.role]), [['libcudart.so.77', 'CUDA runtime 77'], ['libcudnn.so.77', 'cuDNN 77']]);
    assert.equal(d.needed.find((l) => l.name === 'libcublasLt.so.77')?.path, join(stub.cudaLibs, 'libcublasLt.so.77'));
    assert.equal(d.needed.find((l) => l.name === 'libonnxruntime_providers_shared.so')?.path, join(stub.bin, 'libonnxruntime_providers_shared.so'));
    assert.match(describeDiagnosis(d).at(-1)!, /^missing: CUDA runtime 77, cuDNN 77\. Install them/);
  });

  it('a failed CUDA start is explained with the same diagnosis', () => {
    const message = explainCudaFailure('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library\nmore', stub.bin);
    const lines = message.split('\n');
    assert.equal(lines[0], 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
    assert.deepEqual(lines.slice(1), describeDiagnosis(diagnoseCudaProvider(stub.bin)));
    assert.match(message, /needs libcudart\.so\.77 \(CUDA runtime 77\): NOT FOUND/);
  });

  it('setup:cuda --check-only prints the diagnosis and exits 1 while a library is missing', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools', 'setup-cuda.ts'), '--check-only', '--ort-dir', stub.ortDir], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: stub.cudaLibs },
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /built for CUDA 77/);
    assert.match(run.stdout, /needs libcudnn\.so\.77 \(cuDNN 77\): NOT FOUND/);
    assert.match(run.stdout, /needs libcublasLt\.so\.77 \(cuBLAS 77\): .*cuda-libs/);
  });

  it('setup:cuda --check-only passes once every library is found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reward-cuda-all-'));
    try {
      for (const soname of ['libcudart.so.77', 'libcudnn.so.77']) {
        cc(['-shared', '-fPIC', '-o', join(dir, soname), `-Wl,-soname,${soname}`, '-x', 'c', '/dev/null']);
      }
      const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools', 'setup-cuda.ts'), '--check-only', '--ort-dir', stub.ortDir], {
        cwd: ROOT, encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: `${stub.cudaLibs}:${dir}` },
      });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /every library the CUDA provider needs is found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('setup:cuda without network', { skip: linuxX64 ? false : 'the CUDA provider exists for linux/x64 only' }, () => {
  it('runs onnxruntime-node\'s install script, which cannot download, and says how to install by hand', () => {
    const root = mkdtempSync(join(tmpdir(), 'reward-cuda-offline-'));
    try {
      const { ortDir, bin } = stubOrtDir(root, false);
      const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools', 'setup-cuda.ts'), '--ort-dir', ortDir], {
        cwd: ROOT,
        encoding: 'utf8',
        // The copied script finds its own dependencies (global-agent, adm-zip) in the project's node_modules;
        // global-agent sends its requests to a port where nothing listens.
        env: { ...process.env, NODE_PATH: dirname(ORT_DIR), GLOBAL_AGENT_HTTPS_PROXY: 'http://127.0.0.1:9' },
      });
      assert.equal(run.status, 1);
      assert.match(run.stdout, /installing the cuda12 CUDA provider with onnxruntime-node's install script \(Microsoft\.ML\.OnnxRuntime\.Gpu\.Linux 1\.30\.0/);
      assert.match(run.stderr, /could not install the CUDA provider: Error: connect ECONNREFUSED/);
      assert.ok(run.stderr.includes(`runtimes/linux-x64/native/libonnxruntime_providers_cuda.so -> ${join(bin, 'libonnxruntime_providers_cuda.so')}`), run.stderr);
      assert.match(run.stderr, /npm run setup:cuda -- --check-only/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
