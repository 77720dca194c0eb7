// Reading what the CUDA provider links (readelf -d, ldd) and naming what each library is. The stub
// provider built with a compiler, run through the real tools, is in test/system/setup-cuda.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDiagnosis, libraryRole, parseLdd, parseNeeded } from '../../src/model/cuda.ts';

describe('libraryRole', () => {
  const cases: [string, string | undefined, boolean?][] = [
    ['libcudart.so.12', 'CUDA runtime 12'],
    ['libcudart.so.13', 'CUDA runtime 13'],
    ['libcublas.so.12', 'cuBLAS 12'],
    ['libcublasLt.so.12', 'cuBLAS 12'],
    ['libcudnn.so.9', 'cuDNN 9'],
    ['libcudnn_graph.so.9', 'cuDNN 9'],
    ['libcufft.so.11', 'cuFFT 11'],
    ['libcurand.so.10', 'cuRAND 10'],
    ['libcuda.so.1', 'NVIDIA driver 1', true],
    ['libstdc++.so.6', undefined],
  ];
  for (const [name, role, driver] of cases) {
    it(name, () => assert.deepEqual(libraryRole(name), role === undefined ? {} : { role, ...(driver && { driver }) }));
  }
});

describe('parsing', () => {
  it('parseNeeded takes the NEEDED entries of readelf -d', () => {
    const out = [
      'Dynamic section at offset 0x2de8 contains 27 entries:',
      '  Tag        Type                         Name/Value',
      ' 0x0000000000000001 (NEEDED)             Shared library: [libcudart.so.12]',
      ' 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]',
      ' 0x000000000000000e (SONAME)             Library soname: [libonnxruntime_providers_cuda.so]',
      ' 0x000000000000001d (RUNPATH)            Library runpath: [$ORIGIN]',
    ].join('\n');
    assert.deepEqual(parseNeeded(out), ['libcudart.so.12', 'libc.so.6']);
  });
  it('parseLdd maps found libraries to their paths and missing ones to undefined', () => {
    const out = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibcudart.so.12 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n';
    assert.deepEqual([...parseLdd(out)], [['libcudart.so.12', undefined], ['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6']]);
  });
});

describe('describeDiagnosis', () => {
  it('names the CUDA major, each CUDA library with where it is or NOT FOUND, and what to install', () => {
    const lines = describeDiagnosis({
      provider: '/ort/libonnxruntime_providers_cuda.so',
      cudaMajor: 12,
      needed: [
        { name: 'libcudart.so.12', role: 'CUDA runtime 12' },
        { name: 'libcublasLt.so.12', role: 'cuBLAS 12', path: '/usr/local/cuda/lib64/libcublasLt.so.12' },
        { name: 'libc.so.6', path: '/lib/libc.so.6' },
      ],
      missing: [{ name: 'libcudart.so.12', role: 'CUDA runtime 12' }, { name: 'libcudnn_ops.so.9', role: 'cuDNN 9' }],
      missingDriver: [{ name: 'libcuda.so.1', role: 'NVIDIA driver 1', driver: true }],
    });
    assert.deepEqual(lines, [
      'CUDA provider /ort/libonnxruntime_providers_cuda.so: built for CUDA 12',
      '  needs libcudart.so.12 (CUDA runtime 12): NOT FOUND',
      '  needs libcublasLt.so.12 (cuBLAS 12): /usr/local/cuda/lib64/libcublasLt.so.12',
      '  needs libcudnn_ops.so.9 (cuDNN 9) through another library: NOT FOUND',
      '  libcuda.so.1 (NVIDIA driver 1) not found: it comes with the NVIDIA driver (a container gets it from the NVIDIA container runtime)',
      'missing: CUDA runtime 12, cuDNN 9. Install them (the nvidia/cuda:12.x cudnn-runtime images carry all of them) or add their folder to LD_LIBRARY_PATH.',
    ]);
  });
});
