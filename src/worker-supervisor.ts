// One worker thread kept running for its owner (the model, each prep pool slot): the ready
// handshake, the owner told when the thread exits so that it fails the work the thread held, and a
// restart only after a successful start. A thread that fails to start is not restarted at once (a
// broken model file or tokenizer would spin a loop): the next use starts a new one.
//
//   starting ──ready message──► ready ──exit──► (restart) starting
//       └──── start failure or exit ────► failed ──restartIfFailed (next use)──► starting
import type { Worker } from 'node:worker_threads';
import { startWorker } from './worker-thread.ts';

export type WorkerState = 'starting' | 'ready' | 'failed';

export interface SupervisedWorkerOptions<Msg> {
  entry: URL;
  workerData: object;
  /** Names the thread in errors and logs ("model worker"). */
  name: string;
  log: { error(msg: string): void };
  /** Reads a message of a thread still starting: true when it is the ready message, a string saying why the thread cannot start, undefined for neither. */
  handshake(msg: Msg): true | string | undefined;
  /** The thread said it is ready, after a first start or a restart. */
  onReady?(msg: Msg): void;
  /** Every message after the ready one. */
  onMessage(msg: Msg): void;
  /** The thread exited, started or not, other than by close(): fail the work it held. */
  onExit(code: number): void;
  /** A start failed; the thread stays down until restartIfFailed(). */
  onStartFailed?(err: Error): void;
  /** The thread does not keep the process alive (an owner that tests leave open). */
  unref?: boolean;
}

export class SupervisedWorker<Msg> {
  private worker!: Worker;
  private current!: { state: WorkerState; exited: boolean };
  private closing = false;
  /** Resolves when the current start has succeeded, rejects with why it failed; never unhandled. */
  startup!: Promise<void>;
  /** Restarts after a started thread exited. */
  restarts = 0;

  constructor(private readonly opts: SupervisedWorkerOptions<Msg>) {
    this.start();
  }

  get state(): WorkerState {
    return this.current.state;
  }

  /** Resolves once the thread is ready; when its start failed, rejects with why and starts another for the next use. */
  async ready(): Promise<void> {
    try {
      await this.startup;
    } catch (err) {
      this.restartIfFailed();
      throw err;
    }
  }

  /** A new start, when the last one failed: the retry on the next use. */
  restartIfFailed(): void {
    if (this.current.state === 'failed' && !this.closing) this.start();
  }

  post(msg: unknown, transfer?: readonly ArrayBuffer[]): void {
    this.worker.postMessage(msg, transfer as ArrayBuffer[] | undefined);
  }

  /** Stops the thread at once. */
  async terminate(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  /** Asks the thread to exit with `msg` (for threads that must not be stopped inside a native call) and waits until it has. */
  async closeWith(msg: unknown): Promise<void> {
    this.closing = true;
    if (this.current.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    // Held until it has gone, so that a caller awaiting close keeps the process alive meanwhile.
    this.worker.ref();
    this.worker.postMessage(msg);
    await exited;
  }

  private start(): void {
    const { name, log } = this.opts;
    const worker = startWorker(this.opts.entry, this.opts.workerData);
    if (this.opts.unref) worker.unref();
    const current = { state: 'starting' as WorkerState, exited: false };
    this.worker = worker;
    this.current = current;
    this.startup = new Promise<void>((resolve, reject) => {
      const failStart = (err: Error) => {
        if (current.state !== 'starting') return;
        current.state = 'failed';
        reject(err);
      };
      worker.on('message', (msg: Msg) => {
        if (current.state === 'ready') return this.opts.onMessage(msg);
        const verdict = this.opts.handshake(msg);
        if (verdict === true) {
          current.state = 'ready';
          resolve();
          this.opts.onReady?.(msg);
        } else if (typeof verdict === 'string') {
          failStart(new Error(verdict));
        }
      });
      worker.on('error', (err) => {
        log.error(`${name} error: ${err.message}`);
        failStart(err);
      });
      worker.on('exit', (code) => {
        current.exited = true;
        const started = current.state === 'ready';
        failStart(new Error(`${name} exited with code ${code} before it was ready`));
        // A thread replaced after a failed start held no work of the owner's.
        if (this.closing || worker !== this.worker) return;
        if (started) current.state = 'failed';
        this.opts.onExit(code);
        if (!started) return;
        this.restarts++;
        log.error(`${name} exited with code ${code}; restart #${this.restarts}`);
        this.start();
      });
    });
    this.startup.catch((err: Error) => {
      if (!this.closing) this.opts.onStartFailed?.(err);
    });
  }
}
