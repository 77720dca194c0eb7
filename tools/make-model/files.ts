// Writing the model's files: ONNX (inline or with external data) and chunked binaries.

import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ExternalLocation, type ModelSpec, type TensorSpec, encodeModel } from './onnx-proto.ts';

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

/** One ONNX file of a model directory. */
export interface OnnxFile {
  file: string;
  model: ModelSpec;
}

/**
 * Writes each model into `dir` under its file name. When the first model's weights exceed
 * `externalThresholdBytes`, every model keeps its tensors in one shared `model.onnx.data`: a
 * tensor several graphs hold under the same name with the same bytes is stored once, and each graph
 * points at the same offset (external data is only a location, an offset and a length, so any
 * number of graphs can read one file). Returns the file names written.
 */
export function writeOnnxModels(dir: string, models: readonly OnnxFile[], externalThresholdBytes = EXTERNAL_DATA_THRESHOLD_BYTES): string[] {
  const totalBytes = models[0].model.graph.initializers.reduce((sum, t) => sum + t.raw.byteLength, 0);
  if (totalBytes <= externalThresholdBytes) {
    for (const { file, model } of models) writeChunks(join(dir, file), encodeModel(model));
    return models.map(({ file }) => file);
  }
  const dataChunks: Uint8Array[] = [];
  const stored = new Map<string, { raw: Uint8Array; external: ExternalLocation }>();
  let offset = 0;
  const place = (tensor: TensorSpec): TensorSpec => {
    if (tensor.raw.byteLength < EXTERNAL_MIN_BYTES) return tensor;
    const earlier = stored.get(tensor.name);
    if (earlier !== undefined && Buffer.from(earlier.raw).equals(tensor.raw)) return { ...tensor, external: earlier.external };
    const padding = (EXTERNAL_ALIGNMENT - (offset % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (padding > 0) dataChunks.push(new Uint8Array(padding));
    offset += padding;
    const external = { location: EXTERNAL_DATA_FILE, offset, length: tensor.raw.byteLength };
    dataChunks.push(tensor.raw);
    offset += tensor.raw.byteLength;
    if (earlier === undefined) stored.set(tensor.name, { raw: tensor.raw, external });
    return { ...tensor, external };
  };
  const placed = models.map(({ file, model }) => ({ file, model: { ...model, graph: { ...model.graph, initializers: model.graph.initializers.map(place) } } }));
  writeChunks(join(dir, EXTERNAL_DATA_FILE), dataChunks);
  for (const { file, model } of placed) writeChunks(join(dir, file), encodeModel(model));
  return [...models.map(({ file }) => file), EXTERNAL_DATA_FILE];
}
