// Dynamic batching in the shape of TEI's queue: one loop owns the state and is woken on each append.
//
//   submit() ──► pending (arrival order) ──cut()──► prefetched batch ──► model.predict ──► resolve
//
// Invariants: `pending` holds only entries not yet in a batch, in arrival order; at most one batch is
// running and at most one more is prepared (`prefetched`) while it runs. cut.ts chooses each batch's
// entries and lays them out as tensors.
//
// Admission: a request whose items do not all fit the free queue waits in arrival order for room,
// and is admitted in parts as batches leave the queue, so a request larger than MAX_QUEUE_ITEMS
// still runs. While other requests wait, one request holds at most half the queue, so a large one
// neither starves small ones nor is starved by them. A request that gets no room at all within
// ADMISSION_TIMEOUT_MS is refused with 503 and Retry-After; one admitted in part is never refused.
import { CancelledError, InferenceFailedError, OverloadedError, ServiceError, ShuttingDownError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { RewardModel } from '../model/reward-model.ts';
import { assembleBatch, cutBatch, type Batch as CutBatch, type BatchLimits } from './cut.ts';

export interface QueueOptions extends BatchLimits {
  maxWaitMs: number;
  maxQueueItems: number;
  /** How long a request may wait for its first items to be admitted before a 503; 0: refused at once. */
  admissionTimeoutMs: number;
  padTokenId: number;
  retryAfterS: number;
}

export interface Scored {
  logit: number;
  /** Time the item's request waited before any of its items was admitted to the queue. */
  admissionMs: number;
  queueMs: number;
  inferenceMs: number;
}

interface Entry {
  seq: number;
  ids: Int32Array;
  enqueuedAt: number;
  signal?: AbortSignal;
  ticket: Ticket;
  resolve(r: Scored): void;
  reject(e: Error): void;
}

/** One submitted request: its items not yet admitted, and how many of its admitted ones still wait. */
interface Ticket {
  prompts: readonly Int32Array[];
  settle: { resolve(r: Scored): void; reject(e: Error): void }[];
  /** Index of the next prompt to admit. */
  next: number;
  /** Items admitted and not yet in a running batch. */
  queued: number;
  arrivedAt: number;
  /** When its first items were admitted; undefined while none has been. */
  admittedAt?: number;
  signal?: AbortSignal;
  timer?: ReturnType<typeof setTimeout>;
  onAbort?: () => void;
}

type Batch = CutBatch<Entry>;

export class BatchQueue {
  private pending: Entry[] = [];
  private prefetched: Batch | null = null;
  private running = 0;
  private seq = 0;
  private closed = false;
  private wakeUp: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Requests with items not yet admitted, in arrival order. */
  private waiting: Ticket[] = [];

  constructor(
    private readonly model: RewardModel,
    private readonly opts: QueueOptions,
    private readonly metrics?: Metrics,
  ) {
    void this.loop();
  }

  /** Items waiting or prepared, not yet running. */
  get size(): number {
    return this.pending.length + (this.prefetched?.entries.length ?? 0);
  }

  /** Items of waiting requests not yet admitted to the queue. */
  get waitingItems(): number {
    return this.waiting.reduce((n, t) => n + t.prompts.length - t.next, 0);
  }

  /**
   * One promise per prompt. Prompts that do not fit wait for room (see the admission rules above);
   * when none of them is admitted within ADMISSION_TIMEOUT_MS, all reject with OverloadedError.
   */
  submit(prompts: readonly Int32Array[], signal?: AbortSignal): Promise<Scored>[] {
    if (this.closed) throw new ShuttingDownError(this.opts.retryAfterS);
    if (prompts.some((ids) => ids.length === 0)) throw new RangeError('an empty prompt cannot be batched');
    const ticket: Ticket = { prompts, settle: [], next: 0, queued: 0, arrivedAt: performance.now(), signal };
    const promises = prompts.map((): Promise<Scored> => new Promise((resolve, reject) => ticket.settle.push({ resolve, reject })));
    if (prompts.length === 0) return promises;
    this.waiting.push(ticket);
    this.admit();
    if (ticket.next < prompts.length) this.wait(ticket);
    return promises;
  }

  /** Arms the timeout and the client's abort for a ticket still waiting for room. */
  private wait(ticket: Ticket): void {
    if (ticket.admittedAt === undefined) {
      const refuse = () => this.abandon(ticket, new OverloadedError(this.size, this.opts.maxQueueItems, this.opts.retryAfterS));
      if (this.opts.admissionTimeoutMs === 0) return refuse();
      ticket.timer = setTimeout(() => {
        if (ticket.admittedAt === undefined) refuse();
      }, this.opts.admissionTimeoutMs);
    }
    if (ticket.signal?.aborted) return this.abandon(ticket, new CancelledError());
    if (ticket.signal) {
      ticket.onAbort = () => this.abandon(ticket, new CancelledError());
      ticket.signal.addEventListener('abort', ticket.onAbort, { once: true });
    }
  }

  /** Takes a ticket out of the waiting line, failing its items not yet admitted. */
  private abandon(ticket: Ticket, err: Error): void {
    const at = this.waiting.indexOf(ticket);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    this.release(ticket);
    for (let i = ticket.next; i < ticket.prompts.length; i++) ticket.settle[i].reject(err);
    if (err instanceof CancelledError) this.metrics?.droppedItems.inc(ticket.prompts.length - ticket.next);
    // Its share of the queue may have been what held the others back.
    this.admit();
    this.notifyIdle();
  }

  private release(ticket: Ticket): void {
    clearTimeout(ticket.timer);
    if (ticket.onAbort) ticket.signal?.removeEventListener('abort', ticket.onAbort);
  }

  /**
   * Gives free queue room to waiting requests in arrival order. While more than one waits, a request
   * takes room only up to half the queue (counting its items already queued), so the next in line
   * always gets some of each batch's worth of room.
   */
  private admit(): void {
    let room = this.opts.maxQueueItems - this.size;
    if (room <= 0 || this.waiting.length === 0) return;
    const share = Math.max(1, Math.floor(this.opts.maxQueueItems / 2));
    const now = performance.now();
    for (const ticket of [...this.waiting]) {
      if (room <= 0) break;
      const limit = this.waiting.length > 1 ? Math.min(room, share - ticket.queued) : room;
      const take = Math.min(limit, ticket.prompts.length - ticket.next);
      if (take <= 0) continue;
      if (ticket.admittedAt === undefined) ticket.admittedAt = now;
      const admissionMs = ticket.admittedAt - ticket.arrivedAt;
      for (let i = ticket.next; i < ticket.next + take; i++) {
        const { resolve, reject } = ticket.settle[i];
        this.pending.push({
          seq: this.seq++, ids: ticket.prompts[i], enqueuedAt: now, signal: ticket.signal, ticket,
          resolve: (r) => resolve({ ...r, admissionMs }), reject,
        });
      }
      ticket.next += take;
      ticket.queued += take;
      room -= take;
      if (ticket.next === ticket.prompts.length) {
        this.waiting.splice(this.waiting.indexOf(ticket), 1);
        this.release(ticket);
      }
    }
    this.metrics?.queueItems.set(this.size);
    this.wake();
  }

  /** Stops admitting; resolves once everything admitted has been answered. */
  async drain(): Promise<void> {
    this.closed = true;
    // Requests admitted in part are accepted work and finish; those with nothing admitted go elsewhere.
    for (const ticket of this.waiting.filter((t) => t.admittedAt === undefined)) this.abandon(ticket, new ShuttingDownError(this.opts.retryAfterS));
    this.wake();
    if (this.size === 0 && this.running === 0 && this.waiting.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => this.wake(), Math.max(0, ms)) : undefined;
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    for (;;) {
      const batch = this.prefetched ?? (await this.nextBatch());
      this.prefetched = null;
      if (batch === null) return;
      await this.run(batch);
    }
  }

  /** Waits for work while the model is idle; MAX_WAIT_MS lets a partial batch fill first. */
  private async nextBatch(): Promise<Batch | null> {
    for (;;) {
      this.dropCancelled();
      if (this.pending.length === 0) {
        if (this.running === 0) this.notifyIdle();
        if (this.closed && this.waiting.length === 0) return null;
        await this.sleep(Infinity);
        continue;
      }
      const deadline = this.pending[0].enqueuedAt + this.opts.maxWaitMs;
      const batch = this.cut();
      if (batch.full || this.closed || performance.now() >= deadline) return batch;
      this.putBack(batch);
      await this.sleep(deadline - performance.now());
    }
  }

  private async run(batch: Batch): Promise<void> {
    // The batch has left the queue: its room goes to the requests waiting for it.
    for (const e of batch.entries) e.ticket.queued--;
    this.admit();
    const live = batch.entries.filter((e) => !this.cancelled(e));
    if (live.length === 0) return;
    if (live.length !== batch.entries.length) batch = { ...batch, entries: live, seqLen: Math.max(...live.map((e) => e.ids.length)) };
    const tensors = assembleBatch(batch, this.opts.padTokenId);
    const started = performance.now();
    this.running++;
    const prediction = this.model.predict(tensors);
    // Prepare the next batch while this one runs.
    this.dropCancelled();
    if (this.pending.length > 0) this.prefetched = this.cut();
    this.metrics?.queueItems.set(this.size);
    try {
      const logits = await prediction;
      const inferenceMs = performance.now() - started;
      this.record(batch, started, inferenceMs);
      batch.entries.forEach((e, i) => e.resolve({ logit: logits[i], admissionMs: 0, queueMs: started - e.enqueuedAt, inferenceMs }));
    } catch (err) {
      const failure = err instanceof ServiceError ? err : new InferenceFailedError((err as Error).message);
      for (const e of batch.entries) e.reject(failure);
    } finally {
      this.running--;
    }
    // Items that arrived during the run may fill the prepared batch better: cut it again.
    if (this.prefetched && !this.prefetched.full && this.pending.length > 0) {
      this.putBack(this.prefetched);
      this.prefetched = this.cut();
    }
    if (this.size === 0) this.notifyIdle();
  }

  private record(batch: Batch, started: number, inferenceMs: number): void {
    const m = this.metrics;
    if (!m) return;
    const real = batch.entries.reduce((s, e) => s + e.ids.length, 0);
    const padded = batch.entries.length * batch.seqLen;
    m.batchItems.observe(batch.entries.length);
    m.batchTokens.observe(padded);
    m.tokens.inc({ kind: 'real' }, real);
    m.tokens.inc({ kind: 'padding' }, padded - real);
    m.inferenceDuration.observe(inferenceMs / 1000);
    for (const e of batch.entries) m.queueDuration.observe((started - e.enqueuedAt) / 1000);
  }

  private cancelled(e: Entry): boolean {
    if (!e.signal?.aborted) return false;
    e.reject(new CancelledError());
    this.metrics?.droppedItems.inc();
    return true;
  }

  private dropCancelled(): void {
    if (!this.pending.some((e) => e.signal?.aborted)) return;
    this.pending = this.pending.filter((e) => {
      if (!this.cancelled(e)) return true;
      e.ticket.queued--;
      return false;
    });
    this.admit();
  }

  private putBack(batch: Batch): void {
    this.pending = [...batch.entries, ...this.pending].sort((a, b) => a.seq - b.seq);
  }

  /** The next batch by cut.ts's rules, taken out of `pending`. */
  private cut(): Batch {
    const batch = cutBatch(this.pending, this.opts);
    const taken = new Set(batch.entries);
    this.pending = this.pending.filter((e) => !taken.has(e));
    return batch;
  }

  private notifyIdle(): void {
    if (this.running > 0 || this.size > 0 || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
