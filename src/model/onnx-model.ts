// Owns the ONNX Runtime worker thread: one batch in flight at a time, the worker restarted when it
// dies (the items of its batch fail with 503, later batches run on the new worker).
import { siblingWorkerUrl } from '../worker-thread.ts';
import { SupervisedWorker, type WorkerHealth } from '../worker-supervisor.ts';
import { InferenceFailedError, ModelUnavailableError } from '../errors.ts';
import { PrefixCache } from './prefix-cache.ts';
import { batchBuffers, type ModelBatch, type ModelInfo, type PrefixRewardModel, type SuffixBatch, type SuffixRun } from './reward-model.ts';
import type { SuffixRequest, WorkerInit, WorkerMessage, WorkerRequest } from './onnx-worker.ts';

export interface OnnxModelOptions extends WorkerInit {
  name: string;
  retryAfterS: number;
  /** A batch not answered within this many ms gets its worker replaced (INFERENCE_TIMEOUT_MS; 0 or unset: no limit). */
  inferenceTimeoutMs?: number;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  /** The worker script; tests swap in one that misbehaves on purpose. */
  workerUrl?: URL;
}

type Answer = Extract<WorkerMessage, { type: 'result' }>;

interface InFlight {
  id: number;
  rows: number;
  resolve(answer: Answer): void;
  reject(err: Error): void;
}

const WORKER_URL = siblingWorkerUrl(import.meta.url, 'onnx-worker');

export class OnnxRewardModel implements PrefixRewardModel {
  info: ModelInfo;
  /** The worker loaded model-past.onnx (OnnxModelOptions.pastOnnxPath) and can run suffixes against a prefix. */
  canSharePrefixes = false;
  /**
   * Which prefixes the worker holds: decided here as each suffix batch leaves, emptied when the
   * worker exits, and bounded as the worker reports (PREFIX_CACHE_MB, or its provider's default).
   */
  prefixCache = new PrefixCache(0);
  /** Bytes of one prefix token's keys and values, as the worker reports them. */
  private pastBytesPerToken = 0;
  private readonly worker: SupervisedWorker<WorkerMessage>;
  private inFlight: InFlight | null = null;
  private nextId = 1;

  private constructor(private readonly opts: OnnxModelOptions) {
    this.info = { name: opts.name, dtype: opts.dtype, executionProvider: 'starting' };
    const { onnxPath, provider, dtype, allowFp32Cuda, intraOpThreads, prepack, nice, pastOnnxPath, prefixCacheBytes } = opts;
    this.worker = new SupervisedWorker<WorkerMessage>({
      entry: opts.workerUrl ?? WORKER_URL,
      workerData: { onnxPath, provider, dtype, allowFp32Cuda, intraOpThreads, prepack, nice, pastOnnxPath, prefixCacheBytes } satisfies WorkerInit,
      name: 'model worker',
      log: opts.log,
      handshake: (msg) => msg.type === 'ready'
        || (msg.type === 'init_failed' ? `cannot start ONNX Runtime session on ${onnxPath} (provider ${provider}): ${msg.message}` : undefined),
      onReady: (msg) => {
        if (msg.type !== 'ready') return;
        this.info = { ...this.info, executionProvider: msg.executionProvider };
        this.canSharePrefixes = msg.pastBytesPerToken !== undefined;
        this.pastBytesPerToken = msg.pastBytesPerToken ?? 0;
        // The bound is the worker's to choose (it follows the provider); the record starts empty with each worker.
        this.prefixCache = new PrefixCache(msg.prefixCacheBytes ?? 0);
        if (msg.cpuReason?.cudaFailed) opts.log.warn(`EXECUTION_PROVIDER=auto: CUDA failed to start, running on CPU: ${msg.cpuReason.message}`);
        else if (msg.cpuReason) opts.log.info(`EXECUTION_PROVIDER=auto: running on CPU because ${msg.cpuReason.message}`);
      },
      onMessage: (msg) => {
        if (msg.type === 'result' || msg.type === 'failed') this.settle(msg);
      },
      // The supervisor replaces a worker that dies after start-up; the items of its batch fail with 503.
      onExit: (code) => {
        // The prefixes' keys and values went with the thread.
        this.prefixCache.clear();
        const job = this.inFlight;
        this.inFlight = null;
        job?.reject(new ModelUnavailableError(`worker exited with code ${code} during the batch; restarting`, opts.retryAfterS));
      },
      // Wall time: ONNX Runtime runs the batch on threads of its own.
      deadline: { ms: opts.inferenceTimeoutMs ?? 0, clock: 'wall' },
      onDeadline: (ms) => {
        const job = this.inFlight;
        this.inFlight = null;
        job?.reject(new ModelUnavailableError(`the batch ran past INFERENCE_TIMEOUT_MS (${ms} ms); the worker was replaced`, opts.retryAfterS));
      },
    });
  }

  static async create(opts: OnnxModelOptions): Promise<OnnxRewardModel> {
    const model = new OnnxRewardModel(opts);
    await model.worker.startup;
    return model;
  }

  /** Model workers started again after one died or ran past the inference deadline. */
  get restarts(): number {
    return this.worker.restarts;
  }

  get health(): WorkerHealth {
    return { serving: this.worker.state === 'ready', troubleSince: this.worker.troubleSince };
  }

  private settle(msg: Answer | Extract<WorkerMessage, { type: 'failed' }>): void {
    const job = this.inFlight;
    if (!job || job.id !== msg.id) return;
    this.inFlight = null;
    if (msg.type === 'failed') {
      this.worker.reportFailure();
      // ONNX Runtime's message names files and devices: the log has it, the answer does not.
      this.opts.log.error(`model worker: a batch of ${job.rows} rows failed: ${msg.message}`);
      job.reject(new InferenceFailedError('the service log has the reason'));
    } else {
      this.worker.reportSuccess();
      job.resolve(msg);
    }
  }

  async predict(batch: ModelBatch): Promise<Float32Array> {
    await this.workerFree();
    const answer = await this.post({ id: this.nextId++, ...batch }, batchBuffers(batch));
    return answer.logits;
  }

  /** Suffixes against the prefix's keys and values, which stay in the worker when the prefix cache keeps them. */
  async predictSuffixes(batch: SuffixBatch): Promise<SuffixRun> {
    if (!this.canSharePrefixes) throw new Error('OnnxRewardModel.predictSuffixes: no model-past.onnx loaded');
    await this.workerFree();
    // Decided as the batch leaves: the worker runs batches in the order they are sent.
    const { prefixKey, prefixIds } = batch;
    const prefixHit = this.prefixCache.get(prefixKey) !== undefined;
    const evict = prefixHit ? [] : this.prefixCache.set(prefixKey, prefixIds.length, prefixIds.length * this.pastBytesPerToken);
    try {
      const answer = await this.post({ ...batch, id: this.nextId++, kind: 'suffixes', prefixHit, keep: !evict.includes(prefixKey), evict }, batchBuffers(batch));
      return { logits: answer.logits, prefixHit, cacheBytes: this.prefixCache.bytes };
    } catch (err) {
      // A prefix computed for a batch that failed is not kept; the worker drops it too.
      if (!prefixHit) this.prefixCache.delete(prefixKey);
      throw err;
    }
  }

  /** Resolves when the worker is ready and has no batch; nothing else may run before the next post(). */
  private async workerFree(): Promise<void> {
    try {
      // A worker that failed to start is started again here, for the next batch.
      await this.worker.ready();
    } catch (err) {
      throw new ModelUnavailableError((err as Error).message, this.opts.retryAfterS);
    }
    if (this.inFlight) throw new Error('OnnxRewardModel.predict: one batch at a time');
  }

  private post(request: WorkerRequest | SuffixRequest, transfer: ArrayBuffer[]): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.inFlight = { id: request.id, rows: request.batchSize, resolve, reject };
      this.worker.post(request, transfer);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
