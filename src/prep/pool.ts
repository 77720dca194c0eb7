// Prep worker threads: extraction, syntax check, template and tokenization off the event loop, so
// that HTTP and /health never wait behind them. Each request is cut into slices of ITEMS_PER_SLICE
// and the pool takes slices from the waiting requests in turn, so a request of thousands of items
// does not hold back the small ones behind it.
//
//   prepare(items) ──► jobs (round robin) ──slice──► idle worker ──► results at the slice's offset
import type { Worker } from 'node:worker_threads';
import { siblingWorkerUrl, startWorker } from '../worker-thread.ts';
import { CancelledError, ServiceError } from '../errors.ts';
import type { ExtractionMode } from '../extract/fences.ts';
import type { Prompt, TokenizerFiles } from '../prompt/prompt.ts';
import type { Shaping } from '../shape/shaping.ts';
import { ITEMS_PER_SLICE, type PreparedItem, type Preparer, type ScoreItem } from './prepare.ts';

export interface PrepInit extends TokenizerFiles {
  maxLength: number;
}

type Work =
  | { kind: 'close' }
  | { kind: 'items'; items: ScoreItem[]; extraction: ExtractionMode; shaping: Shaping }
  | { kind: 'texts'; texts: string[]; addSpecialTokens: boolean }
  | { kind: 'render'; question: string; code: string };
export type PrepRequest = Work & { id: number };
export type PrepResponse =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'items'; items: PreparedItem[] }
  | { id: number; kind: 'texts'; prompts: Prompt[] }
  | { id: number; kind: 'render'; text: string }
  | { id: number; kind: 'failed'; message: string };

interface Job {
  /** Total units (items or texts; 1 for a render). */
  size: number;
  /** Next unit not yet sent to a worker. */
  next: number;
  outstanding: number;
  results: unknown[];
  slice(start: number, end: number): Work;
  signal?: AbortSignal;
  failed: boolean;
  resolve(results: unknown[]): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  running: { job: Job; start: number; id: number } | null;
}

const WORKER_URL = siblingWorkerUrl(import.meta.url, 'prep-worker');

export class PrepPool implements Preparer {
  private readonly slots: Slot[] = [];
  private jobs: Job[] = [];
  private nextId = 1;
  private closing = false;

  private constructor(
    private readonly init: PrepInit,
    private readonly log: { error(msg: string): void },
    private readonly workerUrl: URL,
  ) {}

  /** Resolves once every worker has built its tokenizer; rejects if one cannot. workerUrl: tests swap in one that fails on purpose. */
  static async create(init: PrepInit, threads: number, log: { error(msg: string): void }, workerUrl = WORKER_URL): Promise<PrepPool> {
    const pool = new PrepPool(init, log, workerUrl);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get threads(): number {
    return this.slots.length;
  }

  prepare(items: readonly ScoreItem[], extraction: ExtractionMode, shaping: Shaping, signal?: AbortSignal): Promise<PreparedItem[]> {
    return this.submit(items.length, (s, e) => ({ kind: 'items', items: items.slice(s, e), extraction, shaping }), signal) as Promise<PreparedItem[]>;
  }

  encodeTexts(texts: readonly string[], signal?: AbortSignal, addSpecialTokens = false): Promise<Prompt[]> {
    return this.submit(texts.length, (s, e) => ({ kind: 'texts', texts: texts.slice(s, e), addSpecialTokens }), signal) as Promise<Prompt[]>;
  }

  async renderChat(question: string, code: string): Promise<string> {
    const [text] = await this.submit(1, () => ({ kind: 'render', question, code }));
    return text as string;
  }

  async close(): Promise<void> {
    this.closing = true;
    const workers = this.slots.map((s) => s.worker);
    this.slots.length = 0;
    for (const job of this.jobs) this.fail(job, new ServiceError('shutting_down', 'the service is shutting down'));
    // Asked, not terminated: terminating a thread inside a native call (tree-sitter) aborts the
    // whole process. The worker exits after the slice it is on.
    await Promise.all(workers.map(async (w) => {
      const exited = new Promise((resolve) => w.once('exit', resolve));
      // Held until it has gone, so that a caller awaiting close() keeps the process alive meanwhile.
      w.ref();
      w.postMessage({ id: 0, kind: 'close' } satisfies PrepRequest);
      await exited;
    }));
  }

  private submit(size: number, slice: Job['slice'], signal?: AbortSignal): Promise<unknown[]> {
    if (size === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.jobs.push({ size, next: 0, outstanding: 0, results: new Array(size), slice, signal, failed: false, resolve, reject });
      this.dispatch();
    });
  }

  /** Gives each idle worker the next slice, taking one slice per job in turn. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.running) continue;
      const job = this.nextLiveJob();
      if (!job) return;
      const start = job.next;
      const end = Math.min(job.size, start + ITEMS_PER_SLICE);
      job.next = end;
      job.outstanding++;
      if (end < job.size) this.jobs.push(job);
      const id = this.nextId++;
      slot.running = { job, start, id };
      slot.worker.postMessage({ ...job.slice(start, end), id } satisfies PrepRequest);
    }
  }

  /** The next job in turn, failing the cancelled ones on the way. */
  private nextLiveJob(): Job | undefined {
    for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
      if (!job.signal?.aborted) return job;
      this.fail(job, new CancelledError());
    }
    return undefined;
  }

  private settle(slot: Slot, res: PrepResponse): void {
    const running = slot.running;
    if (!running || running.id !== res.id) return;
    slot.running = null;
    const { job, start } = running;
    job.outstanding--;
    if (res.kind === 'failed') {
      this.fail(job, new ServiceError('internal', `preparing items failed: ${res.message}`));
    } else if (!job.failed) {
      const part = res.kind === 'items' ? res.items : res.kind === 'texts' ? res.prompts : res.kind === 'render' ? [res.text] : [];
      for (let k = 0; k < part.length; k++) job.results[start + k] = part[k];
      if (job.next === job.size && job.outstanding === 0) job.resolve(job.results);
    }
    this.dispatch();
  }

  private fail(job: Job, err: Error): void {
    if (job.failed) return;
    job.failed = true;
    this.jobs = this.jobs.filter((j) => j !== job);
    job.reject(err);
  }

  private spawn(replacing?: Slot): Promise<void> {
    // unref: a pool left open (a test that never closes its app) does not keep the process alive.
    const worker = startWorker(this.workerUrl, this.init);
    worker.unref();
    const slot: Slot = replacing ?? { worker, ready: false, running: null };
    slot.worker = worker;
    slot.ready = false;
    if (!replacing) this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (res: PrepResponse) => {
        if (res.kind === 'ready') {
          slot.ready = true;
          resolve();
          this.dispatch();
        } else {
          this.settle(slot, res);
        }
      });
      worker.on('error', (err) => {
        this.log.error(`prep worker error: ${err.message}`);
        reject(err);
      });
      worker.on('exit', (code) => {
        reject(new Error(`prep worker exited with code ${code} before it was ready`));
        if (this.closing || slot.worker !== worker) return;
        const lost = slot.running?.job;
        slot.running = null;
        if (lost) this.fail(lost, new ServiceError('internal', `a prep worker exited (code ${code}) while preparing this request; retry it`));
        if (!slot.ready) {
          // Died while starting: leave the slot out rather than restart in a loop.
          this.slots.splice(this.slots.indexOf(slot), 1);
          if (this.slots.length === 0) for (const job of [...this.jobs]) this.fail(job, new ServiceError('internal', 'no prep worker is running'));
          return;
        }
        this.spawn(slot).catch(() => {});
      });
    });
  }
}
