// Hugging Face transformers in-process (bench/lib/transformers_loop.py), the way CodeScaler runs its
// reward model, over the very batches the ONNX Runtime loop runs: same prompts, same cut.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.ts';
import { PAD_TOKEN_ID } from '../../tools/make-model/config.ts';
import { cutBatches, type Encoded } from './raw-loop.ts';
import { MiB, sum } from './stats.ts';

const LOOP = fileURLToPath(new URL('./transformers_loop.py', import.meta.url));

type BatchLimits = Pick<Config, 'MAX_BATCH_TOKENS' | 'MAX_BATCH_ATTENTION' | 'MAX_BATCH_ITEMS' | 'MAX_PADDING_SHARE'>;

export interface TransformersRequest {
  name: string;
  prompts: readonly Encoded[];
  /** A token budget (no attention cap, any padding), or the exact limits the ONNX loop used. */
  budget: number | BatchLimits;
}

export interface TransformersRun {
  wallS: number;
  itemsPerS: number;
  tokensPerS: number;
  /** Raw logit per item index. */
  logits: Map<number, number>;
}

/**
 * Runs every request in one Python process (one model load) from `modelDir`'s config.json and
 * model.safetensors; `python` is the parity venv's interpreter. Only the forward passes are timed.
 * `nice`: the Linux nice value to run it at.
 */
export function runTransformers(python: string, modelDir: string, requests: readonly TransformersRequest[], threads: number, nice = 0): { versions: string; runs: Map<string, TransformersRun> } {
  const limitsOf = (r: TransformersRequest): BatchLimits =>
    typeof r.budget === 'number' ? { MAX_BATCH_TOKENS: r.budget, MAX_BATCH_ATTENTION: 0, MAX_BATCH_ITEMS: 256, MAX_PADDING_SHARE: 1 } : r.budget;
  const cut = requests.map((r) => cutBatches(r.prompts, limitsOf(r)));
  const input = JSON.stringify({
    model_dir: modelDir,
    threads,
    pad_token_id: PAD_TOKEN_ID,
    runs: requests.map((r, k) => ({ name: r.name, batches: cut[k].map((b) => b.map((p) => p.ids)) })),
  });
  // At `nice`, as the ONNX Runtime side it is compared with runs.
  const result = spawnSync('nice', ['-n', String(nice), python, LOOP], { input, encoding: 'utf8', maxBuffer: 256 * MiB });
  if (result.status !== 0) throw new Error(`transformers loop failed (${result.status ?? result.error?.message}): ${result.stderr?.slice(-2000)}`);
  const out = JSON.parse(result.stdout) as { torch: string; transformers: string; runs: { name: string; wall_s: number; logits: number[] }[] };
  const runs = new Map<string, TransformersRun>();
  out.runs.forEach((run, k) => {
    const order = cut[k].flat();
    const tokens = sum(order.map((p) => p.ids.length));
    runs.set(run.name, {
      wallS: run.wall_s,
      itemsPerS: order.length / run.wall_s,
      tokensPerS: tokens / run.wall_s,
      logits: new Map(order.map((p, i) => [p.index, run.logits[i]])),
    });
  });
  return { versions: `torch ${out.torch}, transformers ${out.transformers}`, runs };
}
