// The real model worker, except that every run fails as a persistent CUDA error makes it fail.
import * as ort from 'onnxruntime-node';

export const RUN_ERROR = 'CUDA failure 700: an illegal memory access was encountered ; GPU=0 ; file=/onnxruntime_src/cuda_call.cc';

if (!(await import('node:worker_threads')).isMainThread) {
  (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype.run = async () => {
    throw new Error(RUN_ERROR);
  };
  await import('../../src/model/onnx-worker.ts');
}
