// Runs in a worker thread: onnxruntime-node's session.run blocks its thread for the whole batch,
// so the event loop that answers HTTP must never own the session.
import { readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../config.ts';
import { cudaUnavailableReason, explainCudaFailure } from './cuda.ts';
import { chooseProvider, isHalfPrecision, refuseHalfOnCpu, type ProviderChoice } from './provider-choice.ts';
import { modelShape, providerDefaults } from '../provider-defaults.ts';
import { sessionOptions } from './session-options.ts';
import {
  ATTENTION_MASK, INPUT_IDS, LOGITS, pastKeyName, pastValueName, presentKeyName, presentValueName, USE_PAST,
} from './graph-names.ts';
import { singleSessionModel } from './single-session.ts';
import { nativeTask } from '../thread-stop.ts';

export interface WorkerInit {
  onnxPath: string;
  provider: ExecutionProvider;
  /** config.json's torch_dtype: which providers suit the export (provider-choice.ts). */
  dtype: string;
  /** ALLOW_FP32_CUDA: run an fp32 export on CUDA although its attention falls back to the CPU. */
  allowFp32Cuda?: boolean;
  intraOpThreads: number;
  /** PREPACK_WEIGHTS: ONNX Runtime's packed copies of the weights (faster, a second copy in memory). */
  prepack?: boolean;
  /** Linux nice value for this thread and the ONNX Runtime threads it starts (0: leave as is); unset: by provider (provider-defaults.ts). */
  nice?: number;
  /** model-past.onnx, loaded with model.onnx into one session (single-session.ts) when prefix sharing is on. */
  pastOnnxPath?: string;
  /** Byte bound of the prefix cache of keys and values (PREFIX_CACHE_MB); unset: by provider. */
  prefixCacheBytes?: number;
}

export type WorkerRequest = { id: number; inputIds: BigInt64Array; attentionMask: BigInt64Array; batchSize: number; seqLen: number };
/**
 * Suffixes against the prefix's keys and values, with the prefix cache's decisions (prefix-cache.ts,
 * on the main thread): the keys and values held under prefixKey (prefixHit), or computed first by a
 * prefix pass and then kept under prefixKey when `keep`; the prefixes in `evict` are dropped first.
 */
export type SuffixRequest = WorkerRequest & {
  kind: 'suffixes';
  prefixKey: string;
  prefixIds: Int32Array;
  maxAttention?: number;
  prefixHit: boolean;
  keep: boolean;
  evict: string[];
};
export type WorkerMessage =
  /** On CPU under `auto`: why, and whether CUDA was tried and failed (a warning) or never possible (information). */
  /**
   * pastBytesPerToken: what a prefix's keys and values take per token, and prefixCacheBytes the
   * prefix cache's bound (PREFIX_CACHE_MB, else the provider's default); absent without model-past.onnx.
   */
  | { type: 'ready'; executionProvider: string; cpuReason?: { message: string; cudaFailed: boolean }; pastBytesPerToken?: number; prefixCacheBytes?: number }
  | { type: 'init_failed'; message: string }
  | { type: 'result'; id: number; logits: Float32Array }
  | { type: 'failed'; id: number; message: string };

const init = workerData as WorkerInit;
const port = parentPort!;

type Created = { session: ort.InferenceSession; provider: string; cpuReason?: { message: string; cudaFailed: boolean } };

/** The provider to ask for (provider-choice.ts), decided before anything loads so that the thread's priority can follow it. */
function decideProvider(): ProviderChoice {
  return chooseProvider({
    requested: init.provider,
    dtype: init.dtype,
    cudaUnavailable: init.provider === 'auto' ? cudaUnavailableReason() : undefined,
    allowFp32Cuda: init.allowFp32Cuda === true,
  });
}

async function createSession(choice: ProviderChoice): Promise<Created> {
  // With prefix sharing, both graphs go into one session so that the weights are held once.
  const both = init.pastOnnxPath ? singleSessionModel(readFileSync(init.onnxPath), readFileSync(init.pastOnnxPath)) : undefined;
  const create = (provider: string) => (both
    ? ort.InferenceSession.create(both, sessionOptions(init.intraOpThreads, provider, { externalDataDir: dirname(init.onnxPath), prepack: init.prepack }))
    : ort.InferenceSession.create(init.onnxPath, sessionOptions(init.intraOpThreads, provider, { prepack: init.prepack })));
  if (choice.provider === 'cpu') return { session: await create('cpu'), provider: 'cpu', ...(choice.cpuReason && { cpuReason: { message: choice.cpuReason, cudaFailed: false } }) };
  try {
    return { session: await create('cuda'), provider: 'cuda' };
  } catch (err) {
    const explained = explainCudaFailure((err as Error).message);
    if (init.provider === 'cuda') throw new Error(explained);
    if (isHalfPrecision(init.dtype)) throw refuseHalfOnCpu(init.dtype, explained);
    return { session: await create('cpu'), provider: 'cpu', cpuReason: { message: explained, cudaFailed: true } };
  }
}

/** MODEL_NICE and PREFIX_CACHE_MB as set, else the chosen provider's defaults for this model. */
function providerSettings(provider: string): { nice: number; prefixCacheBytes: number } {
  // The CUDA defaults follow the model's sizes, from the config.json beside model.onnx (model-dir.ts).
  const shape = provider === 'cuda' ? modelShape(JSON.parse(readFileSync(join(dirname(init.onnxPath), 'config.json'), 'utf8')), init.dtype) : undefined;
  const defaults = providerDefaults(provider, shape);
  return { nice: init.nice ?? defaults.modelNice, prefixCacheBytes: init.prefixCacheBytes ?? defaults.prefixCacheBytes };
}

/**
 * On Linux a nice value belongs to a thread, and threads inherit their creator's: set on this thread
 * before the session exists, it also covers ONNX Runtime's intra-op pool. The event loop keeps nice
 * 0, so on contended cores HTTP and /health run first and the model takes the rest.
 */
function lowerThreadPriority(nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
  } catch {
    // Without /proc or the permission, the model simply shares the cores at equal priority.
  }
}

/** The prefix's keys and values, as present_* came out of its prefix pass, to be fed back as past_*. */
type Past = Record<string, ort.Tensor>;

/**
 * model-past.onnx (its inputs and outputs in graph-names.ts):
 * the network over suffix tokens that attend to a given past.
 * The prefix pass is the same graph with an empty past; its present_* outputs are the prefix's
 * keys and values, fed back as past_* to every suffix batch of the prefix. It runs in the session
 * that also holds model.onnx (single-session.ts): `use_past` picks the graph.
 */
class PastRunner {
  /** The prefixes' keys and values, stored and dropped as each SuffixRequest says. */
  private readonly store = new Map<string, Past>();
  private readonly layers: number;
  /** Bytes of one prefix token's keys and values over every layer. */
  readonly bytesPerToken: number;
  private readonly emptyPast: Past;
  /** What a run of model.onnx in the shared session feeds besides input_ids and attention_mask. */
  readonly wholeFeeds: Past;
  private readonly pastForm: Past = { [USE_PAST]: new ort.Tensor('bool', [true], []) };

  constructor(private readonly session: ort.InferenceSession) {
    const inputs = new Set(session.inputNames);
    this.layers = 0;
    while (inputs.has(pastKeyName(this.layers))) this.layers++;
    if (this.layers === 0) throw new Error(`${init.pastOnnxPath}: no ${pastKeyName(0)} input`);
    const pastMeta = session.inputMetadata.find((m) => m.name === pastKeyName(0));
    if (!pastMeta?.isTensor) throw new Error(`${init.pastOnnxPath}: ${pastKeyName(0)} is not a tensor input`);
    const type = pastMeta.type === 'float16' ? 'float16' : 'float32';
    // [1, num_key_value_heads, past_len, head_dim]: heads and head_dim are fixed in the graph.
    const [, heads, , headDim] = pastMeta.shape.map((d) => (typeof d === 'number' ? d : NaN));
    if (!Number.isInteger(heads) || !Number.isInteger(headDim)) throw new Error(`${init.pastOnnxPath}: ${pastKeyName(0)} needs fixed heads and head_dim dims, got ${JSON.stringify(pastMeta.shape)}`);
    const empty = new ort.Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, heads, 0, headDim]);
    this.bytesPerToken = 2 * this.layers * heads * headDim * (type === 'float16' ? 2 : 4);
    this.emptyPast = {};
    for (let i = 0; i < this.layers; i++) {
      this.emptyPast[pastKeyName(i)] = empty;
      this.emptyPast[pastValueName(i)] = empty;
    }
    this.wholeFeeds = { ...this.emptyPast, [USE_PAST]: new ort.Tensor('bool', [false], []) };
  }

  async run(req: SuffixRequest): Promise<Extract<WorkerMessage, { type: 'result' }>> {
    for (const key of req.evict) this.store.delete(key);
    let past = req.prefixHit ? this.store.get(req.prefixKey) : undefined;
    if (req.prefixHit && !past) throw new Error(`prefix ${req.prefixKey} is not held though the prefix cache says it is; this is a bug`);
    try {
      if (!past) {
        past = await this.prefixPass(req.prefixIds, req.maxAttention ?? 0);
        if (pastBytes(past) !== req.prefixIds.length * this.bytesPerToken) throw new Error('a prefix\'s keys and values are not bytesPerToken a token; this is a bug');
        if (req.keep) this.store.set(req.prefixKey, past);
      }
      const dims = [req.batchSize, req.seqLen];
      const out = await this.session.run({
        [INPUT_IDS]: new ort.Tensor('int64', req.inputIds, dims),
        [ATTENTION_MASK]: new ort.Tensor('int64', req.attentionMask, dims),
        ...past,
        ...this.pastForm,
      }, [LOGITS]);
      return { type: 'result', id: req.id, logits: Float32Array.from(out[LOGITS].data as Float32Array) };
    } catch (err) {
      // The prefix cache forgets a prefix whose batch failed; so does this side.
      if (!req.prefixHit) this.store.delete(req.prefixKey);
      throw err;
    }
  }

  /**
   * The prefix's keys and values, in pieces of at most `maxAttention` piece length × (past + piece
   * length) scores, each piece attending to the pieces before it (the same causal attention as one run).
   */
  private async prefixPass(prefixIds: Int32Array, maxAttention: number): Promise<Past> {
    let past = this.emptyPast;
    for (let done = 0; done < prefixIds.length;) {
      const fits = maxAttention > 0 ? Math.floor((Math.sqrt(done * done + 4 * maxAttention) - done) / 2) : Infinity;
      const end = Math.min(prefixIds.length, done + Math.max(MIN_PREFIX_PIECE, fits));
      const dims = [1, end - done];
      const out = await this.session.run({
        [INPUT_IDS]: new ort.Tensor('int64', BigInt64Array.from(prefixIds.subarray(done, end), BigInt), dims),
        [ATTENTION_MASK]: new ort.Tensor('int64', new BigInt64Array(end - done).fill(1n), dims),
        ...past,
        ...this.pastForm,
      });
      const next: Past = {};
      for (let i = 0; i < this.layers; i++) {
        for (const [pastName, presentName] of [[pastKeyName(i), presentKeyName(i)], [pastValueName(i), presentValueName(i)]]) {
          next[pastName] = done === 0 ? out[presentName] : concatSequence(past[pastName], out[presentName]);
        }
      }
      past = next;
      done = end;
    }
    return past;
  }
}

/** Shortest piece of a prefix pass: shorter pieces cost more in per-run overhead than they save in memory. */
const MIN_PREFIX_PIECE = 16;

/** [1, heads, a, dim] and [1, heads, b, dim] → [1, heads, a + b, dim]. */
function concatSequence(first: ort.Tensor, second: ort.Tensor): ort.Tensor {
  const [, heads, a, dim] = first.dims;
  const b = second.dims[2];
  const x = first.data as Float32Array | Uint16Array;
  const y = second.data as Float32Array | Uint16Array;
  const out = new (x.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(heads * (a + b) * dim);
  for (let h = 0; h < heads; h++) {
    out.set(x.subarray(h * a * dim, (h + 1) * a * dim), h * (a + b) * dim);
    out.set(y.subarray(h * b * dim, (h + 1) * b * dim), h * (a + b) * dim + a * dim);
  }
  return new ort.Tensor(first.type as 'float32', out as Float32Array, [1, heads, a + b, dim]);
}

function pastBytes(past: Past): number {
  return Object.values(past).reduce((n, t) => n + (t.data as ArrayBufferView).byteLength, 0);
}

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  let past: PastRunner | undefined;
  try {
    const choice = decideProvider();
    const settings = providerSettings(choice.provider);
    lowerThreadPriority(settings.nice);
    const created = await createSession(choice);
    session = created.session;
    if (init.pastOnnxPath) {
      past = new PastRunner(session);
    }
    port.postMessage({ type: 'ready', executionProvider: created.provider, cpuReason: created.cpuReason, pastBytesPerToken: past?.bytesPerToken, ...(past && { prefixCacheBytes: settings.prefixCacheBytes }) } satisfies WorkerMessage);
  } catch (err) {
    port.postMessage({ type: 'init_failed', message: (err as Error).message } satisfies WorkerMessage);
    return;
  }
  port.on('message', async (req: WorkerRequest | SuffixRequest) => {
    if ('kind' in req) {
      try {
        if (!past) throw new Error('no model-past.onnx loaded; this is a bug');
        const result = await nativeTask(() => past!.run(req));
        port.postMessage(result satisfies WorkerMessage, [result.logits.buffer as ArrayBuffer]);
      } catch (err) {
        port.postMessage({ type: 'failed', id: req.id, message: (err as Error).message.split('\n')[0] } satisfies WorkerMessage);
      }
      return;
    }
    try {
      const dims = [req.batchSize, req.seqLen];
      const out = await nativeTask(() => session.run({
        [INPUT_IDS]: new ort.Tensor('int64', req.inputIds, dims),
        [ATTENTION_MASK]: new ort.Tensor('int64', req.attentionMask, dims),
        ...past?.wholeFeeds,
      }, [LOGITS]));
      const logits = Float32Array.from(out[LOGITS].data as Float32Array);
      port.postMessage({ type: 'result', id: req.id, logits } satisfies WorkerMessage, [logits.buffer]);
    } catch (err) {
      port.postMessage({ type: 'failed', id: req.id, message: (err as Error).message.split('\n')[0] } satisfies WorkerMessage);
    }
  });
}

void main();
