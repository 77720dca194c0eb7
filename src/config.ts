// Every setting is an environment variable and a CLI flag (`MAX_BATCH_TOKENS` ⇔ `--max-batch-tokens`),
// validated once at boot. A bad value stops start-up with a message naming the variable.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { providerDefaults, type ModelShape } from './provider-defaults.ts';

export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../models/tiny-random-qwen3-rm', import.meta.url));

/** `shown`: the default as the configuration table (docs/operations.md) states it, where the value itself depends on the machine. */
interface Documented { help: string; shown?: string }
interface IntSpec extends Documented { kind: 'int'; default: number; min: number; max?: number }
interface FloatSpec extends Documented { kind: 'float'; default: number; min: number; max: number }
interface StrSpec extends Documented { kind: 'string'; default: string }
interface EnumSpec extends Documented { kind: 'enum'; default: string; values: readonly string[] }
export type Spec = IntSpec | FloatSpec | StrSpec | EnumSpec;

/** Where the model runs: EXECUTION_PROVIDER's values. */
export const EXECUTION_PROVIDERS = ['auto', 'cuda', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

const MiB = 1024 * 1024;
/** One core is left to the event loop and the model; more than 4 prep threads rarely pay for their tokenizers' memory. */
const DEFAULT_PREP_THREADS = Math.min(4, Math.max(1, availableParallelism() - 1));

export const SPECS = {
  HOST: { kind: 'string', default: '127.0.0.1', help: 'Interface to listen on; 0.0.0.0 in containers.' },
  PORT: { kind: 'int', default: 8080, min: 0, max: 65535, help: 'TCP port.' },
  MODEL_DIR: { kind: 'string', default: DEFAULT_MODEL_DIR, shown: 'models/tiny-random-qwen3-rm', help: 'Model directory: model.onnx (external data allowed), config.json, tokenizer.json, tokenizer_config.json, optional chat_template.jinja. Default: the embedded demo model.' },
  EXECUTION_PROVIDER: { kind: 'enum', default: 'auto', values: EXECUTION_PROVIDERS, help: "auto: an fp16/bf16 export on CUDA (start-up refused where CUDA cannot start), an fp32 export on the CPU, saying why in one log line; cuda: fails start-up if CUDA cannot start, naming the missing libraries; cpu: any export on the CPU." },
  ALLOW_FP32_CUDA: { kind: 'int', default: 0, min: 0, max: 1, help: "1 runs an fp32 export on CUDA although its attention falls back to the CPU there; 0 refuses it at start-up, naming the fp16/bf16 export (auto runs fp32 on the CPU)." },
  MAX_LENGTH: { kind: 'int', default: 4096, min: 16, max: 131072, help: 'Tokens per item; longer prompts are right-truncated (RL recipe: 4096).' },
  MAX_BATCH_TOKENS: { kind: 'int', default: 0, min: 0, help: 'Padded-token budget of one model batch: bigger batches use the accelerator better but cost memory and latency; an item longer than the budget runs alone. 0: 1024 on CPU; on CUDA the largest power of two whose activations fit 1 GiB, from the model\'s sizes (docs/models.md).' },
  MAX_BATCH_ATTENTION: { kind: 'int', default: 0, min: 0, help: 'Largest rows x padded length^2 of a batch, the size of one head\'s attention scores, which bounds activation memory; a single item always runs. 0: none on CUDA, 1048576 (1024^2) on CPU.' },
  MAX_BATCH_ITEMS: { kind: 'int', default: 256, min: 1, help: 'Item cap of one model batch.' },
  MAX_PADDING_SHARE: { kind: 'float', default: 0.1, min: 0, max: 1, shown: '0.1 (CPU), 0.25 (CUDA)', help: 'Largest padding share of a batch: low keeps CPU work useful; on GPUs bigger batches matter more than padding. Unset: 0.1 on CPU, 0.25 on CUDA.' },
  MAX_WAIT_MS: { kind: 'int', default: 2, min: 0, max: 10000, help: 'How long an idle model waits for a partial batch to fill: latency traded for batch size.' },
  MAX_QUEUE_ITEMS: { kind: 'int', default: 4096, min: 1, help: 'Items admitted to the batch queue at once; a request that does not fit waits for room in arrival order (ADMISSION_TIMEOUT_MS) and is admitted in parts.' },
  ADMISSION_TIMEOUT_MS: { kind: 'int', default: 60000, min: 0, max: 600000, help: "How long a request may wait for room in the queue before a 503 with Retry-After (a request admitted in part is never refused); 0 refuses at once; must exceed MAX_WAIT_MS. Default: well within the 180 s timeout of OpenRLHF's client." },
  MAX_CLIENT_BATCH: { kind: 'int', default: 16384, min: 1, help: "Items allowed in one request (422 above); a waiting request's token ids take up to MAX_CLIENT_BATCH x MAX_LENGTH x 4 bytes." },
  MAX_TEXT_CHARS: { kind: 'int', default: 131072, min: 1024, help: 'Characters allowed in one text field (a question, response, query, prompt, text or message; token ids in /detokenize), 413 above: bounds the work of one item, as a run without breaks (a line of 100,000 letters) is tokenized whole.' },
  BODY_LIMIT: { kind: 'int', default: 32 * MiB, min: 1024, help: 'Request body limit in bytes (413 above).' },
  REQUEST_TIMEOUT_MS: { kind: 'int', default: 60000, min: 0, help: 'How long a client may take to send a whole request, headers and body, before a 408 closes its connection and frees what it sent: shorter frees stalled uploads sooner, longer serves slower links; the answer itself may take longer. 0: no limit.' },
  CONNECTION_TIMEOUT_MS: { kind: 'int', default: 300000, min: 0, help: 'Silence on a connection, in either direction, after which it is closed: frees the sockets of clients that vanished without closing; must exceed ADMISSION_TIMEOUT_MS, and an answer slower than this is cut. Default: above the 180 s timeout of OpenRLHF\'s client. 0: never.' },
  INTRA_OP_THREADS: { kind: 'int', default: 0, min: 0, help: 'ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose (all cores).' },
  PREPACK_WEIGHTS: { kind: 'enum', default: 'off', values: ['off', 'on'], help: "on: ONNX Runtime copies the matrix weights into its packed layout at start-up, for faster products at the cost of a second copy of them in memory (two while the session is made); off: it reads them from the mapped model file." },
  PREP_THREADS: { kind: 'int', default: DEFAULT_PREP_THREADS, shown: 'cores − 1, 1 to 4', min: 0, max: 64, help: 'Threads that extract, check syntax and tokenize, each with its own tokenizer (~100 MiB); 0 does that work on the event loop. Default: cores - 1, from 1 to 4.' },
  MODEL_NICE: { kind: 'int', default: 10, min: 0, max: 19, shown: '10 (CPU), 0 (CUDA)', help: "Linux nice value of the model's threads: where the cores are shared, the event loop (HTTP, /health) runs first and the model takes the rest; 0 runs them at equal priority. Unset: 10 on CPU, 0 on CUDA (the model thread mostly waits on the GPU)." },
  PREP_SLICE_TIMEOUT_MS: { kind: 'int', default: 60000, min: 0, help: 'CPU time one slice of a request (32 items) may take on a prep thread; past it the thread is replaced and only that request fails (422). Lower frees a wedged thread sooner; too low refuses honest large items. 0: no limit.' },
  INFERENCE_TIMEOUT_MS: { kind: 'int', default: 300000, min: 0, help: "Wall time one model batch may take; past it the model worker is replaced (its batch's items fail with 503, the queue keeps the rest). Lower recovers from a hung run sooner; too low fails slow honest batches (a CPU, a large MAX_BATCH_TOKENS). 0: no limit." },
  UNHEALTHY_AFTER_MS: { kind: 'int', default: 60000, min: 0, help: '/health answers 503 once the model worker, or every prep thread, has been failing (failed starts, exits, deadlines, failed batches, with no success since) this long, so Kubernetes restarts the pod: lower restarts a broken pod sooner, higher rides out a passing fault.' },
  SHUTDOWN_TIMEOUT_MS: { kind: 'int', default: 30000, min: 0, help: 'On SIGTERM, how long queued work may take to finish before exit.' },
  RETRY_AFTER_S: { kind: 'int', default: 1, min: 0, max: 3600, help: 'Retry-After seconds sent with 503 overload answers.' },
  RESULT_CACHE_ITEMS: { kind: 'int', default: 65536, min: 0, help: 'Logits kept for token sequences scored before (client retries, programs sampled again), answered without the model; an entry is a hash and one float whatever the length. 0 turns the cache off; identical items in one batch still run once.' },
  PREFIX_MIN_TOKENS: { kind: 'int', default: 128, min: 0, help: 'Items waiting together (from one request or several) whose token ids share a prefix of at least this many tokens, such as a GRPO group\'s question, run that prefix once and each rest against its keys and values; needs model-past.onnx in MODEL_DIR. 0 turns prefix sharing off (and model-past.onnx is not loaded).' },
  PREFIX_CACHE_MB: { kind: 'int', default: 64, min: 0, max: 1048576, shown: '64 (CPU); 8 questions of 1,024 tokens (CUDA)', help: "MiB of shared prefixes' keys and values kept in the model worker, least recently used out first, so a group split across batches or requests computes its prefix once; a prefix larger than the cache is shared only within its batch. Unset: 64 on CPU; on CUDA room for 8 questions of 1,024 tokens of this model (docs/models.md). 0 turns prefix sharing off." },
  API_KEY: { kind: 'string', default: '', shown: 'unset', help: 'When set, every route but /health, /ready, /metrics and the reference (/docs, /openapi.json, /openapi.yaml) needs "Authorization: Bearer <key>"; unset, anyone who reaches HOST can use every route.' },
  CORS_ORIGINS: { kind: 'string', default: '', shown: 'none', help: 'Comma-separated origins (scheme://host:port) whose web pages may call the service, with CORS headers; a request from any other page (it carries Origin) is refused 403, which keeps pages from sending work through their visitors\' browsers. * allows every page. Trainers send no Origin.' },
  LOG_LEVEL: { kind: 'enum', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], help: 'Log level; debug adds one line per answered request (method, url, status, ms).' },
} as const satisfies Record<string, Spec>;

type Specs = typeof SPECS;
export type Config = {
  [K in keyof Specs]: Specs[K] extends IntSpec | FloatSpec ? number : Specs[K] extends EnumSpec ? Specs[K]['values'][number] : string;
};

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function flagName(variable: string): string {
  return '--' + variable.toLowerCase().replaceAll('_', '-');
}

/** Reads `--flag value` and `--flag=value` pairs; flags win over the environment. */
function parseArgv(argv: readonly string[]): Map<string, string> {
  const byFlag = new Map(Object.keys(SPECS).map((v) => [flagName(v), v]));
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const variable = byFlag.get(flag);
    if (!variable) throw new ConfigError(arg, `unknown option (known: ${[...byFlag.keys()].join(', ')})`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(variable, `${flag} needs a value`);
    out.set(variable, value);
  }
  return out;
}

function parseValue(variable: string, spec: Spec, raw: string): number | string {
  switch (spec.kind) {
    case 'string':
      if (raw.length === 0 && spec.default !== '') throw new ConfigError(variable, 'must not be empty');
      return raw;
    case 'enum':
      if (!spec.values.includes(raw)) throw new ConfigError(variable, `must be one of ${spec.values.join('|')}, got ${JSON.stringify(raw)}`);
      return raw;
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(variable, `must be a number, got ${JSON.stringify(raw)}`);
      if (n < spec.min || n > spec.max) throw new ConfigError(variable, `must be in [${spec.min}, ${spec.max}], got ${n}`);
      return n;
    }
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(variable, `must be a non-negative integer, got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (n < spec.min || (spec.max !== undefined && n > spec.max)) {
        throw new ConfigError(variable, `must be in [${spec.min}, ${spec.max ?? '∞'}], got ${n}`);
      }
      return n;
    }
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const flags = parseArgv(argv);
  const out: Record<string, number | string> = {};
  for (const [variable, spec] of Object.entries(SPECS) as [string, Spec][]) {
    const raw = flags.get(variable) ?? env[variable];
    out[variable] = raw === undefined ? spec.default : parseValue(variable, spec, raw);
  }
  const config = out as Config;
  EXPLICIT.set(config, new Set(Object.keys(SPECS).filter((v) => flags.has(v) || env[v] !== undefined)));
  if (config.ADMISSION_TIMEOUT_MS !== 0 && config.ADMISSION_TIMEOUT_MS <= config.MAX_WAIT_MS) {
    throw new ConfigError('ADMISSION_TIMEOUT_MS', `must be 0 or more than MAX_WAIT_MS (${config.MAX_WAIT_MS}): room frees only when a batch starts, which can take MAX_WAIT_MS`);
  }
  if (config.CONNECTION_TIMEOUT_MS !== 0 && config.CONNECTION_TIMEOUT_MS <= config.ADMISSION_TIMEOUT_MS) {
    throw new ConfigError('CONNECTION_TIMEOUT_MS', `must be 0 or more than ADMISSION_TIMEOUT_MS (${config.ADMISSION_TIMEOUT_MS}): a request waiting for room sends nothing, and its connection would be closed under it`);
  }
  if (config.PREFIX_MIN_TOKENS !== 0 && config.PREFIX_MIN_TOKENS < MIN_SHARED_PREFIX) {
    throw new ConfigError('PREFIX_MIN_TOKENS', `must be 0 (off) or at least ${MIN_SHARED_PREFIX}, got ${config.PREFIX_MIN_TOKENS}: a shorter prefix saves less than the extra model run of its prefix pass costs`);
  }
  return config;
}

/** Shortest PREFIX_MIN_TOKENS accepted: sharing fewer tokens saves less than the prefix pass's own run costs. */
const MIN_SHARED_PREFIX = 16;

/** Whether the configuration asks for prefix sharing (it also needs model-past.onnx in MODEL_DIR). */
export function prefixSharingWanted(config: Pick<Config, 'PREFIX_MIN_TOKENS' | 'PREFIX_CACHE_MB'>): boolean {
  return config.PREFIX_MIN_TOKENS > 0 && config.PREFIX_CACHE_MB > 0;
}

/**
 * The batch token budget in force once the execution provider is known: MAX_BATCH_TOKENS when set,
 * else the provider's default for this model (provider-defaults.ts: measured on CPU, sized from
 * the model's activation bytes per token on CUDA). An item longer than the budget runs alone.
 */
export function batchTokenBudget(config: Pick<Config, 'MAX_BATCH_TOKENS'>, provider: string, shape: ModelShape | undefined): number {
  return config.MAX_BATCH_TOKENS > 0 ? config.MAX_BATCH_TOKENS : providerDefaults(provider, shape).maxBatchTokens;
}

/**
 * The attention budget in force once the provider is known: MAX_BATCH_ATTENTION when set, else the
 * provider's default. On CPU a batch of long items costs memory in proportion to rows × length²
 * (bench model: 4 × 851 tokens take ~300 MiB of activations against ~80 MiB for 1 × 851) and runs no
 * faster per token than one item; CUDA's fused attention holds no such buffer.
 */
export function batchAttentionBudget(config: Pick<Config, 'MAX_BATCH_ATTENTION'>, provider: string, shape: ModelShape | undefined): number {
  return config.MAX_BATCH_ATTENTION > 0 ? config.MAX_BATCH_ATTENTION : providerDefaults(provider, shape).maxBatchAttention;
}

/** The variables a Config was given (environment or flag), as opposed to those left at their defaults. */
const EXPLICIT = new WeakMap<object, ReadonlySet<string>>();

/**
 * Whether `variable` was set rather than left at its default. A Config not made by loadConfig (a
 * spread copy, a literal in a bench) counts every value as set, so it runs exactly as written.
 */
export function isExplicit(config: object, variable: keyof Config): boolean {
  return EXPLICIT.get(config)?.has(variable) ?? true;
}

/**
 * A setting whose default depends on the provider (MAX_PADDING_SHARE, PREFIX_CACHE_MB, MODEL_NICE):
 * the value given, else the provider's default for this model; its spec default is the CPU's.
 */
export function providerSetting<K extends 'MAX_PADDING_SHARE' | 'PREFIX_CACHE_MB' | 'MODEL_NICE'>(config: Config, variable: K, provider: string, shape: ModelShape | undefined): number {
  if (isExplicit(config, variable)) return config[variable] as number;
  const defaults = providerDefaults(provider, shape);
  switch (variable) {
    case 'MAX_PADDING_SHARE': return defaults.maxPaddingShare;
    case 'PREFIX_CACHE_MB': return defaults.prefixCacheBytes / (1024 * 1024);
    default: return defaults.modelNice;
  }
}

/** One line per option, for --help and the configuration table. */
export function describeOptions(): string {
  return Object.entries(SPECS as Record<string, Spec>)
    .map(([v, s]) => `${v.padEnd(20)} ${flagName(v).padEnd(22)} default ${JSON.stringify(s.default)}  ${s.help}`)
    .join('\n');
}
