// Writing the model's files: ONNX (inline or with external data) and chunked binaries.

import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelSpec, type TensorSpec, encodeModel } from './onnx-proto.ts';

// Weights always go to model.onnx.data: ONNX Runtime maps page-aligned external data instead of
// copying inline initializers, which took the bench model's RSS at ready from 783 to about 455 MiB.
export const EXTERNAL_DATA_THRESHOLD_BYTES = 0;
export const EXTERNAL_DATA_FILE = 'model.onnx.data';
/** Page-aligned offsets let ONNX Runtime mmap external tensors. */
const EXTERNAL_ALIGNMENT = 4096;
/** Small constants stay inline even when the weights go external. */
const EXTERNAL_MIN_BYTES = 1024;

export function writeChunks(path: string, chunks: readonly Uint8Array[]): number {
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.byteLength; ) done += writeSync(fd, chunk, done, chunk.byteLength - done);
      total += chunk.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

/**
 * Writes `model.onnx` into `dir`, moving the weights to `model.onnx.data` when
 * their total exceeds `externalThresholdBytes`. Returns the file names written.
 */
export function writeOnnxModel(dir: string, model: ModelSpec, externalThresholdBytes = EXTERNAL_DATA_THRESHOLD_BYTES): string[] {
  const initializers = model.graph.initializers;
  const totalBytes = initializers.reduce((sum, t) => sum + t.raw.byteLength, 0);
  if (totalBytes <= externalThresholdBytes) {
    writeChunks(join(dir, 'model.onnx'), encodeModel(model));
    return ['model.onnx'];
  }
  const dataChunks: Uint8Array[] = [];
  let offset = 0;
  const placed: TensorSpec[] = initializers.map((tensor) => {
    if (tensor.raw.byteLength < EXTERNAL_MIN_BYTES) return tensor;
    const padding = (EXTERNAL_ALIGNMENT - (offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (padding > 0) dataChunks.push(new Uint8Array(padding));
    offset += padding;
    const external = { location: EXTERNAL_DATA_FILE, offset, length: tensor.raw.byteLength };
    dataChunks.push(tensor.raw);
    offset += tensor.raw.byteLength;
    return { ...tensor, external };
  });
  writeChunks(join(dir, EXTERNAL_DATA_FILE), dataChunks);
  writeChunks(join(dir, 'model.onnx'), encodeModel({ ...model, graph: { ...model.graph, initializers: placed } }));
  return ['model.onnx', EXTERNAL_DATA_FILE];
}
