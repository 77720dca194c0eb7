// Which execution provider a model's session asks ONNX Runtime for, from EXECUTION_PROVIDER and the
// export's dtype, and the pairs that cannot work refused at start-up with what to do instead:
// - fp32 on CUDA (`cuda`; `auto` runs it on the CPU and says why): ONNX Runtime's CUDA GroupQueryAttention is registered for fp16 and bf16 only, so
//   every attention node of an fp32 graph runs on the CPU with copies around it, and the CUDA
//   provider's default TF32 MatMuls break fp32's tolerance anyway (onnxruntime-node passes only the
//   device id, so TF32 cannot be turned off). ALLOW_FP32_CUDA=1 runs it anyway.
// - a half-precision export (fp16, bf16) under `auto` where CUDA cannot start: the CPU would run it
//   without a word, far slower than the fp32 export. EXECUTION_PROVIDER=cpu asks for it explicitly.
import type { ExecutionProvider } from '../config.ts';

/** config.json's torch_dtype values of the exports that are meant for CUDA. */
const HALF_DTYPES = new Set(['float16', 'bfloat16']);

export function isHalfPrecision(dtype: string): boolean {
  return HALF_DTYPES.has(dtype);
}

export class ProviderRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderRefusedError';
  }
}

export interface ProviderRequest {
  requested: ExecutionProvider;
  /** config.json's torch_dtype (export_onnx.py writes the ONNX weights' dtype there). */
  dtype: string;
  /** Under `auto`: why CUDA cannot start here (cuda.ts), or undefined when it may. */
  cudaUnavailable: string | undefined;
  allowFp32Cuda: boolean;
}

export interface ProviderChoice {
  provider: 'cpu' | 'cuda';
  /** Under `auto` on the CPU: why. */
  cpuReason?: string;
}

function refuseFp32OnCuda(dtype: string): ProviderRefusedError {
  return new ProviderRefusedError(
    `model.onnx is ${dtype}, which CUDA runs badly: ONNX Runtime's CUDA GroupQueryAttention takes fp16 and bf16 only, so every attention layer would run on the CPU, `
    + 'and its fp32 MatMuls run in TF32. Serve the fp16 or bf16 export (python3 scripts/export_onnx.py --dtype fp16 or --dtype bf16), '
    + 'or set ALLOW_FP32_CUDA=1 to run this one on CUDA anyway.',
  );
}

/** A half-precision model under `auto` when CUDA is out: refused rather than run on the CPU unannounced. */
export function refuseHalfOnCpu(dtype: string, why: string): ProviderRefusedError {
  return new ProviderRefusedError(
    `model.onnx is ${dtype}, made for CUDA, and CUDA cannot start here: ${why}. `
    + 'On the CPU a half-precision model runs far slower than the fp32 export. Fix CUDA (npm run setup:cuda checks the provider\'s libraries), '
    + 'serve the fp32 export on the CPU, or set EXECUTION_PROVIDER=cpu to run this model on the CPU anyway.',
  );
}

/**
 * The provider to create the session with. Throws ProviderRefusedError for the pairs above; a CUDA
 * start that then fails is the caller's to explain (explainCudaFailure) and, under `auto`, to
 * refuse for a half-precision model (refuseHalfOnCpu).
 */
export function chooseProvider(req: ProviderRequest): ProviderChoice {
  if (req.requested === 'cpu') return { provider: 'cpu' };
  if (req.requested === 'auto' && req.cudaUnavailable !== undefined) {
    if (isHalfPrecision(req.dtype)) throw refuseHalfOnCpu(req.dtype, req.cudaUnavailable);
    return { provider: 'cpu', cpuReason: req.cudaUnavailable };
  }
  if (!isHalfPrecision(req.dtype) && !req.allowFp32Cuda) {
    // `auto` takes the provider that suits the export; asked for CUDA by name, an fp32 export is refused.
    if (req.requested === 'auto') return { provider: 'cpu', cpuReason: `model.onnx is ${req.dtype}, the CPU's export (${refuseFp32OnCuda(req.dtype).message})` };
    throw refuseFp32OnCuda(req.dtype);
  }
  return { provider: 'cuda' };
}
