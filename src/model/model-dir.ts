// A model directory is what MODEL_DIR points at: model.onnx (external data allowed), config.json,
// tokenizer.json, tokenizer_config.json and optionally chat_template.jinja and model-past.onnx (the
// same network over suffixes against a shared prefix's keys and values, for prefix sharing). Everything is read
// from disk once at start-up; a missing or malformed file stops start-up naming the file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export class ModelDirError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ModelDirError';
  }
}

export interface ModelDir {
  dir: string;
  /** Served as `model` in responses: config's `_name_or_path` when set (a path's last folder), else the folder name. */
  name: string;
  onnxPath: string;
  onnxBytes: number;
  /** model-past.onnx when the directory has one; without it the service runs without prefix sharing. */
  pastOnnxPath?: string;
  config: Record<string, unknown>;
  /** tokenizer.json: checked at load, parsed again only where a tokenizer is built (the prep threads). */
  tokenizerPath: string;
  /** Contents of the special added tokens, from tokenizer.json. */
  specialTokens: string[];
  tokenizerConfig: Record<string, unknown>;
  chatTemplate: string;
  chatTemplateSource: 'chat_template.jinja' | 'tokenizer_config.json';
  padTokenId: number;
  /** Parameter dtype the export declares (config `torch_dtype`/`dtype`), informational. */
  dtype: string;
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new ModelDirError(path, 'missing');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ModelDirError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ModelDirError(path, 'must hold a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The template string, from a plain string or the named-list form (the "default" entry). */
function templateFromConfig(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const entry = value.find((t) => t && typeof t === 'object' && (t as { name?: unknown }).name === 'default');
    if (entry && typeof entry.template === 'string') return entry.template;
  }
  return undefined;
}

export function loadModelDir(dirArg: string): ModelDir {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelDirError(dir, 'model directory does not exist');

  const onnxPath = join(dir, 'model.onnx');
  if (!existsSync(onnxPath)) throw new ModelDirError(onnxPath, `missing${checkpointHint(dir)}`);
  const onnxBytes = statSync(onnxPath).size + (existsSync(`${onnxPath}.data`) ? statSync(`${onnxPath}.data`).size : 0);
  if (onnxBytes === 0) throw new ModelDirError(onnxPath, 'empty file');

  const pastPath = join(dir, 'model-past.onnx');
  const pastOnnxPath = existsSync(pastPath) ? pastPath : undefined;

  const configPath = join(dir, 'config.json');
  const config = readJson(configPath);
  const labels = config.num_labels ?? (config.id2label ? Object.keys(config.id2label as object).length : 1);
  if (labels !== 1) throw new ModelDirError(configPath, `num_labels must be 1 for a reward model, got ${JSON.stringify(labels)}`);

  const tokenizerJsonPath = join(dir, 'tokenizer.json');
  const tokenizerJson = readJson(tokenizerJsonPath);
  if (!tokenizerJson.model || typeof tokenizerJson.model !== 'object') {
    throw new ModelDirError(tokenizerJsonPath, 'has no "model" section');
  }
  const specialTokens = specialTokensOf(tokenizerJson);
  const tokenizerConfigPath = join(dir, 'tokenizer_config.json');
  const tokenizerConfig = readJson(tokenizerConfigPath);

  const jinjaPath = join(dir, 'chat_template.jinja');
  let chatTemplate: string | undefined;
  let chatTemplateSource: ModelDir['chatTemplateSource'] = 'tokenizer_config.json';
  if (existsSync(jinjaPath)) {
    chatTemplate = readFileSync(jinjaPath, 'utf8');
    chatTemplateSource = 'chat_template.jinja';
    if (chatTemplate.trim() === '') throw new ModelDirError(jinjaPath, 'empty template');
  } else {
    chatTemplate = templateFromConfig(tokenizerConfig.chat_template);
    if (chatTemplate === undefined) {
      throw new ModelDirError(tokenizerConfigPath, 'no chat_template (and no chat_template.jinja beside it)');
    }
  }

  const padTokenId = config.pad_token_id;
  if (typeof padTokenId !== 'number' || !Number.isInteger(padTokenId)) {
    throw new ModelDirError(configPath, 'pad_token_id must be an integer (the score is read at the last non-padding token)');
  }

  const name = typeof config._name_or_path === 'string' && config._name_or_path !== '' ? servedName(config._name_or_path) : basename(dir);
  const dtype = String(config.torch_dtype ?? config.dtype ?? 'float32');
  return { dir, name, onnxPath, onnxBytes, ...(pastOnnxPath && { pastOnnxPath }), config, tokenizerPath: tokenizerJsonPath, specialTokens, tokenizerConfig, chatTemplate, chatTemplateSource, padTokenId, dtype };
}

/**
 * A hub id (`org/name`) as it is; a filesystem path (what `_name_or_path` holds when the checkpoint
 * was loaded from disk, a cache snapshot included) as its last folder, so no answer shows a path.
 */
function servedName(nameOrPath: string): string {
  const parts = nameOrPath.split(/[/\\]/).filter((part) => part !== '');
  const isPath = /^([/\\~.]|[A-Za-z]:)/.test(nameOrPath) || parts.length > 2;
  return isPath ? (parts.at(-1) ?? nameOrPath) : nameOrPath;
}

/**
 * A Hugging Face checkpoint (config.json beside safetensors or PyTorch weights) is the usual thing to
 * point MODEL_DIR at by mistake: say how to make the model.onnx the service runs.
 */
function checkpointHint(dir: string): string {
  const files = readdirSync(dir);
  const weights = files.some((f) => f.endsWith('.safetensors') || f === 'pytorch_model.bin' || f.endsWith('.safetensors.index.json'));
  if (!files.includes('config.json') || !weights) return '';
  return `; ${dir} looks like a Hugging Face checkpoint, which the service cannot run as it is: make model.onnx with \`python3 scripts/export_onnx.py --model ${dir} --out DIR\` and set MODEL_DIR=DIR (README "Serve a real model")`;
}

/** The special added tokens' contents (turn markers and the like). */
export function specialTokensOf(tokenizerJson: Record<string, unknown>): string[] {
  const added = (Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : []) as { content?: unknown; special?: unknown }[];
  return added.filter((t) => t.special === true && typeof t.content === 'string' && t.content !== '').map((t) => t.content as string);
}
