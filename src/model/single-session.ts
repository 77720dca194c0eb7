// model.onnx and model-past.onnx as one ONNX model, so that one ONNX Runtime session holds the
// weights once. Two sessions each map model.onnx.data and each keep their own arena; RSS counts a
// weight page once per mapping, so the second session added the touched embedding rows and layers
// again (175 MiB of file pages on the bench model) besides its activations.
//
//   inputs   model-past.onnx's inputs (input_ids, attention_mask, past_key.{i}, past_value.{i})
//            + use_past: bool scalar
//   If(use_past)
//     then   model-past.onnx's graph: suffixes against the given past, or a prefix pass
//     else   model.onnx's graph over input_ids/attention_mask; present_* = the past_* fed in
//            (the caller feeds empty pasts and fetches only logits)
//   outputs  model-past.onnx's outputs
//
// Both branches read the weights as outer-scope initializers. A weight of model-past.onnx that
// points at the same bytes of the same external file as one of model.onnx (the exporters write
// them so) becomes that one; every other name of either graph gets its branch's prefix, so no name
// is defined twice.
import { USE_PAST } from './graph-names.ts';
import {
  ATTRIBUTE, AttributeType, DataType, GRAPH, MODEL, NODE, OPERATOR_SET_ID, STRING_STRING_ENTRY, TENSOR, TENSOR_TYPE, TYPE, VALUE_INFO,
} from './onnx-fields.ts';
import {
  concatBytes, decodeMessage, fieldBytes, fieldString, lengthField, varintField, type WireField,
} from './onnx-wire.ts';

interface Named {
  name: string;
  fields: WireField[];
}

interface Graph {
  nodes: WireField[][];
  initializers: (Named & { external?: string })[];
  inputs: Named[];
  outputs: Named[];
  valueInfo: Named[];
}

interface Model {
  irVersion: bigint;
  opsets: Map<string, bigint>;
  graph: Graph;
}

export function singleSessionModel(wholeBytes: Uint8Array, pastBytes: Uint8Array): Uint8Array {
  const whole = readModel(wholeBytes, 'model.onnx');
  const past = readModel(pastBytes, 'model-past.onnx');
  const pastInputs = new Set(past.graph.inputs.map((i) => i.name));
  for (const input of whole.graph.inputs) {
    if (!pastInputs.has(input.name)) throw new Error(`model.onnx input ${input.name} is not an input of model-past.onnx`);
  }

  const wholeByExternal = new Map(whole.graph.initializers.filter((t) => t.external).map((t) => [t.external!, t.name]));
  const wholeByName = new Map(whole.graph.initializers.map((t) => [t.name, t]));
  const aliases = new Map<string, string>();
  for (const tensor of past.graph.initializers) {
    const same = tensor.external ? wholeByExternal.get(tensor.external) : undefined;
    if (same !== undefined) aliases.set(tensor.name, same);
    else if (sameBytes(wholeByName.get(tensor.name), tensor)) aliases.set(tensor.name, tensor.name);
  }
  // model.onnx keeps its initializers' names: they are the outer scope's.
  const wholeNames = scope('whole/', new Set([...whole.graph.inputs.map((i) => i.name), ...wholeByName.keys()]), new Map());
  const pastNames = scope('past/', pastInputs, aliases);

  const outputs = past.graph.outputs.map((o) => o.name);
  const wholeOutputs = new Set(whole.graph.outputs.map((o) => o.name));
  const wholeBranchOutputs: Uint8Array[] = [];
  const identities: Uint8Array[] = [];
  for (const output of past.graph.outputs) {
    if (wholeOutputs.has(output.name)) {
      wholeBranchOutputs.push(renamedValueInfo(output, wholeNames(output.name)));
      continue;
    }
    const fedPast = output.name.replace(/^present_/, 'past_');
    if (fedPast === output.name || !pastInputs.has(fedPast)) throw new Error(`model-past.onnx output ${output.name} has neither a model.onnx output nor a past_* input to stand for it`);
    identities.push(node('Identity', `whole/${output.name}`, [fedPast], [wholeNames(output.name)]));
    wholeBranchOutputs.push(renamedValueInfo(output, wholeNames(output.name)));
  }

  const pastBranch = branch('past', past.graph, pastNames, past.graph.outputs.map((o) => renamedValueInfo(o, pastNames(o.name))), []);
  const wholeBranch = branch('whole', whole.graph, wholeNames, wholeBranchOutputs, identities);
  const ifNode = concatBytes([
    lengthField(NODE.input, USE_PAST),
    ...outputs.map((o) => lengthField(NODE.output, o)),
    lengthField(NODE.name, 'past_or_whole'),
    lengthField(NODE.opType, 'If'),
    lengthField(NODE.attribute, graphAttribute('then_branch', pastBranch)),
    lengthField(NODE.attribute, graphAttribute('else_branch', wholeBranch)),
  ]);

  const initializers = [
    ...whole.graph.initializers.map((t) => concatBytes(t.fields.map((f) => f.encoded))),
    ...past.graph.initializers.filter((t) => !aliases.has(t.name)).map((t) => renamedFields(t.fields, TENSOR.name, pastNames)),
  ];
  const outerNames = new Set([...pastInputs, USE_PAST, ...wholeByName.keys()]);
  for (const output of outputs) {
    if (outerNames.has(output)) throw new Error(`model-past.onnx output ${output} is also the name of an input or weight of model.onnx`);
  }
  const graph = concatBytes([
    lengthField(GRAPH.node, ifNode),
    lengthField(GRAPH.name, 'reward_model_whole_and_past'),
    ...initializers.map((t) => lengthField(GRAPH.initializer, t)),
    ...past.graph.inputs.map((i) => lengthField(GRAPH.input, i.fields.map((f) => f.encoded))),
    lengthField(GRAPH.input, [lengthField(VALUE_INFO.name, USE_PAST), lengthField(VALUE_INFO.type, boolScalarType())]),
    ...past.graph.outputs.map((o) => lengthField(GRAPH.output, o.fields.map((f) => f.encoded))),
  ]);
  return concatBytes([
    varintField(MODEL.irVersion, whole.irVersion > past.irVersion ? whole.irVersion : past.irVersion),
    lengthField(MODEL.producerName, 'code-reward-service'),
    ...mergedOpsets(whole.opsets, past.opsets),
    lengthField(MODEL.graph, graph),
  ]);
}

function readModel(bytes: Uint8Array, file: string): Model {
  const fields = decodeMessage(bytes);
  const graphField = fields.find((f) => f.no === MODEL.graph);
  if (!graphField) throw new Error(`${file} has no graph`);
  if (fields.some((f) => f.no === MODEL.functions)) throw new Error(`${file} has model-local functions, which one session of both graphs does not carry over`);
  const irVersion = fields.find((f) => f.no === MODEL.irVersion)?.value;
  const opsets = new Map<string, bigint>();
  for (const f of fields.filter((f) => f.no === MODEL.opsetImport)) {
    const opset = decodeMessage(fieldBytes(f));
    const domain = opset.find((g) => g.no === OPERATOR_SET_ID.domain);
    opsets.set(domain ? fieldString(domain) : '', opset.find((g) => g.no === OPERATOR_SET_ID.version)?.value as bigint ?? 0n);
  }
  const graph: Graph = { nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  for (const f of decodeMessage(fieldBytes(graphField))) {
    if (f.no === GRAPH.node) graph.nodes.push(decodeMessage(fieldBytes(f)));
    else if (f.no === GRAPH.initializer) graph.initializers.push(tensor(fieldBytes(f)));
    else if (f.no === GRAPH.input) graph.inputs.push(named(fieldBytes(f), VALUE_INFO.name));
    else if (f.no === GRAPH.output) graph.outputs.push(named(fieldBytes(f), VALUE_INFO.name));
    else if (f.no === GRAPH.valueInfo) graph.valueInfo.push(named(fieldBytes(f), VALUE_INFO.name));
    else if (f.no === GRAPH.sparseInitializer) throw new Error(`${file} has sparse initializers, which one session of both graphs does not carry over`);
  }
  // Before IR version 4 a weight was also listed as a graph input; only the fed inputs count here.
  const weights = new Set(graph.initializers.map((t) => t.name));
  graph.inputs = graph.inputs.filter((i) => !weights.has(i.name));
  return { irVersion: typeof irVersion === 'bigint' ? irVersion : 0n, opsets, graph };
}

function named(bytes: Uint8Array, nameField: number): Named {
  const fields = decodeMessage(bytes);
  const name = fields.find((f) => f.no === nameField);
  return { name: name ? fieldString(name) : '', fields };
}

/** A weight, with where its bytes live when they are in an external file (location, offset, length). */
function tensor(bytes: Uint8Array): Named & { external?: string } {
  const t = named(bytes, TENSOR.name);
  const entries = t.fields.filter((f) => f.no === TENSOR.externalData).map((f) => {
    const entry = decodeMessage(fieldBytes(f));
    const text = (no: number) => { const g = entry.find((e) => e.no === no); return g ? fieldString(g) : ''; };
    return `${text(STRING_STRING_ENTRY.key)}=${text(STRING_STRING_ENTRY.value)}`;
  });
  return entries.length > 0 ? { ...t, external: entries.sort().join('\n') } : t;
}

function sameBytes(a: Named | undefined, b: Named): boolean {
  if (!a) return false;
  const x = concatBytes(a.fields.map((f) => f.encoded));
  const y = concatBytes(b.fields.map((f) => f.encoded));
  return x.byteLength === y.byteLength && x.every((byte, i) => byte === y[i]);
}

/** A renaming of one graph's values: kept names stay, aliases map, the rest get the prefix. */
function scope(prefix: string, keep: ReadonlySet<string>, aliases: ReadonlyMap<string, string>): (name: string) => string {
  return (name) => (name === '' || keep.has(name) ? name : aliases.get(name) ?? prefix + name);
}

function renamedFields(fields: readonly WireField[], nameField: number, rename: (name: string) => string): Uint8Array {
  return concatBytes(fields.map((f) => (f.no === nameField ? lengthField(nameField, rename(fieldString(f))) : f.encoded)));
}

function renamedValueInfo(info: Named, name: string): Uint8Array {
  return renamedFields(info.fields, VALUE_INFO.name, () => name);
}

function renamedNode(fields: readonly WireField[], rename: (name: string) => string, prefix: string): Uint8Array {
  return concatBytes(fields.map((f) => {
    if (f.no === NODE.input || f.no === NODE.output) return lengthField(f.no, rename(fieldString(f)));
    if (f.no === NODE.name) return lengthField(f.no, prefix + fieldString(f));
    if (f.no === NODE.attribute) return lengthField(f.no, renamedAttribute(fieldBytes(f), rename, prefix));
    return f.encoded;
  }));
}

/**
 * A node's attribute; a subgraph in it (If's branches, a Loop or Scan body, as the TorchScript
 * exporter writes them) gets the same renaming as its graph, which keeps its references to the
 * enclosing scope and its own values apart from the other branch's.
 */
function renamedAttribute(bytes: Uint8Array, rename: (name: string) => string, prefix: string): Uint8Array {
  const fields = decodeMessage(bytes);
  if (!fields.some((a) => a.no === ATTRIBUTE.graph || a.no === ATTRIBUTE.graphs)) return bytes;
  return concatBytes(fields.map((a) => (a.no === ATTRIBUTE.graph || a.no === ATTRIBUTE.graphs ? lengthField(a.no, renamedSubgraph(fieldBytes(a), rename, prefix)) : a.encoded)));
}

function renamedSubgraph(bytes: Uint8Array, rename: (name: string) => string, prefix: string): Uint8Array {
  return concatBytes(decodeMessage(bytes).map((f) => {
    if (f.no === GRAPH.node) return lengthField(f.no, renamedNode(decodeMessage(fieldBytes(f)), rename, prefix));
    if (f.no === GRAPH.initializer) return lengthField(f.no, renamedFields(decodeMessage(fieldBytes(f)), TENSOR.name, rename));
    if (f.no === GRAPH.input || f.no === GRAPH.output || f.no === GRAPH.valueInfo) return lengthField(f.no, renamedFields(decodeMessage(fieldBytes(f)), VALUE_INFO.name, rename));
    if (f.no === GRAPH.sparseInitializer) throw new Error('a subgraph with sparse initializers is not carried over into one session of both graphs');
    return f.encoded;
  }));
}

function branch(name: string, graph: Graph, rename: (name: string) => string, outputs: readonly Uint8Array[], extraNodes: readonly Uint8Array[]): Uint8Array {
  return concatBytes([
    ...graph.nodes.map((n) => lengthField(GRAPH.node, renamedNode(n, rename, `${name}/`))),
    ...extraNodes.map((n) => lengthField(GRAPH.node, n)),
    lengthField(GRAPH.name, name),
    ...outputs.map((o) => lengthField(GRAPH.output, o)),
    ...graph.valueInfo.map((v) => lengthField(GRAPH.valueInfo, renamedFields(v.fields, VALUE_INFO.name, rename))),
  ]);
}

function node(opType: string, name: string, inputs: readonly string[], outputs: readonly string[]): Uint8Array {
  return concatBytes([
    ...inputs.map((i) => lengthField(NODE.input, i)),
    ...outputs.map((o) => lengthField(NODE.output, o)),
    lengthField(NODE.name, name),
    lengthField(NODE.opType, opType),
  ]);
}

function graphAttribute(name: string, graph: Uint8Array): Uint8Array {
  return concatBytes([lengthField(ATTRIBUTE.name, name), lengthField(ATTRIBUTE.graph, graph), varintField(ATTRIBUTE.type, AttributeType.GRAPH)]);
}

/** TypeProto { tensor_type { elem_type: BOOL, shape: {} } }: a scalar. */
function boolScalarType(): Uint8Array {
  return lengthField(TYPE.tensorType, [varintField(TENSOR_TYPE.elemType, DataType.BOOL), lengthField(TENSOR_TYPE.shape, new Uint8Array(0))]);
}

function mergedOpsets(a: ReadonlyMap<string, bigint>, b: ReadonlyMap<string, bigint>): Uint8Array[] {
  const merged = new Map(a);
  for (const [domain, version] of b) {
    if (merged.has(domain) && merged.get(domain) !== version) {
      throw new Error(`model.onnx and model-past.onnx import different versions of opset "${domain}" (${merged.get(domain)} and ${version})`);
    }
    merged.set(domain, version);
  }
  if (!merged.has('')) throw new Error('neither graph imports the default ONNX opset, which If needs');
  return [...merged].map(([domain, version]) => lengthField(MODEL.opsetImport, [lengthField(OPERATOR_SET_ID.domain, domain), varintField(OPERATOR_SET_ID.version, version)]));
}

