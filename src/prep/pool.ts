// Prep worker threads: extraction, syntax check, template, tokenization and localization rewards
// off the event loop, so that HTTP and /health never wait behind them. Each request is cut into
// slices of ITEMS_PER_SLICE and the pool takes slices from the waiting requests in turn, so a
// request of thousands of items does not hold back the small ones behind it.
//
//   prepare(items) ──► jobs (round robin) ──slice──► idle worker ──► results at the slice's offset
import { siblingWorkerUrl } from '../worker-thread.ts';
import { SupervisedWorker, type WorkerHealth } from '../worker-supervisor.ts';
import { CancelledError, InvalidRequestError, ServiceError } from '../errors.ts';
import type { ExtractionMode } from '../extract/fences.ts';
import { checkLocalizationBody, LocalizationInputError } from '../localization/index.ts';
import { isObject } from '../localization/json.ts';
import type { LocalizationErrorCode } from '../localization/errors.ts';
import type { LocalizationBody, LocalizationItem, LocalizationResponse, LocalizationResult, LocalizationWeights } from '../localization/index.ts';
import type { ChatMessage } from '../prompt/messages.ts';
import type { Prompt, Tokenized, TokenizeRequest, TokenizerFiles } from '../prompt/prompt.ts';
import type { Shaping } from '../shape/shaping.ts';
import { ITEMS_PER_SLICE, type PreparedItem, type Preparer, type ScoreItem } from './prepare.ts';

export interface PrepInit extends TokenizerFiles {
  maxLength: number;
}

export interface PrepPoolOptions {
  /** The worker script; tests swap in one that misbehaves on purpose. */
  workerUrl?: URL;
  /** CPU time a slice may take before its thread is replaced and its request refused (PREP_SLICE_TIMEOUT_MS); 0 or unset: no limit. */
  sliceTimeoutMs?: number;
}

type Work =
  | { kind: 'close' }
  | { kind: 'items'; items: ScoreItem[]; extraction: ExtractionMode; shaping: Shaping }
  | { kind: 'texts'; texts: string[]; addSpecialTokens: boolean; keepLast?: number }
  | { kind: 'render'; question: string; code: string }
  | { kind: 'messages'; messages: ChatMessage[]; addGenerationPrompt: boolean }
  | { kind: 'tokenize'; req: TokenizeRequest }
  | { kind: 'detokenize'; ids: number[] }
  | { kind: 'localize'; items: LocalizationItem[]; offset: number; weights: LocalizationWeights };
/** `cancel`: set to 1 when the job's client has gone; a worker looks at it before each item. */
export type PrepRequest = Work & { id: number; cancel?: Int32Array };
export type PrepResponse =
  | { id: number; kind: 'ready' }
  | { id: number; kind: 'items'; items: PreparedItem[] }
  | { id: number; kind: 'texts'; prompts: Prompt[] }
  | { id: number; kind: 'render'; text: string }
  | { id: number; kind: 'tokenized'; tokenized: Tokenized }
  | { id: number; kind: 'detokenized'; result: { text: string } | { unknown: number } }
  /** The request's own fault (a template that refuses its messages): a 400 with this message. */
  | { id: number; kind: 'invalid'; message: string }
  | { id: number; kind: 'localized'; results: LocalizationResult[] }
  /** The slice's input is bad: a LocalizationInputError, sent as its fields (an Error crosses threads without its class). */
  | { id: number; kind: 'refused'; code: LocalizationErrorCode; detail: string; path?: string }
  | { id: number; kind: 'failed'; message: string }
  /** The job's client went away: the worker stopped after `done` items of the slice. */
  | { id: number; kind: 'cancelled'; done: number };

interface Job {
  /** Units to send (items or texts; 1 for a render); cut back to a refused slice's start. */
  size: number;
  /** Next unit not yet sent to a worker. */
  next: number;
  outstanding: number;
  results: unknown[];
  slice(start: number, end: number): Work;
  signal?: AbortSignal;
  /** Shared with the workers, set when the signal aborts, so a slice stops within one item. */
  cancel?: Int32Array;
  failed: boolean;
  /** The earliest slice refused for bad input, and why: the answer once the slices before it are in. */
  refusal?: { start: number; error: Error };
  resolve(results: unknown[]): void;
  reject(err: Error): void;
}

interface Slot {
  worker: SupervisedWorker<PrepResponse>;
  running: { job: Job; start: number; id: number } | null;
}

const WORKER_URL = siblingWorkerUrl(import.meta.url, 'prep-worker');

/** A slice that threw: its request fails with this, and the reason goes to the log only. */
const prepFailed = () => new ServiceError('internal', 'preparing this request failed; the service log has the reason');

export class PrepPool implements Preparer {
  private readonly slots: Slot[] = [];
  private jobs: Job[] = [];
  private nextId = 1;

  private constructor(
    private readonly init: PrepInit,
    private readonly log: { error(msg: string): void },
    private readonly workerUrl: URL,
    private readonly sliceTimeoutMs: number,
  ) {}

  /** Resolves once every worker has built its tokenizer; rejects if one cannot. */
  static async create(init: PrepInit, threads: number, log: { error(msg: string): void }, opts: PrepPoolOptions = {}): Promise<PrepPool> {
    const pool = new PrepPool(init, log, opts.workerUrl ?? WORKER_URL, opts.sliceTimeoutMs ?? 0);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.addSlot()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Serving while one slot is; failing while every slot is, since the last of them began to. */
  get health(): WorkerHealth {
    const since = this.slots.map((s) => s.worker.troubleSince);
    const allFailing = since.length > 0 && since.every((t) => t !== undefined);
    return { serving: this.slots.some((s) => s.worker.state === 'ready'), troubleSince: allFailing ? Math.max(...(since as number[])) : undefined };
  }

  prepare(items: readonly ScoreItem[], extraction: ExtractionMode, shaping: Shaping, signal?: AbortSignal): Promise<PreparedItem[]> {
    const named = (s: number, e: number) => items.slice(s, e).map(({ question, response }) => ({ question, response }));
    return this.submit(items.length, (s, e) => ({ kind: 'items', items: named(s, e), extraction, shaping }), signal) as Promise<PreparedItem[]>;
  }

  encodeTexts(texts: readonly string[], signal?: AbortSignal, addSpecialTokens = false, keepLast?: number): Promise<Prompt[]> {
    return this.submit(texts.length, (s, e) => ({ kind: 'texts', texts: texts.slice(s, e), addSpecialTokens, keepLast }), signal) as Promise<Prompt[]>;
  }

  async renderChat(question: string, code: string): Promise<string> {
    const [text] = await this.submit(1, () => ({ kind: 'render', question, code }));
    return text as string;
  }

  async renderMessages(messages: ChatMessage[], addGenerationPrompt: boolean): Promise<string> {
    const [text] = await this.submit(1, () => ({ kind: 'messages', messages, addGenerationPrompt }));
    return text as string;
  }

  async tokenize(req: TokenizeRequest): Promise<Tokenized> {
    const [tokenized] = await this.submit(1, () => ({ kind: 'tokenize', req }));
    return tokenized as Tokenized;
  }

  async detokenize(ids: number[]): Promise<{ text: string } | { unknown: number }> {
    const [result] = await this.submit(1, () => ({ kind: 'detokenize', ids }));
    return result as { text: string } | { unknown: number };
  }

  async localize(body: LocalizationBody, signal?: AbortSignal): Promise<LocalizationResponse> {
    const weights = checkLocalizationBody(body);
    const named = (s: number, e: number) => body.items.slice(s, e)
      .map((item) => (isObject(item) ? { locations: item.locations, prediction_text: item.prediction_text, gold: item.gold } : item));
    const results = await this.submit(body.items.length, (s, e) => ({ kind: 'localize', items: named(s, e), offset: s, weights }), signal);
    return { results: results as LocalizationResult[] };
  }

  async close(): Promise<void> {
    const workers = this.slots.map((s) => s.worker);
    this.slots.length = 0;
    for (const job of this.jobs) this.fail(job, new ServiceError('shutting_down', 'the service is shutting down'));
    // Asked, not terminated: terminating a thread inside a native call (tree-sitter) aborts the
    // whole process. The worker exits after the slice it is on.
    await Promise.all(workers.map((w) => w.closeWith({ id: 0, kind: 'close' } satisfies PrepRequest)));
  }

  private submit(size: number, slice: Job['slice'], signal?: AbortSignal): Promise<unknown[]> {
    if (size === 0) return Promise.resolve([]);
    // A worker that failed to start is tried again now, on its next use.
    for (const slot of this.slots) slot.worker.restartIfFailed();
    let cancel: Int32Array | undefined;
    if (signal) {
      cancel = new Int32Array(new SharedArrayBuffer(4));
      signal.addEventListener('abort', () => Atomics.store(cancel!, 0, 1), { once: true });
    }
    return new Promise((resolve, reject) => {
      this.jobs.push({ size, next: 0, outstanding: 0, results: new Array(size), slice, signal, cancel, failed: false, resolve, reject });
      this.dispatch();
    });
  }

  /** Gives each idle worker the next slice, taking one slice per job in turn. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.worker.state !== 'ready' || slot.running) continue;
      const job = this.nextLiveJob();
      if (!job) return;
      const start = job.next;
      const end = Math.min(job.size, start + ITEMS_PER_SLICE);
      job.next = end;
      job.outstanding++;
      if (end < job.size) this.jobs.push(job);
      const id = this.nextId++;
      try {
        slot.worker.post({ ...job.slice(start, end), id, cancel: job.cancel } satisfies PrepRequest);
      } catch (err) {
        // Only named fields cross (see prepare), so this is a bug; it fails its own request and
        // leaves the slot free.
        this.log.error(`a slice could not be sent to a prep worker: ${(err as Error).message}`);
        job.outstanding--;
        this.fail(job, prepFailed());
        continue;
      }
      slot.running = { job, start, id };
    }
  }

  /** The next job in turn with a slice to send, failing the cancelled ones on the way. */
  private nextLiveJob(): Job | undefined {
    for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
      if (job.signal?.aborted) this.fail(job, new CancelledError());
      else if (job.next < job.size) return job;
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
      this.log.error(`a prep worker failed on a slice: ${res.message}`);
      this.fail(job, prepFailed());
    } else if (res.kind === 'cancelled') {
      this.fail(job, new CancelledError());
    } else if (res.kind === 'invalid') {
      this.fail(job, new InvalidRequestError(res.message));
    } else if (res.kind === 'refused') {
      // One pass in order would have stopped at the first bad item: later slices are not sent,
      // and the slices before this one decide whether an earlier item is the one to report.
      if (!job.refusal || start < job.refusal.start) job.refusal = { start, error: new LocalizationInputError(res.code, res.detail, res.path) };
      job.size = Math.min(job.size, start);
    } else if (!job.failed) {
      slot.worker.reportSuccess();
      const part = res.kind === 'items' ? res.items : res.kind === 'texts' ? res.prompts : res.kind === 'render' ? [res.text]
        : res.kind === 'tokenized' ? [res.tokenized] : res.kind === 'detokenized' ? [res.result] : res.kind === 'localized' ? res.results : [];
      for (let k = 0; k < part.length; k++) job.results[start + k] = part[k];
    }
    if (!job.failed && job.next >= job.size && job.outstanding === 0) {
      if (job.refusal) this.fail(job, job.refusal.error);
      else job.resolve(job.results);
    }
    this.dispatch();
  }

  private fail(job: Job, err: Error): void {
    if (job.failed) return;
    job.failed = true;
    this.jobs = this.jobs.filter((j) => j !== job);
    job.reject(err);
  }

  private addSlot(): Promise<void> {
    const slot: Slot = {
      running: null,
      worker: new SupervisedWorker<PrepResponse>({
        entry: this.workerUrl,
        workerData: this.init,
        name: 'prep worker',
        log: this.log,
        handshake: (res) => res.kind === 'ready' || undefined,
        onReady: () => this.dispatch(),
        onMessage: (res) => this.settle(slot, res),
        onExit: (code) => {
          const lost = slot.running?.job;
          slot.running = null;
          if (lost) this.fail(lost, new ServiceError('internal', `a prep worker exited (code ${code}) while preparing this request; retry it`));
        },
        deadline: { ms: this.sliceTimeoutMs, clock: 'cpu' },
        // Prep work is a function of its input alone, so the input is what ran too long: a 4xx,
        // which clients do not retry.
        onDeadline: (ms) => {
          const lost = slot.running?.job;
          slot.running = null;
          if (lost) this.fail(lost, new ServiceError('unprocessable', `a slice of this request took more than PREP_SLICE_TIMEOUT_MS (${ms} ms of CPU) to prepare and was stopped; send fewer or shorter items`));
        },
        onStartFailed: () => {
          if (this.slots.some((s) => s.worker.state !== 'failed')) return;
          for (const job of [...this.jobs]) this.fail(job, new ServiceError('internal', 'no prep worker is running'));
        },
        // A pool left open (a test that never closes its app) does not keep the process alive.
        unref: true,
      }),
    };
    this.slots.push(slot);
    return slot.worker.startup;
  }
}
