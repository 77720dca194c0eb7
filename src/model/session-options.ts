// The ONNX Runtime session options of the service, in a module of their own so that the benchmark's
// bare loop can use the very same ones (onnx-worker.ts starts a worker when imported).
import type { InferenceSession } from 'onnxruntime-node';

/**
 * `externalDataDir`: where the weights file lies, for a model given as bytes (single-session.ts)
 * rather than as a path, whose directory ONNX Runtime would otherwise take. `prepack` (PREPACK_WEIGHTS):
 * ONNX Runtime's packed copies of the MatMul weights, made at creation while the mapped originals are
 * still held, and kept besides them; without, the products read the weights from the mapped file.
 */
export function sessionOptions(intraOpThreads: number, provider: string, opts: { externalDataDir?: string; prepack?: boolean } = {}): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    extra: {
      session: {
        // Idle intra-op threads sleep instead of spinning, leaving the CPU to the event loop between batches.
        intra_op: { allow_spinning: '0' },
        disable_prepacking: opts.prepack ? '0' : '1',
        ...(opts.externalDataDir !== undefined && { model_external_initializers_file_folder_path: opts.externalDataDir }),
      },
    },
    executionProviders: [provider],
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  };
}
