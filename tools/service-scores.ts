// The service's side of the Hugging Face parity check (scripts/check_hf_parity.py) and of the golden
// test: (question, code) pairs through the service's own modules, from the chat template to the logit.
//
//   npx tsx tools/service-scores.ts --model-dir DIR --max-length N [--provider cpu|cuda|auto] < pairs.json > out.json
//
// pairs.json: [{"question": str, "code": str}, ...], the code already extracted (no fences, not
// stripped here). out.json: {"model_dir", "max_length", "execution_provider", "results": [{"text",
// "ids", "truncated", "logit"}, ...]} in input order. The prompts go through PromptEncoder and the
// real BatchQueue in front of OnnxRewardModel, so the padded tensors are the ones the service builds.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BatchQueue } from '../src/batch/queue.ts';
import { batchTokenBudget, EXECUTION_PROVIDERS, loadConfig, type ExecutionProvider } from '../src/config.ts';
import { loadModelDir, type ModelDir } from '../src/model/model-dir.ts';
import { modelShape } from '../src/provider-defaults.ts';
import { OnnxRewardModel } from '../src/model/onnx-model.ts';
import { PromptEncoder } from '../src/prompt/prompt.ts';

export interface Pair {
  question: string;
  code: string;
}

export interface PairScore {
  /** The rendered chat template, exactly what was tokenized. */
  text: string;
  ids: number[];
  truncated: boolean;
  logit: number;
}

export interface ScoreOptions {
  maxLength: number;
  provider: ExecutionProvider;
  /** Defaults to the service's budget for the provider; raised to maxLength when smaller. */
  maxBatchTokens?: number;
}

const quietLog = { info() {}, warn: (msg: string) => console.error(msg), error: (msg: string) => console.error(msg) };

/** Scores pairs the way the service does (template, tokenize, right-truncate, batch, ONNX), in input order. */
export async function scorePairs(md: ModelDir, pairs: readonly Pair[], opts: ScoreOptions): Promise<{ executionProvider: string; results: PairScore[] }> {
  const defaults = loadConfig({});
  const encoder = new PromptEncoder(md, opts.maxLength);
  const rendered = pairs.map(({ question, code }) => {
    const text = encoder.renderChat(question, code);
    return { text, prompt: encoder.encodeText(text) };
  });
  const model = await OnnxRewardModel.create({
    onnxPath: md.onnxPath, provider: opts.provider, intraOpThreads: 0, name: md.name, dtype: md.dtype, retryAfterS: 1, log: quietLog,
  });
  const queue = new BatchQueue(model, {
    maxBatchTokens: Math.max(opts.maxBatchTokens ?? batchTokenBudget({ MAX_BATCH_TOKENS: 0 }, model.info.executionProvider, modelShape(md.config, md.dtype)), opts.maxLength),
    maxBatchItems: defaults.MAX_BATCH_ITEMS,
    // Any padding and no attention limit: parity should cover rows padded far past their length.
    maxBatchAttention: 0,
    maxPaddingShare: 1,
    maxWaitMs: defaults.MAX_WAIT_MS,
    maxQueueItems: Math.max(pairs.length, 1),
    admissionTimeoutMs: defaults.ADMISSION_TIMEOUT_MS,
    padTokenId: md.padTokenId,
    retryAfterS: 1,
  });
  try {
    const scored = await Promise.all(queue.submit(rendered.map((r) => r.prompt.ids)));
    return {
      executionProvider: model.info.executionProvider,
      results: rendered.map(({ text, prompt }, i) => ({ text, ids: Array.from(prompt.ids), truncated: prompt.truncated, logit: scored[i].logit })),
    };
  } finally {
    await queue.drain();
    await model.close();
  }
}

/** Pairs from JSON, refusing anything but an array of {question: string, code: string}. */
export function parsePairs(json: string): Pair[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error('stdin must hold a JSON array of {"question", "code"} objects');
  return parsed.map((p, i) => {
    if (p === null || typeof p !== 'object' || typeof p.question !== 'string' || typeof p.code !== 'string') {
      throw new Error(`pair ${i}: needs string "question" and "code"`);
    }
    return { question: p.question, code: p.code };
  });
}

const USAGE = 'usage: service-scores --model-dir DIR --max-length N [--provider cpu|cuda|auto] [--max-batch-tokens N] < pairs.json > out.json';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'model-dir': { type: 'string' },
      'max-length': { type: 'string' },
      // CPU by default: fp32 on the CPU provider is what the 1e-4 parity bound is stated for.
      provider: { type: 'string', default: 'cpu' },
      'max-batch-tokens': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const maxLength = Number(values['max-length']);
  const maxBatchTokens = values['max-batch-tokens'] === undefined ? undefined : Number(values['max-batch-tokens']);
  const provider = EXECUTION_PROVIDERS.find((p) => p === values.provider);
  if (values['model-dir'] === undefined || !Number.isSafeInteger(maxLength) || maxLength < 1 || provider === undefined
    || (maxBatchTokens !== undefined && !(Number.isSafeInteger(maxBatchTokens) && maxBatchTokens >= 1))) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const md = loadModelDir(values['model-dir']);
  const pairs = parsePairs(readFileSync(0, 'utf8'));
  const { executionProvider, results } = await scorePairs(md, pairs, { maxLength, provider, maxBatchTokens });
  process.stdout.write(JSON.stringify({ model_dir: md.dir, max_length: maxLength, execution_provider: executionProvider, results }) + '\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    console.error(`service-scores: ${err.message}`);
    process.exitCode = 1;
  });
}
