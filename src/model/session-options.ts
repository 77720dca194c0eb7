// The ONNX Runtime session options of the service, in a module of their own so that the benchmark's
// bare loop can use the very same ones (onnx-worker.ts starts a worker when imported).
import type { InferenceSession } from 'onnxruntime-node';

export function sessionOptions(intraOpThreads: number, provider: string): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    // Idle intra-op threads sleep instead of spinning, leaving the CPU to the event loop between batches.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    executionProviders: [provider],
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  };
}
