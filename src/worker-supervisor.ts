// One worker thread kept running for its owner (the model, each prep pool slot): the ready
// handshake, the owner told when the thread exits so that it fails the work the thread held, and a
// restart only after a successful start. A thread that fails to start is not restarted at once (a
// broken model file or tokenizer would spin a loop): the next use starts a new one. A task that
// runs past its deadline gets its thread replaced at once: the owner fails that task, a new thread
// starts, and the old one is stopped where that is safe (thread-stop.ts).
//
//   starting ──ready message──► ready ──exit or deadline──► (restart) starting
//       └──── start failure or exit ────► failed ──restartIfFailed (next use)──► starting
import type { Worker } from 'node:worker_threads';
import { STOP_CELL_KEY, ThreadStopCell } from './thread-stop.ts';
import { startWorker } from './worker-thread.ts';

export type WorkerState = 'starting' | 'ready' | 'failed';

/** How the threads of a component (the model worker, the prep pool) are doing, for /ready and /health. */
export interface WorkerHealth {
  /** A thread can take work now. */
  readonly serving: boolean;
  /** Date.now() since which it has been failing (failed starts, exits, deadlines, failures its owner saw) without a success since; undefined while it is not. */
  readonly troubleSince: number | undefined;
}

/** A limit on one task, from its post to its answer. */
export interface TaskDeadline {
  ms: number;
  /** cpu: the thread's own CPU time where Linux reports it (a thread that waited for a core is not overdue), else wall time; wall: wall time (a thread whose work runs on threads of its own, as ONNX Runtime's does). */
  clock: 'cpu' | 'wall';
}

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
  /** Each task posted must be answered within this (ms 0: no limit). */
  deadline?: TaskDeadline;
  /** The task posted last ran past the deadline; its thread is being replaced: fail the task. */
  onDeadline?(ms: number): void;
  /** The thread does not keep the process alive (an owner that tests leave open). */
  unref?: boolean;
}

export class SupervisedWorker<Msg> {
  private worker!: Worker;
  private current!: { state: WorkerState; exited: boolean; stopCell: ThreadStopCell };
  private closing = false;
  /** The deadline of the task in flight: its timer. */
  private overdue: NodeJS.Timeout | undefined;
  /** Resolves when the current start has succeeded, rejects with why it failed; never unhandled. */
  startup!: Promise<void>;
  /** Restarts after a started thread exited or ran past a deadline. */
  restarts = 0;
  /** See WorkerHealth. */
  troubleSince: number | undefined;

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

  /** Sends a task; its answer is the next message, due within the deadline. */
  post(msg: unknown, transfer?: readonly ArrayBuffer[]): void {
    this.worker.postMessage(msg, transfer as ArrayBuffer[] | undefined);
    const deadline = this.opts.deadline;
    if (deadline && deadline.ms > 0) this.armDeadline(deadline);
  }

  /** The owner's task succeeded: whatever failed before is over. */
  reportSuccess(): void {
    this.troubleSince = undefined;
  }

  /** The owner's task failed for a reason of the worker's, not of its input. */
  reportFailure(): void {
    this.troubleSince ??= Date.now();
  }

  /** Stops the thread at once. */
  async terminate(): Promise<void> {
    this.closing = true;
    this.clearDeadline();
    await this.worker.terminate();
  }

  private armDeadline({ ms, clock }: TaskDeadline): void {
    this.clearDeadline();
    const cell = this.current.stopCell;
    const cpuAtStart = clock === 'cpu' ? cell.cpuMs() : undefined;
    const postedAt = performance.now();
    const check = () => {
      const cpu = cpuAtStart === undefined ? undefined : cell.cpuMs();
      const used = cpu === undefined ? performance.now() - postedAt : cpu - cpuAtStart!;
      // A thread that has used less than its deadline (it waited for a core) gets the rest.
      if (used < ms) this.overdue = setTimeout(check, ms - used).unref();
      else this.replaceOverdue(ms);
    };
    this.overdue = setTimeout(check, ms).unref();
  }

  private clearDeadline(): void {
    clearTimeout(this.overdue);
    this.overdue = undefined;
  }

  private replaceOverdue(ms: number): void {
    const { name, log } = this.opts;
    const old = this.worker;
    const oldCell = this.current.stopCell;
    this.overdue = undefined;
    this.reportFailure();
    // While closing, the thread is only stopped: closeWith is waiting for it to exit.
    if (this.closing) {
      log.error(`${name} ran past its deadline of ${ms} ms while closing; stopped`);
    } else {
      this.restarts++;
      log.error(`${name} ran past its deadline of ${ms} ms; replaced, restart #${this.restarts}`);
      this.start();
    }
    this.opts.onDeadline?.(ms);
    // Not awaited: a thread inside a native call exits by itself when the call returns.
    if (!this.closing) old.unref();
    if (oldCell.stop()) void old.terminate();
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
    const stopCell = new ThreadStopCell();
    const worker = startWorker(this.opts.entry, { ...this.opts.workerData, [STOP_CELL_KEY]: stopCell.buffer });
    if (this.opts.unref) worker.unref();
    const current = { state: 'starting' as WorkerState, exited: false, stopCell };
    this.worker = worker;
    this.current = current;
    this.startup = new Promise<void>((resolve, reject) => {
      const failStart = (err: Error) => {
        if (current.state !== 'starting') return;
        current.state = 'failed';
        this.reportFailure();
        reject(err);
      };
      worker.on('message', (msg: Msg) => {
        // A thread replaced for a deadline may still answer: nobody waits for that answer.
        if (worker !== this.worker) return;
        if (current.state === 'ready') {
          this.clearDeadline();
          return this.opts.onMessage(msg);
        }
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
        this.clearDeadline();
        this.reportFailure();
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
