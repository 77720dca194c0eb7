// The provider a model's session asks for, and the pairs refused at start-up: fp32 on CUDA (unless
// ALLOW_FP32_CUDA=1), and a half-precision export that `auto` would have run on the CPU unannounced.
// The pure choice is a table; the worker is then started for real with the choice landing before
// ONNX Runtime would load CUDA, so these run on a CPU-only machine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { cudaUnavailableReason } from '../../src/model/cuda.ts';
import { OnnxRewardModel } from '../../src/model/onnx-model.ts';
import { chooseProvider, ProviderRefusedError, type ProviderRequest } from '../../src/model/provider-choice.ts';
import { DEFAULT_MODEL_DIR, type ExecutionProvider } from '../../src/config.ts';

const NO_CUDA = 'no NVIDIA driver found (none of /dev/nvidiactl)';
const base: ProviderRequest = { requested: 'auto', dtype: 'float16', cudaUnavailable: undefined, allowFp32Cuda: false };

describe('chooseProvider', () => {
  const cases: [string, Partial<ProviderRequest>, 'cpu' | 'cuda' | RegExp][] = [
    ['cpu runs any export', { requested: 'cpu', dtype: 'float16' }, 'cpu'],
    ['cpu runs fp32', { requested: 'cpu', dtype: 'float32' }, 'cpu'],
    ['auto takes CUDA for fp16', { dtype: 'float16' }, 'cuda'],
    ['auto takes CUDA for bf16', { dtype: 'bfloat16' }, 'cuda'],
    ['auto runs fp32 on the CPU where CUDA could start', { dtype: 'float32' }, 'cpu'],
    ['auto runs fp32 on the CPU where CUDA cannot start', { dtype: 'float32', cudaUnavailable: NO_CUDA }, 'cpu'],
    ['auto with ALLOW_FP32_CUDA=1 takes CUDA for fp32', { dtype: 'float32', allowFp32Cuda: true }, 'cuda'],
    ['auto refuses fp16 where CUDA cannot start', { dtype: 'float16', cudaUnavailable: NO_CUDA }, /float16, made for CUDA, and CUDA cannot start here: no NVIDIA driver found.*EXECUTION_PROVIDER=cpu/],
    ['auto refuses bf16 where CUDA cannot start', { dtype: 'bfloat16', cudaUnavailable: NO_CUDA }, /bfloat16, made for CUDA/],
    ['cuda takes fp16', { requested: 'cuda', dtype: 'float16' }, 'cuda'],
    ['cuda refuses fp32, naming the fp16/bf16 export and the override', { requested: 'cuda', dtype: 'float32' }, /float32.*GroupQueryAttention takes fp16 and bf16 only.*--dtype fp16 or --dtype bf16.*ALLOW_FP32_CUDA=1/],
    ['cuda with ALLOW_FP32_CUDA=1 takes fp32', { requested: 'cuda', dtype: 'float32', allowFp32Cuda: true }, 'cuda'],
  ];
  for (const [name, req, want] of cases) {
    it(name, () => {
      const run = () => chooseProvider({ ...base, ...req });
      if (want instanceof RegExp) assert.throws(run, (err: Error) => err instanceof ProviderRefusedError && want.test(err.message));
      else assert.equal(run().provider, want);
    });
  }
  it('says why auto runs fp32 on the CPU', () => {
    assert.match(chooseProvider({ ...base, dtype: 'float32' }).cpuReason!, /model\.onnx is float32, the CPU's export/);
  });
});

// On a machine where CUDA can start these pairs would reach ONNX Runtime's CUDA load; the pure table above covers them there.
describe('the model worker refuses before loading CUDA', { skip: cudaUnavailableReason() === undefined ? 'CUDA can start on this machine' : false }, () => {
  const md = loadModelDir(DEFAULT_MODEL_DIR);
  const quiet = { info() {}, warn() {}, error() {} };
  const start = (provider: ExecutionProvider, dtype: string, allowFp32Cuda = false) => OnnxRewardModel.create({
    onnxPath: md.onnxPath, provider, dtype, allowFp32Cuda, intraOpThreads: 1, name: md.name, retryAfterS: 1, log: quiet,
  });

  it('EXECUTION_PROVIDER=cuda with the fp32 demo model fails naming the fp16/bf16 export', async () => {
    await assert.rejects(start('cuda', md.dtype), /cannot start ONNX Runtime session .*float32.*--dtype fp16 or --dtype bf16.*ALLOW_FP32_CUDA=1/);
  });
  it('with ALLOW_FP32_CUDA=1 it tries CUDA and says the provider is not installed', async () => {
    await assert.rejects(start('cuda', md.dtype, true), /Failed to load shared library; onnxruntime-node's CUDA provider is not installed \(no libonnxruntime_providers_shared\.so.*run npm run setup:cuda/);
  });
  it('auto with a half-precision export refuses the CPU and says why CUDA cannot start', async () => {
    await assert.rejects(start('auto', 'float16'), /float16, made for CUDA, and CUDA cannot start here: onnxruntime-node's CUDA provider is not installed/);
  });
  it('auto with the fp32 export runs on the CPU', async () => {
    const model = await start('auto', md.dtype);
    assert.equal(model.info.executionProvider, 'cpu');
    await model.close();
  });
});
