// safetensors: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and [start, end) byte range in the data section, then
// the data. Only F32 is written or read here.

import { readFileSync } from 'node:fs';
import { elementCount } from './config.ts';
import type { Weights } from './weights.ts';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The file's bytes as chunks in order, tensors sorted by name. */
export function encodeSafetensors(weights: Weights): Uint8Array[] {
  const names = [...weights.keys()].sort();
  const header: Record<string, HeaderEntry | Record<string, string>> = { __metadata__: { format: 'pt' } };
  const data: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const { shape, data: values } = weights.get(name)!;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes.byteLength] };
    data.push(bytes);
    offset += bytes.byteLength;
  }
  // Pad the header with spaces so the data section starts 8-byte aligned.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [prefix, headerBytes, ...data];
}

export interface SafetensorsHeader {
  tensors: Map<string, { dtype: string; shape: number[]; dataOffsets: [number, number] }>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

export function parseSafetensorsHeader(file: Uint8Array): SafetensorsHeader {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > file.byteLength) throw new Error('safetensors: header runs past the end of the file');
  const parsed = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  const tensors: SafetensorsHeader['tensors'] = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as HeaderEntry;
    tensors.set(name, { dtype, shape, dataOffsets: data_offsets });
  }
  return { tensors, metadata, dataStart: 8 + headerLength };
}

/** Reads an F32 safetensors file into memory (copies, so the result is aligned). */
export function readSafetensors(path: string): Weights {
  const file = readFileSync(path);
  const { tensors, dataStart } = parseSafetensorsHeader(file);
  const weights: Weights = new Map();
  for (const [name, { dtype, shape, dataOffsets }] of tensors) {
    if (dtype !== 'F32') throw new Error(`safetensors: ${name} has dtype ${dtype}, only F32 is supported`);
    const [start, end] = dataOffsets;
    if (end - start !== 4 * elementCount(shape)) throw new Error(`safetensors: ${name} byte range does not match its shape`);
    const bytes = file.subarray(dataStart + start, dataStart + end);
    const data = new Float32Array(elementCount(shape));
    new Uint8Array(data.buffer).set(bytes);
    weights.set(name, { shape, data });
  }
  return weights;
}
