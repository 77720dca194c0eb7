// Owns the ONNX Runtime worker thread: one batch in flight at a time, the worker restarted when it
// dies (the items of its batch fail with 503, later batches run on the new worker).
import type { Worker } from 'node:worker_threads';
import { siblingWorkerUrl, startWorker } from '../worker-thread.ts';
import { InferenceFailedError, ModelUnavailableError } from '../errors.ts';
import type { ModelBatch, ModelInfo, RewardModel } from './reward-model.ts';
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
  private worker!: Worker;
  private ready!: Promise<void>;
  private inFlight: InFlight | null = null;
  private nextId = 1;
  private closing = false;
  restarts = 0;

  private constructor(private readonly opts: OnnxModelOptions) {
    this.info = { name: opts.name, dtype: opts.dtype, executionProvider: 'starting' };
  }

  static async create(opts: OnnxModelOptions): Promise<OnnxRewardModel> {
    const model = new OnnxRewardModel(opts);
    model.spawn();
    await model.ready;
    return model;
  }

  private spawn(): void {
    const { onnxPath, provider, intraOpThreads, nice } = this.opts;
    const init: WorkerInit = { onnxPath, provider, intraOpThreads, nice };
    const worker = startWorker(this.opts.workerUrl ?? WORKER_URL, init);
    this.worker = worker;
    let started = false;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        switch (msg.type) {
          case 'ready':
            started = true;
            this.info = { ...this.info, executionProvider: msg.executionProvider };
            if (msg.cpuReason?.cudaFailed) this.opts.log.warn(`EXECUTION_PROVIDER=auto: CUDA failed to start, running on CPU: ${msg.cpuReason.message}`);
            else if (msg.cpuReason) this.opts.log.info(`EXECUTION_PROVIDER=auto: running on CPU because ${msg.cpuReason.message}`);
            resolve();
            break;
          case 'init_failed':
            reject(new Error(`cannot start ONNX Runtime session on ${this.opts.onnxPath} (provider ${this.opts.provider}): ${msg.message}`));
            break;
          case 'result':
          case 'failed':
            this.settle(msg);
            break;
        }
      });
      worker.on('error', (err) => {
        this.opts.log.error(`model worker error: ${err.message}`);
        reject(err);
      });
      worker.on('exit', (code) => {
        reject(new Error(`model worker exited with code ${code} before its session was ready`));
        this.onExit(worker, code, started);
      });
    });
    // A rejected start-up is reported through create() or the next predict(); never unhandled.
    this.ready.catch(() => {});
  }

  private settle(msg: Extract<WorkerMessage, { type: 'result' | 'failed' }>): void {
    const job = this.inFlight;
    if (!job || job.id !== msg.id) return;
    this.inFlight = null;
    if (msg.type === 'result') job.resolve(msg.logits);
    else job.reject(new InferenceFailedError(msg.message));
  }

  /**
   * A worker that dies after start-up is replaced at once. One that never started is not: its
   * rejected `ready` makes the next predict() try again, so a broken model cannot spin a restart loop.
   */
  private onExit(worker: Worker, code: number, started: boolean): void {
    if (worker !== this.worker || this.closing) return;
    const job = this.inFlight;
    this.inFlight = null;
    job?.reject(new ModelUnavailableError(`worker exited with code ${code} during the batch; restarting`, this.opts.retryAfterS));
    if (!started) return;
    this.restarts++;
    this.opts.log.error(`model worker exited with code ${code}; restart #${this.restarts}`);
    this.spawn();
  }

  async predict(batch: ModelBatch): Promise<Float32Array> {
    try {
      await this.ready;
    } catch (err) {
      // The worker failed to start (see onExit): try a new one for the next batch.
      if (!this.closing) this.spawn();
      throw new ModelUnavailableError((err as Error).message, this.opts.retryAfterS);
    }
    if (this.inFlight) throw new Error('OnnxRewardModel.predict: one batch at a time');
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.inFlight = { id, resolve, reject };
      const req: WorkerRequest = { id, ...batch };
      this.worker.postMessage(req, [batch.inputIds.buffer, batch.attentionMask.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}
