// Owns the ONNX Runtime worker thread: one batch in flight at a time, the worker restarted when it
// dies (the items of its batch fail with 503, later batches run on the new worker).
import { siblingWorkerUrl } from '../worker-thread.ts';
import { SupervisedWorker } from '../worker-supervisor.ts';
import { InferenceFailedError, ModelUnavailableError } from '../errors.ts';
import { batchBuffers, type ModelBatch, type ModelInfo, type PrefixRewardModel, type SuffixBatch, type SuffixRun } from './reward-model.ts';
import type { SuffixRequest, WorkerInit, WorkerMessage, WorkerRequest } from './onnx-worker.ts';

export interface OnnxModelOptions extends WorkerInit {
  name: string;
  dtype: string;
  retryAfterS: number;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  /** The worker script; tests swap in one that misbehaves on purpose. */
  workerUrl?: URL;
}

type Answer = Extract<WorkerMessage, { type: 'result' | 'suffix_result' }>;

interface InFlight {
  id: number;
  resolve(answer: Answer): void;
  reject(err: Error): void;
}

const WORKER_URL = siblingWorkerUrl(import.meta.url, 'onnx-worker');

export class OnnxRewardModel implements PrefixRewardModel {
  info: ModelInfo;
  /** The worker loaded model-past.onnx (OnnxModelOptions.pastOnnxPath) and can run suffixes against a prefix. */
  canSharePrefixes = false;
  private readonly worker: SupervisedWorker<WorkerMessage>;
  private inFlight: InFlight | null = null;
  private nextId = 1;

  private constructor(private readonly opts: OnnxModelOptions) {
    this.info = { name: opts.name, dtype: opts.dtype, executionProvider: 'starting' };
    const { onnxPath, provider, intraOpThreads, prepack, nice, pastOnnxPath, prefixCacheBytes } = opts;
    this.worker = new SupervisedWorker<WorkerMessage>({
      entry: opts.workerUrl ?? WORKER_URL,
      workerData: { onnxPath, provider, intraOpThreads, prepack, nice, pastOnnxPath, prefixCacheBytes } satisfies WorkerInit,
      name: 'model worker',
      log: opts.log,
      handshake: (msg) => msg.type === 'ready'
        || (msg.type === 'init_failed' ? `cannot start ONNX Runtime session on ${onnxPath} (provider ${provider}): ${msg.message}` : undefined),
      onReady: (msg) => {
        if (msg.type !== 'ready') return;
        this.info = { ...this.info, executionProvider: msg.executionProvider };
        this.canSharePrefixes = msg.past === true;
        if (msg.cpuReason?.cudaFailed) opts.log.warn(`EXECUTION_PROVIDER=auto: CUDA failed to start, running on CPU: ${msg.cpuReason.message}`);
        else if (msg.cpuReason) opts.log.info(`EXECUTION_PROVIDER=auto: running on CPU because ${msg.cpuReason.message}`);
      },
      onMessage: (msg) => {
        if (msg.type === 'result' || msg.type === 'suffix_result' || msg.type === 'failed') this.settle(msg);
      },
      // The supervisor replaces a worker that dies after start-up; the items of its batch fail with 503.
      onExit: (code) => {
        const job = this.inFlight;
        this.inFlight = null;
        job?.reject(new ModelUnavailableError(`worker exited with code ${code} during the batch; restarting`, opts.retryAfterS));
      },
    });
  }

  static async create(opts: OnnxModelOptions): Promise<OnnxRewardModel> {
    const model = new OnnxRewardModel(opts);
    await model.worker.startup;
    return model;
  }

  /** Model workers started again after one died. */
  get restarts(): number {
    return this.worker.restarts;
  }

  private settle(msg: Answer | Extract<WorkerMessage, { type: 'failed' }>): void {
    const job = this.inFlight;
    if (!job || job.id !== msg.id) return;
    this.inFlight = null;
    if (msg.type === 'failed') job.reject(new InferenceFailedError(msg.message));
    else job.resolve(msg);
  }

  async predict(batch: ModelBatch): Promise<Float32Array> {
    const answer = await this.send((id) => ({ id, ...batch }), batchBuffers(batch));
    return answer.logits;
  }

  /** Suffixes against the prefix's keys and values, which stay in the worker's prefix cache. */
  async predictSuffixes(batch: SuffixBatch): Promise<SuffixRun> {
    if (!this.canSharePrefixes) throw new Error('OnnxRewardModel.predictSuffixes: no model-past.onnx loaded');
    const answer = await this.send((id) => ({ ...batch, id, kind: 'suffixes' }), batchBuffers(batch));
    if (answer.type !== 'suffix_result') throw new Error('worker answered a suffix batch with a full one; this is a bug');
    const { logits, prefixHit, cacheBytes, evicted } = answer;
    return { logits, prefixHit, cacheBytes, evicted };
  }

  private async send(request: (id: number) => WorkerRequest | SuffixRequest, transfer: ArrayBuffer[]): Promise<Answer> {
    try {
      // A worker that failed to start is started again here, for the next batch.
      await this.worker.ready();
    } catch (err) {
      throw new ModelUnavailableError((err as Error).message, this.opts.retryAfterS);
    }
    if (this.inFlight) throw new Error('OnnxRewardModel.predict: one batch at a time');
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
      this.inFlight = { id, resolve, reject };
      this.worker.post(request(id), transfer);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
