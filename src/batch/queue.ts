// Dynamic batching in the shape of TEI's queue: one loop owns the state and is woken on each append.
//
//   submit() ──► pending (arrival order) ──cut()──► prefetched batch ──► model.predict ──► resolve
//
// Invariants: `pending` holds only entries not yet in a batch, in arrival order; at most one batch is
// running and at most one more is prepared (`prefetched`) while it runs. A cut always takes the
// oldest live entry (no starvation) and grows around it among entries of similar length; it stops at
// MAX_BATCH_TOKENS padded tokens, MAX_BATCH_ATTENTION rows × length², MAX_BATCH_ITEMS items, or
// MAX_PADDING_SHARE padding. A single item always makes a batch, however long. With prefix sharing on, an oldest
// entry that shares a prefix of PREFIX_MIN_TOKENS with others takes them instead, in arrival order,
// while the tokens that run (the prefix once, each distinct suffix padded as prefix-plan.ts cuts its
// runs) fit MAX_BATCH_TOKENS.
//
// Admission: a request whose items do not all fit the free queue waits in arrival order for room,
// and is admitted in parts as batches leave the queue, so a request larger than MAX_QUEUE_ITEMS
// still runs. While other requests wait, one request holds at most half the queue, so a large one
// neither starves small ones nor is starved by them. A request that gets no room at all within
// ADMISSION_TIMEOUT_MS is refused with 503 and Retry-After; one admitted in part is never refused.
import { CancelledError, InferenceFailedError, OverloadedError, ServiceError, ShuttingDownError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import { allocateBatch, type ModelBatch, type RewardModel } from '../model/reward-model.ts';
import { commonPrefixLength, groupTokens, sharePrefix } from './prefix-plan.ts';

export interface QueueOptions {
  maxBatchTokens: number;
  /** Largest rows × padded length² of a batch (one head's attention scores); 0: no limit. */
  maxBatchAttention: number;
  /** Largest share of padding tokens a batch may have; an item that would exceed it waits for another batch. */
  maxPaddingShare: number;
  maxBatchItems: number;
  maxWaitMs: number;
  maxQueueItems: number;
  /** How long a request may wait for its first items to be admitted before a 503; 0: refused at once. */
  admissionTimeoutMs: number;
  padTokenId: number;
  retryAfterS: number;
  /** Items sharing a prefix this long are batched together, their prefix counted once (0 or unset: off). */
  prefixMinTokens?: number;
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

interface Batch {
  entries: Entry[];
  seqLen: number;
  /** True when the cut stopped at a limit, so waiting longer would not make it bigger. */
  full: boolean;
}

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
    const tensors = this.assemble(batch);
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

  /**
   * Takes the oldest pending entry and grows a window around it in length order, each step adding
   * the neighbour that adds the fewest padding tokens, while the padded size fits the budget.
   */
  private cut(): Batch {
    return this.cutGroup() ?? this.cutByLength();
  }

  /**
   * The oldest entry with the pending entries that share its first PREFIX_MIN_TOKENS tokens, in
   * arrival order while what runs fits: the common prefix once, and each distinct suffix (a duplicate
   * runs once) in runs cut as the model cuts them. Null when sharing is off or the entry has no partner.
   */
  private cutGroup(): Batch | null {
    const min = this.opts.prefixMinTokens ?? 0;
    const anchor = this.pending[0];
    if (min === 0 || anchor.ids.length <= min) return null;
    const partners = this.pending.filter((e) => e !== anchor && sharePrefix(anchor.ids, e.ids, min));
    if (partners.length === 0) return null;
    const limits = { maxPaddingShare: this.opts.maxPaddingShare, maxAttention: this.opts.maxBatchAttention };
    const taken = [anchor];
    /** Distinct members' full lengths, and the prefix they all share with the anchor. */
    const distinct: Int32Array[] = [anchor.ids];
    let common = anchor.ids.length;
    let full = false;
    for (const e of partners) {
      if (taken.length >= this.opts.maxBatchItems) {
        full = true;
        break;
      }
      const shared = commonPrefixLength(anchor.ids, e.ids);
      const duplicate = distinct.some((d) => d.length === e.ids.length && commonPrefixLength(d, e.ids) === d.length);
      const members = duplicate ? distinct : [...distinct, e.ids];
      const nextCommon = Math.min(common, shared);
      const prefixLength = Math.min(nextCommon, ...members.map((m) => m.length - 1));
      const tokens = groupTokens(prefixLength, members.map((m) => m.length - prefixLength), limits);
      if (tokens > this.opts.maxBatchTokens) {
        full = true;
        break;
      }
      taken.push(e);
      if (!duplicate) distinct.push(e.ids);
      common = nextCommon;
    }
    const set = new Set(taken);
    const entries = this.pending.filter((e) => set.has(e));
    this.pending = this.pending.filter((e) => !set.has(e));
    return { entries, seqLen: Math.max(...entries.map((e) => e.ids.length)), full };
  }

  private cutByLength(): Batch {
    const { maxBatchTokens, maxBatchAttention, maxBatchItems, maxPaddingShare } = this.opts;
    const anchor = this.pending[0];
    const byLength = [...this.pending].sort((a, b) => a.ids.length - b.ids.length || a.seq - b.seq);
    let lo = byLength.indexOf(anchor);
    let hi = lo;
    let seqLen = anchor.ids.length;
    let real = seqLen;
    let full = false;
    // A candidate joins only if the batch stays within the token and attention budgets and the padding share.
    const fits = (count: number, len: number, tokens: number) => count * len <= maxBatchTokens
      && (maxBatchAttention === 0 || count * len * len <= maxBatchAttention)
      && count * len - tokens <= maxPaddingShare * count * len;
    while (hi - lo + 1 < maxBatchItems) {
      const count = hi - lo + 1;
      const left = lo > 0 ? byLength[lo - 1] : undefined;
      const right = hi < byLength.length - 1 ? byLength[hi + 1] : undefined;
      const leftFits = left !== undefined && fits(count + 1, seqLen, real + left.ids.length);
      const rightFits = right !== undefined && fits(count + 1, right.ids.length, real + right.ids.length);
      if (!leftFits && !rightFits) {
        full = left !== undefined || right !== undefined;
        break;
      }
      const leftPad = leftFits ? seqLen - left!.ids.length : Infinity;
      const rightPad = rightFits ? count * (right!.ids.length - seqLen) : Infinity;
      if (leftPad <= rightPad) {
        lo--;
        real += left!.ids.length;
      } else {
        hi++;
        seqLen = right!.ids.length;
        real += seqLen;
      }
    }
    if (hi - lo + 1 >= maxBatchItems) full = true;
    const taken = new Set(byLength.slice(lo, hi + 1));
    const entries = this.pending.filter((e) => taken.has(e));
    this.pending = this.pending.filter((e) => !taken.has(e));
    return { entries, seqLen, full };
  }

  /**
   * Right-padded int64 tensors in one buffer (one transfer to the model worker), written through
   * 32-bit views: ids are non-negative and < 2^31, so each high word stays 0.
   */
  private assemble(batch: Batch): ModelBatch {
    const { entries, seqLen } = batch;
    const tensors = allocateBatch(entries.length, seqLen);
    const ids32 = new Int32Array(tensors.inputIds.buffer, tensors.inputIds.byteOffset, 2 * tensors.inputIds.length);
    const mask32 = new Int32Array(tensors.attentionMask.buffer, tensors.attentionMask.byteOffset, 2 * tensors.attentionMask.length);
    const pad = this.opts.padTokenId;
    for (let row = 0; row < entries.length; row++) {
      const ids = entries[row].ids;
      let k = 2 * row * seqLen;
      for (let t = 0; t < ids.length; t++, k += 2) {
        ids32[k] = ids[t];
        mask32[k] = 1;
      }
      for (let t = ids.length; t < seqLen; t++, k += 2) ids32[k] = pad;
    }
    return tensors;
  }

  private notifyIdle(): void {
    if (this.running > 0 || this.size > 0 || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
