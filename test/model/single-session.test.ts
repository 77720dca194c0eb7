// One ONNX model holding model.onnx and model-past.onnx (src/model/single-session.ts): each form,
// picked by use_past, gives what its own file gives in a session of its own, and each weight of the
// external file is defined once.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { PRESETS } from '../../tools/make-model/config.ts';
import { ensureModel, PAST_MODEL_FILE } from '../../tools/make-model/model-dir.ts';
import { onnxLogits, padRight } from '../../tools/make-model/padded-batch.ts';
import { emptyPast, runPast } from '../../tools/make-model/past-run.ts';
import { ATTRIBUTE, AttributeType, DataType, GRAPH, MODEL, NODE, OPERATOR_SET_ID, TENSOR, TENSOR_TYPE, TYPE, VALUE_INFO } from '../../src/model/onnx-fields.ts';
import { decodeMessage, fieldBytes, lengthField, varintField, type WireField } from '../../src/model/onnx-wire.ts';
import { sessionOptions } from '../../src/model/session-options.ts';
import { USE_PAST } from '../../src/model/graph-names.ts';
import { singleSessionModel } from '../../src/model/single-session.ts';
import { mulberry32 } from '../../tools/mulberry32.ts';

const MODEL_DIR = fileURLToPath(new URL('../../models/tiny-random-qwen3-rm', import.meta.url));
const { num_hidden_layers: layers, num_key_value_heads: kvHeads, head_dim: headDim } = PRESETS.tiny;
const SHAPE = { layers, kvHeads, headDim };

interface Sessions {
  both: ort.InferenceSession;
  whole: ort.InferenceSession;
  past: ort.InferenceSession;
  bytes: Uint8Array;
}

let sessions: Sessions;

before(async () => {
  ensureModel(MODEL_DIR, 'tiny');
  const bytes = singleSessionModel(readFileSync(`${MODEL_DIR}/model.onnx`), readFileSync(`${MODEL_DIR}/${PAST_MODEL_FILE}`));
  sessions = {
    bytes,
    both: await ort.InferenceSession.create(bytes, sessionOptions(1, 'cpu', { externalDataDir: MODEL_DIR })),
    whole: await ort.InferenceSession.create(`${MODEL_DIR}/model.onnx`, sessionOptions(1, 'cpu')),
    past: await ort.InferenceSession.create(`${MODEL_DIR}/${PAST_MODEL_FILE}`, sessionOptions(1, 'cpu')),
  };
});

/** The input that picks the graph form; runPast adds the past. */
const form = (usePast: boolean): Record<string, ort.Tensor> => ({ [USE_PAST]: new ort.Tensor('bool', [usePast], []) });

/** Rows of random ids (some padded on the right), seeded so that a failure repeats. */
function randomRows(seed: number, rows: number, maxLength: number): number[][] {
  const random = mulberry32(seed);
  return Array.from({ length: rows }, () => Array.from({ length: 1 + Math.floor(random() * maxLength) }, () => Math.floor(random() * 5000)));
}

describe('model.onnx and model-past.onnx in one session', () => {
  test('use_past=false scores a padded batch exactly as model.onnx does', async () => {
    for (const seed of [1, 2, 3]) {
      const batch = padRight(randomRows(seed, 4, 40));
      const want = await onnxLogits(sessions.whole, batch);
      const got = await runPast(sessions.both, batch, emptyPast(SHAPE), form(false));
      assert.deepEqual(got.logits, want, `seed ${seed}`);
    }
  });

  test('use_past=true runs a prefix pass and suffixes exactly as model-past.onnx does', async () => {
    const [prefix, ...suffixes] = randomRows(7, 5, 30);
    const wantPrefix = await runPast(sessions.past, padRight([prefix]), emptyPast(SHAPE));
    const gotPrefix = await runPast(sessions.both, padRight([prefix]), emptyPast(SHAPE), form(true));
    for (let i = 0; i < SHAPE.layers; i++) {
      assert.deepEqual(Array.from(gotPrefix.present.keys[i].data as Float32Array), Array.from(wantPrefix.present.keys[i].data as Float32Array));
      assert.deepEqual(Array.from(gotPrefix.present.values[i].data as Float32Array), Array.from(wantPrefix.present.values[i].data as Float32Array));
    }
    const batch = padRight(suffixes);
    const want = await runPast(sessions.past, batch, wantPrefix.present);
    const got = await runPast(sessions.both, batch, wantPrefix.present, form(true));
    assert.deepEqual(got.logits, want.logits);
  });

  test('each weight in model.onnx.data is defined once', () => {
    const external = (model: Uint8Array) => {
      const graph = decodeMessage(fieldBytes(decodeMessage(model).find((f) => f.no === MODEL.graph)!));
      return graph.filter((f) => f.no === GRAPH.initializer).map((f) => decodeMessage(fieldBytes(f))).filter((t) => t.some((f) => f.no === TENSOR.externalData));
    };
    const whole = external(readFileSync(`${MODEL_DIR}/model.onnx`));
    const past = external(readFileSync(`${MODEL_DIR}/${PAST_MODEL_FILE}`));
    assert.ok(whole.length > 0 && past.length > 0, 'the tiny model keeps its weights in model.onnx.data');
    assert.equal(external(sessions.bytes).length, whole.length);
  });

  test('a node holding subgraphs (an If, as the TorchScript exporter writes them) joins with its references intact', async () => {
    const past = readFileSync(`${MODEL_DIR}/${PAST_MODEL_FILE}`);
    const model = singleSessionModel(readFileSync(`${MODEL_DIR}/model.onnx`), withIfBeforeLogits(past));
    const session = await ort.InferenceSession.create(model, sessionOptions(1, 'cpu', { externalDataDir: MODEL_DIR }));
    const batch = padRight(randomRows(13, 3, 20));
    const want = await runPast(sessions.past, batch, emptyPast(SHAPE));
    const got = await runPast(session, batch, emptyPast(SHAPE), form(true));
    assert.deepEqual(got.logits, want.logits);
  });

  test('graphs that import different versions of an opset are refused, naming both files', () => {
    const past = readFileSync(`${MODEL_DIR}/${PAST_MODEL_FILE}`);
    const otherOpset = Buffer.concat([past, lengthField(MODEL.opsetImport, [lengthField(OPERATOR_SET_ID.domain, ''), varintField(OPERATOR_SET_ID.version, 99)])]);
    assert.throws(() => singleSessionModel(readFileSync(`${MODEL_DIR}/model.onnx`), otherOpset), /model\.onnx and model-past\.onnx import different versions of opset ""/);
  });
});

/**
 * model-past.onnx with its logits passed through If(true) { Identity } else { Identity }: each branch
 * reads the graph's own value (logits_inner) from the enclosing scope and defines one of its own.
 */
function withIfBeforeLogits(modelBytes: Uint8Array): Uint8Array {
  const model = decodeMessage(modelBytes);
  const graph = decodeMessage(fieldBytes(model.find((f) => f.no === MODEL.graph)!));
  const text = (s: string) => new TextEncoder().encode(s);
  const floatType = lengthField(VALUE_INFO.type, [lengthField(TYPE.tensorType, [varintField(TENSOR_TYPE.elemType, DataType.FLOAT)])]);
  const identityBranch = (name: string) => [
    lengthField(GRAPH.node, [lengthField(NODE.input, 'logits_inner'), lengthField(NODE.output, `${name}_out`), lengthField(NODE.opType, 'Identity')]),
    lengthField(GRAPH.name, name),
    lengthField(GRAPH.output, [lengthField(VALUE_INFO.name, `${name}_out`), floatType]),
  ];
  const ifNode = [
    lengthField(NODE.input, 'always'), lengthField(NODE.output, 'logits'), lengthField(NODE.opType, 'If'),
    lengthField(NODE.attribute, [lengthField(ATTRIBUTE.name, 'then_branch'), lengthField(ATTRIBUTE.graph, identityBranch('then')), varintField(ATTRIBUTE.type, AttributeType.GRAPH)]),
    lengthField(NODE.attribute, [lengthField(ATTRIBUTE.name, 'else_branch'), lengthField(ATTRIBUTE.graph, identityBranch('else')), varintField(ATTRIBUTE.type, AttributeType.GRAPH)]),
  ];
  const always = [varintField(TENSOR.dataType, DataType.BOOL), lengthField(TENSOR.name, 'always'), lengthField(TENSOR.rawData, Uint8Array.of(1))];
  const rewritten = graph.map((f) => {
    if (f.no !== GRAPH.node) return f.encoded;
    const node = decodeMessage(fieldBytes(f));
    const isLogits = (g: WireField) => g.no === NODE.output && Buffer.from(fieldBytes(g)).equals(text('logits'));
    if (!node.some(isLogits)) return f.encoded;
    return lengthField(GRAPH.node, node.map((g) => (isLogits(g) ? lengthField(NODE.output, 'logits_inner') : g.encoded)));
  });
  const newGraph = [...rewritten, lengthField(GRAPH.node, ifNode), lengthField(GRAPH.initializer, always)];
  return Buffer.concat(model.map((f) => (f.no === MODEL.graph ? lengthField(MODEL.graph, newGraph) : f.encoded)));
}
