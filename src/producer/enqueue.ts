/**
 * The producer: documents → BullMQ jobs, in chunks of `addBulk`, with backpressure. This file
 * holds the connections and the reading loop; each step is its own module:
 *
 * - document-limits.ts: ids BullMQ cannot use, texts over `maxDocBytes` (1 MiB) and jobs over
 *   `maxJobBytes` (2 MiB) are rejected with their line number (E_INPUT_*), never sent.
 * - packer.ts: job id = document id (job-id.ts), or `pack-<sha1>` of the packed ids with
 *   `docsPerJob > 1`, so enqueueing the same input again is a no-op.
 * - chunk.ts: `chunkSize` jobs per addBulk; an id repeating within the input is listed
 *   (E_INPUT_DUPLICATE) with both line numbers and sent once.
 * - backpressure.ts: pauses while the queue holds more than `maxWaiting` waiting jobs.
 * - already-queued.ts: jobs still in Redis and finished documents (their markers) are not sent
 *   again; with skipUnchanged, unchanged documents are skipped and changed ones replace theirs.
 *   A document whose marker expired (--keep-done-days) or was removed is enqueued again.
 * - enqueue-summary.ts: the counters, the progress callback's view and the summary.
 *
 * A full Redis (E_REDIS_OOM) is waited out: each refused write is retried until accepted;
 * documents that could not be added before an abort are counted in `notEnqueued`. `strict`:
 * the first malformed line aborts the run (E_INPUT_*, with its line number); the chunk being
 * collected is dropped, chunks sent before stay (a re-run skips them).
 */
import type { JobsOptions } from 'bullmq';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { E, RobertaBatchError } from '../shared/errors.js';
import { logger as rootLogger, type Logger } from '../shared/logger.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, DOC_JOB_OPTIONS, queueOptions, resultsQueueName } from '../shared/queues.js';
import { setupKey } from '../shared/fingerprints.js';
import { isOomError, OomReporter, retryOnOom } from '../shared/redis-oom.js';
import { addRunCounts, markEnqueueFinished, registerRun } from '../shared/run-stats.js';
import { bullConnection, connect, retryOnConnectionDrop, type RedisClient } from '../shared/redis.js';
import { DEFAULT_REDIS_URL, redactRedisUrl } from '../shared/redis-url.js';
import { checkEvictionPolicy, waitForRedis } from '../shared/redis-checks.js';
import type { DocJobData, DocumentInput } from '../shared/types.js';
import { repeatedIdLine, selectFresh, type AlreadyQueuedContext } from './already-queued.js';
import { Backpressure } from './backpressure.js';
import { Chunk } from './chunk.js';
import type { ReadItem, ReaderStats } from './document.js';
import { checkDocument } from './document-limits.js';
import { newCounts, progressOf, summarize, type EnqueueCounts, type EnqueueProgress, type EnqueueSummary } from './enqueue-summary.js';
import { ErrorsFile, type RejectedLine } from './errors-file.js';
import { Packer, type PendingJob } from './packer.js';
import { INPUT, PACKED_DOCS_PER_JOB, PRODUCER, REDIS_WAIT_MS } from '../shared/flags.js';
import { invalidIdReason, jobIdForDocument, jobIdForPack } from '../shared/job-id.js';
import { readFile, type ReaderOptions } from './readers.js';

export type { EnqueueProgress, EnqueueSummary } from './enqueue-summary.js';

/** BullMQ job name of document jobs (single documents and packs alike). */
export const DOC_JOB_NAME = 'docs';

export const ENQUEUE_DEFAULTS = {
  queue: DEFAULT_QUEUE,
  prefix: DEFAULT_PREFIX,
  chunkSize: PRODUCER.chunkSize.default,
  maxWaiting: PRODUCER.maxWaiting.default,
  /** Library callers (enqueueDocuments/enqueueFile) get one document per job unless they ask. */
  docsPerJob: 1,
  /**
   * `roberta-batch enqueue` and `run` of a file pack this many documents per job unless told
   * otherwise (--docs-per-job; 1 with --skip-unchanged, which needs one job per document).
   * Measured with the pipeline ceiling (bench --only ceiling, rt-polarity reviews, micro model,
   * 2 shared cores): worker CPU per document 346 us at 1 per job, 213 at 16, 192 at 64, 185 at
   * 256; Redis 187, 100, 96, 96 us. 64 takes nearly all of the gain; larger packs add little
   * and redo more work when a pack is retried. docs/BENCHMARKS.md.
   */
  fileDocsPerJob: PACKED_DOCS_PER_JOB,
  maxDocBytes: PRODUCER.maxDocBytes.default,
  maxJobBytes: INPUT.maxJobBytes.default,
  /** Poll interval of the waiting count while paused by backpressure, in ms. */
  backpressurePollMs: 500,
  /** How long to wait for Redis at start, in ms. */
  redisWaitMs: REDIS_WAIT_MS.default,
} as const;

export interface EnqueueOptions {
  /** Default: redis://127.0.0.1:6379 (the CLI passes REDIS_URL from its configuration). */
  redisUrl?: string;
  queue?: string;
  prefix?: string;
  /** Jobs per addBulk call (default 1000). */
  chunkSize?: number;
  /** Pause while the queue has more waiting jobs than this (default 100 000). */
  maxWaiting?: number;
  /** Documents per job (default 1). */
  docsPerJob?: number;
  /** Default: run-YYYYMMDD-HHMMSS-xxxx (UTC). */
  runId?: string;
  /** Merged over DOC_JOB_OPTIONS; `jobId` is not allowed (ids come from the documents). */
  jobOptions?: Omit<JobsOptions, 'jobId'>;
  /** Abort on the first malformed or rejected line. */
  strict?: boolean;
  /** Write malformed and rejected lines there as JSON Lines {lineNo, code, message, id?}. */
  errorsOut?: string;
  maxDocBytes?: number;
  maxJobBytes?: number;
  /** Accept a Redis whose maxmemory-policy may evict jobs (a warning instead of E_REDIS_CONFIG). */
  allowEviction?: boolean;
  redisWaitMs?: number;
  backpressurePollMs?: number;
  onProgress?: (p: EnqueueProgress) => void;
  /**
   * Incremental runs: skip documents whose stored result came from the same text and model
   * setup (see src/shared/fingerprints.ts); changed documents replace their old job and result.
   * Needs docsPerJob 1.
   */
  skipUnchanged?: boolean;
  /** Finished documents' markers expire after this many days (0 = kept); a re-enqueue after that recomputes. */
  keepDoneDays?: number;
  /** Shown by `status` next to the run id (the input file name). */
  inputLabel?: string;
  /**
   * Ids whose first line is remembered across chunks to name it when the id repeats (default
   * 100,000, ~10 MB); older repeats are still caught, by their job's timestamp, as "an earlier line".
   */
  rememberedIdLines?: number;
  /** Stops reading; the documents already read are still sent, the summary says `aborted`. */
  signal?: AbortSignal;
  logger?: Logger;
}

export interface EnqueueFileOptions extends EnqueueOptions, ReaderOptions {}

/** run-YYYYMMDD-HHMMSS-xxxx, UTC, sortable, unique enough for a human to tell runs apart. */
export function generateRunId(now = new Date()): string {
  const t = now.toISOString(); // 2024-05-01T12:34:56.789Z
  return `run-${t.slice(0, 10).replace(/-/g, '')}-${t.slice(11, 19).replace(/:/g, '')}-${randomBytes(2).toString('hex')}`;
}

/** Ids whose first line is remembered across chunks. */
const RECENT_ID_LINES = 100_000;

/** The state of one `enqueue()` call. */
interface Pass {
  counts: EnqueueCounts;
  chunk: Chunk;
  backpressure: Backpressure;
  progress: (waitingJobs?: number) => void;
  already: AlreadyQueuedContext;
}

/**
 * One producer connection set: a BullMQ Queue (addBulk) and one ioredis client (EXISTS and
 * nothing else). `open()` once, `enqueue()` once or more, `close()` (idempotent) always.
 */
export class DocumentProducer {
  readonly runId: string;
  readonly #o: Required<Omit<EnqueueOptions, 'errorsOut' | 'onProgress' | 'signal' | 'runId' | 'inputLabel' | 'rememberedIdLines'>> &
    Pick<EnqueueOptions, 'errorsOut' | 'onProgress' | 'signal' | 'inputLabel'>;
  readonly #log: Logger;
  #queue: Queue<DocJobData> | undefined;
  #client: RedisClient | undefined;
  #errors: ErrorsFile | undefined;
  #results: Queue | undefined;
  /** The workers' setup fingerprint (skipUnchanged); undefined until a worker has started. */
  #setupFp: string | undefined;
  #closing: Promise<void> | undefined;
  #oom: OomReporter;
  #oomRefusals = 0;
  #registerPending = false;
  readonly #rememberedIdLines: number;

  constructor(opts: EnqueueOptions = {}) {
    this.#rememberedIdLines = opts.rememberedIdLines ?? RECENT_ID_LINES;
    const d = ENQUEUE_DEFAULTS;
    this.runId = opts.runId ?? generateRunId();
    if (opts.jobOptions && 'jobId' in opts.jobOptions) {
      throw E.CONFIG('jobOptions.jobId cannot be set', { hint: 'job ids are derived from document ids' });
    }
    this.#o = {
      redisUrl: opts.redisUrl ?? DEFAULT_REDIS_URL,
      queue: opts.queue ?? d.queue,
      prefix: opts.prefix ?? d.prefix,
      chunkSize: opts.chunkSize ?? d.chunkSize,
      maxWaiting: opts.maxWaiting ?? d.maxWaiting,
      docsPerJob: opts.docsPerJob ?? d.docsPerJob,
      jobOptions: { ...DOC_JOB_OPTIONS, ...opts.jobOptions },
      strict: opts.strict ?? false,
      maxDocBytes: opts.maxDocBytes ?? d.maxDocBytes,
      maxJobBytes: opts.maxJobBytes ?? d.maxJobBytes,
      allowEviction: opts.allowEviction ?? false,
      redisWaitMs: opts.redisWaitMs ?? d.redisWaitMs,
      backpressurePollMs: opts.backpressurePollMs ?? d.backpressurePollMs,
      logger: opts.logger ?? rootLogger(),
      errorsOut: opts.errorsOut,
      skipUnchanged: opts.skipUnchanged ?? false,
      keepDoneDays: opts.keepDoneDays ?? 0,
      inputLabel: opts.inputLabel,
      onProgress: opts.onProgress,
      signal: opts.signal,
    };
    for (const k of ['chunkSize', 'docsPerJob', 'maxDocBytes', 'maxJobBytes'] as const) {
      if (!Number.isInteger(this.#o[k]) || this.#o[k] < 1) throw E.CONFIG(`${k} must be a positive integer, got ${this.#o[k]}`);
    }
    if (!Number.isInteger(this.#o.maxWaiting) || this.#o.maxWaiting < 0) {
      throw E.CONFIG(`maxWaiting must be an integer >= 0, got ${this.#o.maxWaiting}`);
    }
    if (!Number.isInteger(this.#o.keepDoneDays) || this.#o.keepDoneDays < 0) {
      throw E.CONFIG(`keepDoneDays must be an integer >= 0, got ${this.#o.keepDoneDays}`);
    }
    if (this.#o.skipUnchanged && this.#o.docsPerJob !== 1) {
      throw E.CONFIG('--skip-unchanged works with one document per job', { hint: 'drop --docs-per-job, or --skip-unchanged' });
    }
    this.#log = this.#o.logger.child({ component: 'producer', queue: this.#o.queue, runId: this.runId });
    this.#oom = new OomReporter('producer', this.#log, () => this.#client);
  }

  /** A write that a full Redis may refuse: waited out (E_REDIS_OOM), counted, retried. */
  #write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retryOnOom(this.#oom, what, () => this.#surviveRestart(what, async () => {
      try {
        return await fn();
      } catch (err) {
        if (isOomError(err)) this.#oomRefusals++;
        throw err;
      }
    }), { signal: this.#o.signal });
  }

  /** A step safe to run again, run again when a Redis restart aborted it in flight (isConnectionDrop). */
  #surviveRestart<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retryOnConnectionDrop(what, fn, { log: this.#log, waitMs: this.#o.redisWaitMs, signal: this.#o.signal });
  }

  /** Waits for Redis, refuses an evicting one, opens the queue and the errors file. */
  async open(): Promise<void> {
    const o = this.#o;
    await waitForRedis(o.redisUrl, o.redisWaitMs);
    await checkEvictionPolicy(o.redisUrl, o.allowEviction);
    const client = connect(o.redisUrl);
    client.on('error', (err) => this.#log.warn({ redis: redactRedisUrl(o.redisUrl), reason: err.message }, 'Redis connection error'));
    this.#client = client;
    await client.connect();
    const queue = new Queue<DocJobData>(o.queue, { connection: bullConnection(o.redisUrl), ...queueOptions(o.prefix) });
    this.#queue = queue;
    queue.on('error', (err) => this.#log.warn({ reason: err.message }, 'queue connection error'));
    await queue.waitUntilReady();
    if (o.errorsOut) this.#errors = await ErrorsFile.open(o.errorsOut);
    try {
      await registerRun(client, o.prefix, o.queue, this.runId, o.inputLabel);
    } catch (err) {
      // A full Redis: the run is registered with its first documents (enqueue waits for room then).
      if (!isOomError(err)) throw err;
      this.#oomRefusals++;
      await this.#oom.refused('registering the run');
      this.#registerPending = true;
    }
    if (o.skipUnchanged) {
      this.#setupFp = (await client.get(setupKey(o.prefix, o.queue))) ?? undefined;
      if (!this.#setupFp) this.#log.warn('no worker has served this queue yet: nothing can be skipped; fingerprints are stored as documents are scored');
      this.#results = new Queue(resultsQueueName(o.queue), { connection: bullConnection(o.redisUrl), ...queueOptions(o.prefix) });
    }
  }

  /**
   * Enqueues every document of `items`. Malformed items are counted, written to errorsOut,
   * and skipped (or abort the run with `strict`).
   */
  async enqueue(items: AsyncIterable<ReadItem> | Iterable<ReadItem>, readerStats?: Readonly<ReaderStats>, totalBytes?: number): Promise<EnqueueSummary> {
    const o = this.#o;
    const queue = this.#queue;
    const client = this.#client;
    if (!queue || !client) throw new Error('DocumentProducer.enqueue() called before open()');
    const started = performance.now();
    const counts = newCounts();
    const packer = new Packer({ runId: this.runId, docsPerJob: o.docsPerJob, maxJobBytes: o.maxJobBytes, keepDoneDays: o.keepDoneDays || undefined });
    const limits = { maxDocBytes: o.maxDocBytes, maxJobBytes: o.maxJobBytes, jobOverhead: packer.overhead };
    const pass: Pass = {
      counts,
      chunk: new Chunk(o.chunkSize, this.#rememberedIdLines),
      backpressure: new Backpressure({ queue, maxWaiting: o.maxWaiting, pollMs: o.backpressurePollMs, log: this.#log, signal: o.signal }),
      progress: (waitingJobs?: number) => o.onProgress?.(progressOf(counts, readerStats, totalBytes, waitingJobs)),
      already: {
        client, queue, results: this.#results, prefix: o.prefix, queueName: o.queue, skipUnchanged: o.skipUnchanged,
        setupFp: this.#setupFp, startedAtMs: Date.now(), onRepeat: (j) => this.#repeat(counts, j, undefined),
      },
    };

    this.#log.info({ redis: redactRedisUrl(o.redisUrl), docsPerJob: o.docsPerJob }, 'enqueue started');
    let aborted = false;
    for await (const item of items) {
      if (o.signal?.aborted) {
        aborted = true;
        break;
      }
      counts.read += 1;
      if (item.error) {
        await this.#reject(counts, { lineNo: item.lineNo, ...item.error });
        continue;
      }
      const checked = checkDocument(item.lineNo, item.doc, limits);
      if ('rejected' in checked) await this.#reject(counts, checked.rejected);
      else for (const job of packer.add(item.doc, checked.docBytes, item.lineNo)) await this.#push(pass, job);
    }
    const last = packer.close();
    if (last) await this.#push(pass, last);
    await this.#flush(pass);
    await this.#finishRun(counts);
    if (o.signal?.aborted) aborted = true;
    const summary = summarize({
      runId: this.runId, queue: o.queue, counts, skippedBlank: readerStats?.skippedBlank ?? 0,
      elapsedMs: performance.now() - started, redisOomRefusals: this.#oomRefusals, aborted, errorsOut: o.errorsOut,
    });
    const { runId: _r, queue: _q, ...rest } = summary;
    this.#log.info(rest, aborted ? 'enqueue aborted' : 'enqueue finished');
    return summary;
  }

  /** A malformed or refused line: counted, listed in errorsOut, and the end of the run with `strict`. */
  async #reject(counts: EnqueueCounts, line: RejectedLine): Promise<void> {
    counts.rejected += 1;
    await this.#errors?.write(line);
    if (this.#o.strict) {
      throw new RobertaBatchError(line.code, line.message, {
        hint: 'fix that line, or run without --strict to skip malformed lines (and --errors-out FILE to list them)',
        context: { lineNo: line.lineNo, ...(line.id !== undefined ? { id: line.id } : {}) },
      });
    }
  }

  /** A job whose id repeats one read earlier from this input: counted and listed with both lines. */
  async #repeat(counts: EnqueueCounts, job: PendingJob, firstLine: number | undefined): Promise<void> {
    counts.duplicates += 1;
    await this.#errors?.write(repeatedIdLine(job, firstLine));
  }

  async #push(pass: Pass, job: PendingJob): Promise<void> {
    const firstLine = pass.chunk.add(job);
    if (firstLine !== undefined) {
      pass.counts.alreadyQueued += job.data.docs.length;
      await this.#repeat(pass.counts, job, firstLine);
      return;
    }
    if (pass.chunk.full) await this.#flush(pass);
  }

  /** Sends the chunk: waits for room, leaves out what is already queued or finished, adds the rest. */
  async #flush(pass: Pass): Promise<void> {
    const jobs = pass.chunk.take();
    if (jobs.length === 0) return;
    await pass.backpressure.waitForRoom(pass.progress);
    const fresh = await selectFresh(jobs, { ...pass.already, read: (step) => this.#surviveRestart('reading what is already queued', step) }, pass.counts);
    if (fresh.length > 0 && !(await this.#add(fresh, pass.counts))) return;
    pass.progress();
  }

  /** addBulk and the run's counters; false when the run was stopped while Redis refused the jobs. */
  async #add(fresh: PendingJob[], counts: EnqueueCounts): Promise<boolean> {
    const o = this.#o;
    const client = this.#client!;
    const queue = this.#queue!;
    const added = fresh.reduce((a, j) => a + j.data.docs.length, 0);
    try {
      await this.#write('adding jobs', () => queue.addBulk(fresh.map((j) => ({ name: DOC_JOB_NAME, data: j.data, opts: { ...o.jobOptions, jobId: j.jobId } }))));
    } catch (err) {
      // Stopped while Redis refused them: say so rather than count them as enqueued.
      if (isOomError(err) && o.signal?.aborted) {
        counts.notEnqueued += added;
        return false;
      }
      throw err;
    }
    counts.enqueued += added;
    counts.jobs += fresh.length;
    if (this.#registerPending) {
      await this.#write('registering the run', () => registerRun(client, o.prefix, o.queue, this.runId, o.inputLabel));
      this.#registerPending = false;
    }
    await this.#write('run counters', () => addRunCounts(client, o.prefix, o.queue, this.runId, { enqueued: added }));
    return true;
  }

  /** The run's rejected count and its "enqueue finished" mark, for `status`. */
  async #finishRun(counts: EnqueueCounts): Promise<void> {
    const o = this.#o;
    const client = this.#client!;
    const finish = async () => {
      await addRunCounts(client, o.prefix, o.queue, this.runId, { rejected: counts.rejected });
      await markEnqueueFinished(client, o.prefix, o.queue, this.runId);
    };
    // Aborted while Redis is full: the counters are not worth waiting for.
    await this.#write('run counters', finish).catch((err) => {
      if (!(isOomError(err) && o.signal?.aborted)) throw err;
    });
  }

  /** Reverse order of open(): errors file, queue, client. Idempotent: every caller gets the same promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const steps: Array<[string, () => Promise<unknown> | undefined]> = [
        ['errors file', () => this.#errors?.close()],
        ['queue', () => this.#queue?.close()],
        ['results queue', () => this.#results?.close()],
        ['redis', () => this.#client?.quit().catch(() => this.#client?.disconnect())],
      ];
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (err) {
          this.#log.warn({ what, reason: (err as Error).message }, 'close failed');
        }
      }
    })();
    return this.#closing;
  }
}

async function* asReadItems(source: AsyncIterable<DocumentInput> | Iterable<DocumentInput>): AsyncGenerator<ReadItem> {
  let n = 0;
  for await (const doc of source) {
    n += 1;
    yield { lineNo: n, doc };
  }
}

/**
 * Enqueues documents from any (async) iterable; "line numbers" in errors are 1-based positions.
 * Opens and closes its own connections.
 */
export async function enqueueDocuments(
  source: AsyncIterable<DocumentInput> | Iterable<DocumentInput>,
  opts: EnqueueOptions = {},
): Promise<EnqueueSummary> {
  const producer = new DocumentProducer(opts);
  try {
    await producer.open();
    return await producer.enqueue(asReadItems(source));
  } finally {
    await producer.close();
  }
}

/** Reads `input` (a path or `-` for stdin; format by option or extension) and enqueues it. */
export async function enqueueFile(input: string, opts: EnqueueFileOptions = {}): Promise<EnqueueSummary> {
  // 3 × the job limit: JSON escapes (\u00e9 is 6 bytes for 2) may shrink a line that much, so no
  // line whose job could fit is dropped, and a 10 GB line still costs at most this much memory.
  const maxLineBytes = opts.maxLineBytes ?? 3 * (opts.maxJobBytes ?? ENQUEUE_DEFAULTS.maxJobBytes);
  const reader = readFile(input, { ...opts, maxLineBytes });
  const producer = new DocumentProducer(opts);
  try {
    await producer.open();
    return await producer.enqueue(reader, reader.stats, reader.sizeBytes);
  } finally {
    reader.destroy();
    await producer.close();
  }
}
