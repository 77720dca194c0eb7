// The ONNX Runtime session options of the service, in a module of their own so that the benchmark's
// bare loop can use the very same ones (onnx-worker.ts starts a worker when imported).
import type { InferenceSession } from 'onnxruntime-node';

/**
 * `prepack: false` keeps ONNX Runtime from laying the weights out again for its matrix kernels. The
 * past-keys session (model-past.onnx) reads the same weights as model.onnx, so its prepacked copy
 * would be a second one (50 MiB on the bench model); without it that session ran no slower on the
 * bench model (prefix and suffix passes, 600 + 5 x 200 tokens).
 */
export function sessionOptions(intraOpThreads: number, provider: string, opts: { prepack?: boolean } = {}): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    // Idle intra-op threads sleep instead of spinning, leaving the CPU to the event loop between batches.
    extra: { session: { intra_op: { allow_spinning: '0' }, ...(opts.prepack === false && { disable_prepacking: '1' }) } },
    executionProviders: [provider],
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  };
}
