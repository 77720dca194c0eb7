// ONNX ModelProto encoding (field numbers from onnx/onnx.proto, IR version 8).

import { ProtoWriter } from './protobuf.ts';

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
/** Opset 23 (Attention, RotaryEmbedding, RMSNormalization) needs IR version 11. */
const IR_VERSION_OF_OPSET_23 = 11;
/** ONNX Runtime's contrib operators (GroupQueryAttention, SkipSimplifiedLayerNormalization...). */
export const MS_DOMAIN = 'com.microsoft';
const MS_OPSET_VERSION = 1;

/** TensorProto.DataType values for the element types this graph uses. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const AttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const;
const DATA_LOCATION_EXTERNAL = 1;

/** An integer or integer list is written as INT/INTS; a float attribute is wrapped: `{ float: 1e-6 }`. */
export type AttributeValue = number | readonly number[] | { readonly float: number };

export interface NodeSpec {
  opType: string;
  /** Operator set domain; absent for the default ONNX domain. */
  domain?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, AttributeValue>>;
}

/** Where an initializer's bytes live in the external data file, when not inline. */
export interface ExternalLocation {
  location: string;
  offset: number;
  length: number;
}

export interface TensorSpec {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  /** Little-endian element bytes; ignored when `external` is set. */
  raw: Uint8Array;
  external?: ExternalLocation;
}

/** A graph input/output: a tensor type whose dims are fixed sizes or symbolic names. */
export interface ValueInfoSpec {
  name: string;
  dataType: DataTypeCode;
  dims: readonly (number | string)[];
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
  /** The default domain's operator set the graph needs; OPSET_VERSION when absent. */
  opset?: number;
}

export interface ModelSpec {
  producerName: string;
  producerVersion: string;
  graph: GraphSpec;
  metadata?: Readonly<Record<string, string>>;
}

function encodeAttribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'object' && 'float' in value) return w.int(20, AttributeType.FLOAT).float(2, value.float);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`attribute ${name}: only integer attributes are supported`);
    return w.int(20, AttributeType.INT).int(3, value);
  }
  return w.int(20, AttributeType.INTS).ints(8, value);
}

function encodeNode(node: NodeSpec, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, `${node.opType}_${index}`).string(4, node.opType);
  if (node.domain !== undefined && node.domain !== '') w.string(7, node.domain);
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(5, encodeAttribute(name, value));
  return w;
}

function encodeStringEntry(key: string, value: string): ProtoWriter {
  return new ProtoWriter().string(1, key).string(2, value);
}

function encodeTensor(tensor: TensorSpec): ProtoWriter {
  const w = new ProtoWriter().ints(1, tensor.dims).int(2, tensor.dataType).string(8, tensor.name);
  if (tensor.external === undefined) return w.bytes(9, tensor.raw);
  const { location, offset, length } = tensor.external;
  w.message(13, encodeStringEntry('location', location));
  w.message(13, encodeStringEntry('offset', String(offset)));
  w.message(13, encodeStringEntry('length', String(length)));
  return w.int(14, DATA_LOCATION_EXTERNAL);
}

function encodeValueInfo(info: ValueInfoSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of info.dims) {
    const d = new ProtoWriter();
    if (typeof dim === 'number') d.int(1, dim);
    else d.string(2, dim);
    shape.message(1, d);
  }
  const tensorType = new ProtoWriter().int(1, info.dataType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, info.name).message(2, type);
}

function encodeGraph(graph: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  graph.nodes.forEach((node, i) => w.message(1, encodeNode(node, i)));
  w.string(2, graph.name);
  for (const tensor of graph.initializers) w.message(5, encodeTensor(tensor));
  for (const input of graph.inputs) w.message(11, encodeValueInfo(input));
  for (const output of graph.outputs) w.message(12, encodeValueInfo(output));
  return w;
}

/** Serialises a model; the result is a list of chunks to write out in order. */
export function encodeModel(model: ModelSpec): Uint8Array[] {
  const version = model.graph.opset ?? OPSET_VERSION;
  const opset = new ProtoWriter().string(1, '').int(2, version);
  const w = new ProtoWriter()
    .int(1, version >= 23 ? IR_VERSION_OF_OPSET_23 : IR_VERSION)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .message(7, encodeGraph(model.graph))
    .message(8, opset);
  if (model.graph.nodes.some((node) => node.domain === MS_DOMAIN)) {
    w.message(8, new ProtoWriter().string(1, MS_DOMAIN).int(2, MS_OPSET_VERSION));
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) w.message(14, encodeStringEntry(key, value));
  return w.finish();
}
