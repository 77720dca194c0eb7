// Owns the ONNX Runtime worker thread: one batch in flight at a time, the worker restarted when it
// dies (the items of its batch fail with 503, later batches run on the new worker).
import { siblingWorkerUrl } from '../worker-thread.ts';
import { SupervisedWorker } from '../worker-supervisor.ts';
import { InferenceFailedError, ModelUnavailableError } from '../errors.ts';
import { batchBuffers, type ModelBatch, type ModelInfo, type RewardModel } from './reward-model.ts';
import type { WorkerInit, WorkerMessage, WorkerRequest } from './onnx-worker.ts';

export interface OnnxModelOptions extends WorkerInit {
  name: string;
  dtype: string;
  retryAfterS: number;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
  /** The worker script; tests swap in one that misbehaves on purpose. */
  workerUrl?: URL;
}

interface InFlight {
  id: number;
  resolve(logits: Float32Array): void;
  reject(err: Error): void;
}

const WORKER_URL = siblingWorkerUrl(import.meta.url, 'onnx-worker');

export class OnnxRewardModel implements RewardModel {
  info: ModelInfo;
  private readonly worker: SupervisedWorker<WorkerMessage>;
  private inFlight: InFlight | null = null;
  private nextId = 1;

  private constructor(private readonly opts: OnnxModelOptions) {
    this.info = { name: opts.name, dtype: opts.dtype, executionProvider: 'starting' };
    const { onnxPath, provider, intraOpThreads, nice } = opts;
    this.worker = new SupervisedWorker<WorkerMessage>({
      entry: opts.workerUrl ?? WORKER_URL,
      workerData: { onnxPath, provider, intraOpThreads, nice } satisfies WorkerInit,
      name: 'model worker',
      log: opts.log,
      handshake: (msg) => msg.type === 'ready'
        || (msg.type === 'init_failed' ? `cannot start ONNX Runtime session on ${onnxPath} (provider ${provider}): ${msg.message}` : undefined),
      onReady: (msg) => {
        if (msg.type !== 'ready') return;
        this.info = { ...this.info, executionProvider: msg.executionProvider };
        if (msg.cpuReason?.cudaFailed) opts.log.warn(`EXECUTION_PROVIDER=auto: CUDA failed to start, running on CPU: ${msg.cpuReason.message}`);
        else if (msg.cpuReason) opts.log.info(`EXECUTION_PROVIDER=auto: running on CPU because ${msg.cpuReason.message}`);
      },
      onMessage: (msg) => {
        if (msg.type === 'result' || msg.type === 'failed') this.settle(msg);
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

  private settle(msg: Extract<WorkerMessage, { type: 'result' | 'failed' }>): void {
    const job = this.inFlight;
    if (!job || job.id !== msg.id) return;
    this.inFlight = null;
    if (msg.type === 'result') job.resolve(msg.logits);
    else job.reject(new InferenceFailedError(msg.message));
  }

  async predict(batch: ModelBatch): Promise<Float32Array> {
    try {
      // A worker that failed to start is started again here, for the next batch.
      await this.worker.ready();
    } catch (err) {
      throw new ModelUnavailableError((err as Error).message, this.opts.retryAfterS);
    }
    if (this.inFlight) throw new Error('OnnxRewardModel.predict: one batch at a time');
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.inFlight = { id, resolve, reject };
      const req: WorkerRequest = { id, ...batch };
      this.worker.post(req, batchBuffers(batch));
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
