// Field numbers and enum values of onnx/onnx.proto, the one table for every ONNX message the service
// (single-session.ts) and tools/make-model read or write. Only the fields the project uses are named.

export const MODEL = { irVersion: 1, producerName: 2, producerVersion: 3, graph: 7, opsetImport: 8, metadataProps: 14, functions: 25 } as const;
export const OPERATOR_SET_ID = { domain: 1, version: 2 } as const;
export const STRING_STRING_ENTRY = { key: 1, value: 2 } as const;
export const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13, sparseInitializer: 15 } as const;
export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
export const ATTRIBUTE = { name: 1, f: 2, i: 3, graph: 6, ints: 8, graphs: 11, type: 20 } as const;
export const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9, externalData: 13, dataLocation: 14 } as const;
export const VALUE_INFO = { name: 1, type: 2 } as const;
/** TypeProto: only its tensor_type member. */
export const TYPE = { tensorType: 1 } as const;
export const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
export const TENSOR_SHAPE = { dim: 1 } as const;
export const DIMENSION = { value: 1, param: 2 } as const;

/** AttributeProto.AttributeType. */
export const AttributeType = { FLOAT: 1, INT: 2, GRAPH: 5, INTS: 7 } as const;
/** TensorProto.DataType values for the element types the project's graphs use. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];
/** TensorProto.DataLocation. */
export const DataLocation = { EXTERNAL: 1 } as const;
