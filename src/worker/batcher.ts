/**
 * Dynamic batcher: documents from many concurrent jobs are grouped into padded batches.
 *
 * A batch leaves when it is full (`maxBatchSize` documents, or the next document would push
 * the padded size `rows x longest` over `maxBatchTokens`) or when its oldest document has
 * waited `maxWaitMs`. Inside the waiting window documents are grouped by token length, which
 * on the rt-polarity reviews (mean 27 tokens, p99 56) cuts the padding of batches of 32
 * from ~50% (file order) to ~4% of computed tokens. One batch runs at a time per model, with
 * at most one more full batch queued behind it (`maxInFlight`); the window fills while they
 * run, so the next batch is ready when the current one ends.
 *
 * The window is kept in length buckets (one FIFO per token length, at most 512), not sorted
 * per batch: with 64 documents per job it holds up to 1,024 jobs x 64 = 65,536 documents, and
 * copying and sorting that on every batch took 35 % of the worker's main thread (node
 * --cpu-prof, micro model). Choosing a batch walks the non-empty lengths and counts, so it
 * costs O(lengths + batch), and picks exactly the batch that sorting the window by (length,
 * arrival) and cutting it greedily would pick.
 *
 * Models without attention_mask (the zoo's signature) give different results for a padded
 * row, so with `equalLengthOnly` a batch only holds documents of one exact length.
 *
 * A batch whose run throws is split in halves and retried until the failing document is
 * alone: one poison document never fails its neighbours.
 */
import { E, DocumentError, RobertaBatchError } from '../shared/errors.js';
import type { Pooling } from '../shared/types.js';
import type { InferenceBackend } from './backend.js';
import { Outcomes } from './outcomes.js';

export interface BatcherOptions {
  maxBatchSize: number;
  maxBatchTokens: number;
  maxWaitMs: number;
  padId: number;
  equalLengthOnly: boolean;
  pooling?: Pooling;
  normalize?: boolean;
  /**
   * Full batches sent to the backend before the previous one returned (default 2). The
   * backend runs one at a time; with one queued behind it, the model never waits for the main
   * thread's turn (on a near-free model one batch in flight left the inference thread idle
   * ~90 % of the time). A partial batch leaves, as before, once its oldest document waited
   * max-wait-ms, into whichever slot is free.
   */
  maxInFlight?: number;
  /**
   * A full batch leaves before its oldest document waited max-wait-ms only from a window of at
   * least this many documents (default 0: as soon as one is full). A batch cut as soon as 32
   * documents are in is 32 documents in arrival order, not a length group: when a backlog
   * starts (worker start, a queue resumed) the first two batches of roberta-base over
   * rt-polarity padded to 64 and 57 tokens for a mean of 27, and the end-to-end padding was
   * 9.5 % against 3.1 % for the same documents sorted whole (bench, one run). The worker sets
   * it to 16 batches' worth, capped by how many jobs it holds: waiting costs at most
   * max-wait-ms, and a window that cannot grow so deep never waits for it.
   */
  minWindowForFull?: number;
}

/** Time and timers of the batcher; tests inject a manual one instead of waiting for real time. */
export interface BatcherClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_CLOCK: BatcherClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface BatchItemResult {
  /** Logits or pooled embedding of this document. */
  vector: Float32Array;
  batchId: number;
  batchSize: number;
  /** ms between submit and the start of its (final) batch run. */
  waitMs: number;
  runMs: number;
}

export interface BatchStats {
  batchId: number;
  rows: number;
  seq: number;
  usefulTokens: number;
  paddedTokens: number;
  runMs: number;
}

export interface BatcherHooks {
  onBatch?(stats: BatchStats): void;
  onSplit?(rows: number, err: unknown): void;
}

interface Item {
  ids: Int32Array;
  submittedAt: number;
  taken: boolean;
  submission: Outcomes<BatchItemResult | DocumentError>;
  index: number;
}

/** A run of one bucket's items, by position at the time of the walk. */
interface Segment {
  len: number;
  from: number;
  count: number;
}

interface Chunk {
  segments: Segment[];
  size: number;
  full: boolean;
  hasOldest: boolean;
}

/**
 * Errors that are not the documents' fault (the inference thread died, shutdown): no
 * splitting, the jobs are retried by BullMQ. The catalogue marks them `retryable`.
 */
function isBackendFailure(err: unknown): boolean {
  return err instanceof RobertaBatchError && err.retryable;
}

export class DynamicBatcher {
  #backend: InferenceBackend;
  #opts: BatcherOptions;
  #hooks: BatcherHooks;
  #clock: BatcherClock;
  /** Items by token length, each bucket in arrival order. */
  #buckets = new Map<number, Item[]>();
  /** The non-empty lengths, ascending. */
  #lengths: number[] = [];
  /** Every item in arrival order; taken ones are skipped lazily (the oldest is the first untaken). */
  #arrivals: Item[] = [];
  #head = 0;
  #count = 0;
  #inFlight = 0;
  #timer: unknown;
  #batchId = 0;
  #flushing = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  /** Run time of the last batch (ms), once one has run. */
  #lastRunMs: number | undefined;

  constructor(backend: InferenceBackend, opts: BatcherOptions, hooks: BatcherHooks = {}, clock: BatcherClock = REAL_CLOCK) {
    if (opts.maxBatchSize < 1) throw new RangeError('maxBatchSize must be >= 1');
    this.#backend = backend;
    this.#opts = opts;
    this.#hooks = hooks;
    this.#clock = clock;
  }

  get pending(): number {
    return this.#count;
  }

  get busy(): boolean {
    return this.#inFlight > 0;
  }

  /** One document: its result, or its DocumentError (E_DOCUMENT_INFERENCE) as a rejection. */
  async submit(ids: Int32Array): Promise<BatchItemResult> {
    const [r] = await this.submitMany([ids]);
    if (r instanceof DocumentError) throw r;
    return r;
  }

  /**
   * Several documents (a job's), one promise: each gets its result, or a DocumentError
   * (E_DOCUMENT_INFERENCE, the model fails on it alone) in its place. Rejects when the
   * batcher is closed or the backend failed (not the documents' fault: the job is retried).
   */
  submitMany(idsList: readonly Int32Array[]): Promise<(BatchItemResult | DocumentError)[]> {
    if (this.#closed) return Promise.reject(E.SHUTDOWN('batcher is closed'));
    if (idsList.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const submission = new Outcomes<BatchItemResult | DocumentError>(idsList.length, resolve, reject);
      const now = this.#clock.now();
      for (let i = 0; i < idsList.length; i++) this.#add({ ids: idsList[i], submittedAt: now, taken: false, submission, index: i });
      this.#schedule();
    });
  }

  /** Sends every waiting document now, without waiting for full batches, and resolves when idle. */
  async flush(): Promise<void> {
    this.#flushing = true;
    this.#schedule();
    await this.#whenIdle();
    this.#flushing = false;
  }

  /** Refuses new documents and finishes the ones already submitted. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#clearTimer();
  }

  #add(item: Item): void {
    const len = item.ids.length;
    let bucket = this.#buckets.get(len);
    if (!bucket) {
      bucket = [];
      this.#buckets.set(len, bucket);
    }
    if (bucket.length === 0) {
      // Binary search: at most ~512 distinct lengths.
      const ls = this.#lengths;
      let lo = 0;
      let hi = ls.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ls[mid] < len) lo = mid + 1;
        else hi = mid;
      }
      ls.splice(lo, 0, len);
    }
    bucket.push(item);
    this.#arrivals.push(item);
    this.#count++;
  }

  #oldest(): Item | undefined {
    const a = this.#arrivals;
    while (this.#head < a.length && a[this.#head].taken) this.#head++;
    if (this.#head > 4096 && this.#head * 2 > a.length) {
      this.#arrivals = a.slice(this.#head);
      this.#head = 0;
    }
    return this.#arrivals[this.#head];
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#inFlight === 0 && this.#count === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #schedule(): void {
    const maxInFlight = this.#opts.maxInFlight ?? 2;
    while (this.#inFlight < maxInFlight) {
      const oldest = this.#oldest();
      if (!oldest) {
        if (this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w();
        return;
      }
      const waited = this.#clock.now() - oldest.submittedAt;
      const overdue = waited >= this.#opts.maxWaitMs;
      // Behind a running batch only a full one is queued, and none while a document is past
      // max-wait-ms: that one leaves next, as soon as the running batch ends. Queuing a partial
      // batch behind a running one took it from a window that had not filled yet: on
      // roberta-base (a batch of 32 in ~0.6 s, every document overdue meanwhile) padding rose
      // from 5.2 to 6.2 % and int8 end to end fell to 0.89 x (bench --baseline-cli, one run).
      // Without the overdue rule, full batches streaming through both slots would starve a
      // document whose length never fills a chunk.
      // The one exception, for short batches only: the oldest document's own chunk when it is
      // full. It is what would leave next anyway, and under a backlog (every document overdue)
      // waiting for the running batch to end left a near-free model idle between batches (two
      // in flight became one; the inference thread waited on the main thread's turn). A batch
      // that runs longer than max-wait-ms hides that turn itself, and a second one queued
      // behind it would only double what a shutdown has to wait for.
      const behindOverdue = this.#inFlight > 0 && overdue && !this.#flushing;
      const queueBehind = behindOverdue && this.#lastRunMs !== undefined && this.#lastRunMs < this.#opts.maxWaitMs;
      const force = !behindOverdue && (this.#flushing || overdue);
      // A shallow window waits (at most until its oldest document is overdue) to fill first.
      const batch = behindOverdue ? (queueBehind ? this.#pick(false, oldest, true) : undefined)
        : force || this.#count >= (this.#opts.minWindowForFull ?? 0) ? this.#pick(force, oldest) : undefined;
      if (behindOverdue && !batch) return;
      if (!batch) {
        if (this.#timer === undefined) {
          this.#timer = this.#clock.setTimeout(() => {
            this.#timer = undefined;
            this.#schedule();
          }, Math.max(1, this.#opts.maxWaitMs - waited));
        }
        return;
      }
      this.#clearTimer();
      this.#inFlight++;
      void this.#runBatch(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  }

  /**
   * Chooses the next batch, as if the window were sorted by (length, arrival) and cut greedily
   * into chunks that respect the size and padded-token limits: without `force`, only a chunk
   * that hit a limit (a full one) leaves, the oldest document's if it is full, else the first;
   * with `force`, the chunk holding the oldest document leaves even if it is not full.
   * With `oldestOnly`, only the oldest document's chunk may leave, and only if it is full.
   * Chunks are counted per length bucket, never materialised, and the walk stops as soon as
   * the choice is known.
   */
  #pick(force: boolean, oldest: Item, oldestOnly = false): Item[] | undefined {
    const { maxBatchSize: B, maxBatchTokens: T, equalLengthOnly } = this.#opts;
    const oldestLen = oldest.ids.length;
    let cur: Chunk | undefined;
    let firstFull: Chunk | undefined;
    let withOldest: Chunk | undefined;
    let chosen: Chunk | undefined;
    // Returns true once the choice is known.
    const close = (c: Chunk, full: boolean): boolean => {
      c.full = full;
      if (full && !firstFull) firstFull = c;
      if (c.hasOldest) withOldest = c;
      if (withOldest && (withOldest.full || force)) chosen = withOldest;
      else if (withOldest && firstFull && !oldestOnly) chosen = firstFull;
      return chosen !== undefined || (oldestOnly && withOldest !== undefined);
    };
    let lastLen = 0;
    walk: for (const len of this.#lengths) {
      const n = this.#buckets.get(len)!.length;
      // Most documents of this length one chunk can hold: (rows + 1) x len <= max(T, len).
      const m = Math.min(B, Math.floor(Math.max(T, len) / len));
      let o = 0;
      while (o < n) {
        if (cur) {
          const chunkLen = cur.segments[0].len;
          if (cur.size >= m || (equalLengthOnly && chunkLen !== len)) {
            // Full when a limit stopped it; a length change in equal-length mode is not "full".
            const lengthBreak = equalLengthOnly && chunkLen !== len && cur.size < B && (cur.size + 1) * len <= T;
            const done = close(cur, !lengthBreak);
            cur = undefined;
            if (done) break walk;
          }
        }
        if (!cur) {
          // Whole chunks inside this bucket after the first full one cannot change the choice
          // unless they hold the oldest document (always first in its bucket): skip them, but
          // keep the last one, whose fullness depends on what follows it.
          if (firstFull && (len !== oldestLen || o > 0)) {
            const whole = Math.floor((n - o) / m);
            const skip = (n - o) % m === 0 ? whole - 1 : whole;
            if (skip > 0) o += skip * m;
          }
          cur = { segments: [], size: 0, full: false, hasOldest: false };
        }
        if (len === oldestLen && o === 0) cur.hasOldest = true;
        const take = Math.min(n - o, m - cur.size);
        cur.segments.push({ len, from: o, count: take });
        cur.size += take;
        o += take;
      }
      lastLen = len;
    }
    if (!chosen && cur) close(cur, cur.size >= B || cur.size * lastLen >= T);
    if (!chosen && force) chosen = withOldest;
    return chosen ? this.#take(chosen) : undefined;
  }

  /** Removes a chunk's items from their buckets (positions as seen by the walk). */
  #take(c: Chunk): Item[] {
    const items: Item[] = [];
    for (const seg of c.segments) {
      const bucket = this.#buckets.get(seg.len)!;
      const part = bucket.splice(seg.from, seg.count);
      for (const it of part) {
        it.taken = true;
        items.push(it);
      }
      if (bucket.length === 0) {
        this.#buckets.delete(seg.len);
        this.#lengths.splice(this.#lengths.indexOf(seg.len), 1);
      }
    }
    this.#count -= items.length;
    return items;
  }

  async #runBatch(items: Item[]): Promise<void> {
    const { padId, pooling, normalize } = this.#opts;
    const rows = items.length;
    const seq = Math.max(...items.map((i) => i.ids.length));
    const ids = new Int32Array(rows * seq).fill(padId);
    const lengths = new Int32Array(rows);
    let useful = 0;
    items.forEach((it, r) => {
      ids.set(it.ids, r * seq);
      lengths[r] = it.ids.length;
      useful += it.ids.length;
    });
    const batchId = ++this.#batchId;
    const startedAt = this.#clock.now();
    try {
      const out = await this.#backend.run({ rows, seq, ids, lengths, pooling, normalize });
      this.#lastRunMs = out.runMs;
      this.#hooks.onBatch?.({ batchId, rows, seq, usefulTokens: useful, paddedTokens: rows * seq, runMs: out.runMs });
      items.forEach((it, r) =>
        it.submission.set(it.index, {
          vector: out.data.slice(r * out.width, (r + 1) * out.width),
          batchId,
          batchSize: rows,
          waitMs: startedAt - it.submittedAt,
          runMs: out.runMs,
        }),
      );
    } catch (err) {
      if (isBackendFailure(err)) {
        for (const it of items) it.submission.fail(err);
        return;
      }
      if (rows === 1) {
        items[0].submission.set(items[0].index, E.DOCUMENT_INFERENCE(err));
        return;
      }
      this.#hooks.onSplit?.(rows, err);
      const half = Math.ceil(rows / 2);
      await this.#runBatch(items.slice(0, half));
      await this.#runBatch(items.slice(half));
    }
  }
}
