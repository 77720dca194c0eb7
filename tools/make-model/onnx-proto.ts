// ONNX ModelProto encoding (IR version 8), with the service's wire codec and onnx.proto's field numbers.

import {
  ATTRIBUTE, AttributeType, DataLocation, DataType, type DataTypeCode, DIMENSION, GRAPH, MODEL, NODE, OPERATOR_SET_ID,
  STRING_STRING_ENTRY, TENSOR, TENSOR_SHAPE, TENSOR_TYPE, TYPE, VALUE_INFO,
} from '../../src/model/onnx-fields.ts';
import { ProtoWriter } from '../../src/model/onnx-wire.ts';

export { DataType, type DataTypeCode };

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
/** Opset 23 (Attention, RotaryEmbedding, RMSNormalization) needs IR version 11. */
const IR_VERSION_OF_OPSET_23 = 11;
/** ONNX Runtime's contrib operators (GroupQueryAttention, SkipSimplifiedLayerNormalization...). */
export const MS_DOMAIN = 'com.microsoft';
const MS_OPSET_VERSION = 1;

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
  const w = new ProtoWriter().string(ATTRIBUTE.name, name);
  if (typeof value === 'object' && 'float' in value) return w.int(ATTRIBUTE.type, AttributeType.FLOAT).float(ATTRIBUTE.f, value.float);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`attribute ${name}: only integer attributes are supported`);
    return w.int(ATTRIBUTE.type, AttributeType.INT).int(ATTRIBUTE.i, value);
  }
  return w.int(ATTRIBUTE.type, AttributeType.INTS).ints(ATTRIBUTE.ints, value);
}

function encodeNode(node: NodeSpec, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(NODE.input, input);
  for (const output of node.outputs) w.string(NODE.output, output);
  w.string(NODE.name, `${node.opType}_${index}`).string(NODE.opType, node.opType);
  if (node.domain !== undefined && node.domain !== '') w.string(NODE.domain, node.domain);
  for (const [name, value] of Object.entries(node.attributes ?? {})) w.message(NODE.attribute, encodeAttribute(name, value));
  return w;
}

function encodeStringEntry(key: string, value: string): ProtoWriter {
  return new ProtoWriter().string(STRING_STRING_ENTRY.key, key).string(STRING_STRING_ENTRY.value, value);
}

function encodeTensor(tensor: TensorSpec): ProtoWriter {
  const w = new ProtoWriter().ints(TENSOR.dims, tensor.dims).int(TENSOR.dataType, tensor.dataType).string(TENSOR.name, tensor.name);
  if (tensor.external === undefined) return w.bytes(TENSOR.rawData, tensor.raw);
  const { location, offset, length } = tensor.external;
  w.message(TENSOR.externalData, encodeStringEntry('location', location));
  w.message(TENSOR.externalData, encodeStringEntry('offset', String(offset)));
  w.message(TENSOR.externalData, encodeStringEntry('length', String(length)));
  return w.int(TENSOR.dataLocation, DataLocation.EXTERNAL);
}

function encodeValueInfo(info: ValueInfoSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of info.dims) {
    const d = new ProtoWriter();
    if (typeof dim === 'number') d.int(DIMENSION.value, dim);
    else d.string(DIMENSION.param, dim);
    shape.message(TENSOR_SHAPE.dim, d);
  }
  const tensorType = new ProtoWriter().int(TENSOR_TYPE.elemType, info.dataType).message(TENSOR_TYPE.shape, shape);
  const type = new ProtoWriter().message(TYPE.tensorType, tensorType);
  return new ProtoWriter().string(VALUE_INFO.name, info.name).message(VALUE_INFO.type, type);
}

function encodeGraph(graph: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  graph.nodes.forEach((node, i) => w.message(GRAPH.node, encodeNode(node, i)));
  w.string(GRAPH.name, graph.name);
  for (const tensor of graph.initializers) w.message(GRAPH.initializer, encodeTensor(tensor));
  for (const input of graph.inputs) w.message(GRAPH.input, encodeValueInfo(input));
  for (const output of graph.outputs) w.message(GRAPH.output, encodeValueInfo(output));
  return w;
}

function encodeOpset(domain: string, version: number): ProtoWriter {
  return new ProtoWriter().string(OPERATOR_SET_ID.domain, domain).int(OPERATOR_SET_ID.version, version);
}

/** Serialises a model; the result is a list of chunks to write out in order. */
export function encodeModel(model: ModelSpec): Uint8Array[] {
  const version = model.graph.opset ?? OPSET_VERSION;
  const w = new ProtoWriter()
    .int(MODEL.irVersion, version >= 23 ? IR_VERSION_OF_OPSET_23 : IR_VERSION)
    .string(MODEL.producerName, model.producerName)
    .string(MODEL.producerVersion, model.producerVersion)
    .message(MODEL.graph, encodeGraph(model.graph))
    .message(MODEL.opsetImport, encodeOpset('', version));
  if (model.graph.nodes.some((node) => node.domain === MS_DOMAIN)) w.message(MODEL.opsetImport, encodeOpset(MS_DOMAIN, MS_OPSET_VERSION));
  for (const [key, value] of Object.entries(model.metadata ?? {})) w.message(MODEL.metadataProps, encodeStringEntry(key, value));
  return w.finish();
}
