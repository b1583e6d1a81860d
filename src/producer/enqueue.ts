/**
 * The producer: documents → BullMQ jobs, in chunks of `addBulk`, with backpressure.
 *
 * - Job id = document id (escaped where BullMQ forbids it, see job-id.ts), so enqueueing the
 *   same document again is a no-op. With `docsPerJob > 1` the job id is derived from the packed
 *   ids (`pack-<sha1>`): re-running the same file with the same packing is a no-op, dedup is per pack.
 * - `alreadyQueued`: before each addBulk, one pipeline (one round trip per chunk) asks which job
 *   ids still exist (EXISTS: waiting, running or failed) and then which documents are finished
 *   (their marker, src/shared/done-markers.ts: a completed job is removed, its documents keep a
 *   marker). Neither is sent again; BullMQ's own dedup still covers a producer racing us. With
 *   packs, finished documents are dropped from their pack (the rest is packed under a new id).
 *   A document whose marker expired (--keep-done-days) or was removed is enqueued again.
 * - A full Redis (E_REDIS_OOM) is waited out: each refused write is retried until accepted;
 *   documents that could not be added before an abort are counted in `notEnqueued`.
 * - Documents whose text is over `maxDocBytes` (1 MiB) are rejected here, with their line
 *   number, rather than passed to a worker that would fail them: the user gets the line to fix
 *   and Redis never holds the text. Jobs over `maxJobBytes` (2 MiB) are rejected likewise
 *   (E_INPUT_TOO_LARGE); a pack is closed early rather than grown over the limit.
 * - `strict`: the first malformed line aborts the run (E_INPUT_*, with its line number); the
 *   chunk being collected is dropped, chunks sent before stay (a re-run skips them).
 */
import type { JobsOptions } from 'bullmq';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { RobertaBatchError } from '../shared/errors.js';
import { logger as rootLogger, type Logger } from '../shared/logger.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, DOC_JOB_OPTIONS, queueOptions, resultsQueueName } from '../shared/queues.js';
import { setupKey, textFingerprint } from '../shared/fingerprints.js';
import { deleteMarkers, okMarker, readMarkers } from '../shared/done-markers.js';
import { isOomError, OomReporter, retryOnOom } from '../shared/redis-oom.js';
import { addRunCounts, markEnqueueFinished, registerRun } from '../shared/run-stats.js';
import { bullConnection, checkEvictionPolicy, connect, DEFAULT_REDIS_URL, redactRedisUrl, waitForRedis, type RedisClient } from '../shared/redis.js';
import type { DocJobData, DocumentInput } from '../shared/types.js';
import type { ReadItem, ReaderStats } from './document.js';
import { ErrorsFile, type RejectedLine } from './errors-file.js';
import { INPUT, PACKED_DOCS_PER_JOB, PRODUCER, REDIS_WAIT_MS } from '../shared/flags.js';
import { invalidIdReason, jobIdForDocument, jobIdForPack } from './job-id.js';
import { readFile, type ReaderOptions } from './readers.js';

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

export interface EnqueueProgress {
  read: number;
  enqueued: number;
  alreadyQueued: number;
  rejected: number;
  /** Input bytes read so far and the input size, when reading a file. */
  bytesRead?: number;
  totalBytes?: number;
  /** Set while paused because the queue holds more than `maxWaiting` waiting jobs. */
  waitingJobs?: number;
}

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

export interface EnqueueSummary {
  runId: string;
  queue: string;
  /** Documents and malformed lines read (blank lines not included). */
  read: number;
  /** Documents in jobs added by this run. */
  enqueued: number;
  /** Documents whose job (or pack) already existed, or repeated within the input. */
  alreadyQueued: number;
  /** skipUnchanged: documents skipped because their stored result is current. */
  skippedUnchanged: number;
  /** skipUnchanged: documents whose text or model setup changed, re-enqueued over their old job. */
  rescored: number;
  /** Malformed or rejected lines (see errorsOut). */
  rejected: number;
  /** Documents read but not added: the run was stopped while Redis refused them (E_REDIS_OOM). */
  notEnqueued: number;
  /** Writes Redis refused for lack of memory (each retried until accepted). */
  redisOomRefusals: number;
  /**
   * Documents (packs) whose id repeats one read earlier from this input; counted in
   * `alreadyQueued` too, and each listed in errorsOut (E_INPUT_DUPLICATE) with both line numbers.
   */
  duplicates: number;
  skippedBlank: number;
  /** Jobs added (= enqueued with docsPerJob 1). */
  jobs: number;
  elapsedMs: number;
  /** `read` per second of elapsed time. */
  docsPerSecond: number;
  aborted: boolean;
  errorsOut?: string;
}

/** run-YYYYMMDD-HHMMSS-xxxx, UTC, sortable, unique enough for a human to tell runs apart. */
export function generateRunId(now = new Date()): string {
  const t = now.toISOString(); // 2024-05-01T12:34:56.789Z
  return `run-${t.slice(0, 10).replace(/-/g, '')}-${t.slice(11, 19).replace(/:/g, '')}-${randomBytes(2).toString('hex')}`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

interface PendingJob {
  jobId: string;
  data: DocJobData;
  /** Input line of the (first) document. */
  lineNo: number;
}

const PAUSE_LOG_EVERY_MS = 30_000;

/** Ids whose first line is remembered across chunks. */
const RECENT_ID_LINES = 100_000;

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

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
      throw new RobertaBatchError('E_CONFIG', 'jobOptions.jobId cannot be set', { hint: 'job ids are derived from document ids' });
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
      if (!Number.isInteger(this.#o[k]) || this.#o[k] < 1) throw new RobertaBatchError('E_CONFIG', `${k} must be a positive integer, got ${this.#o[k]}`);
    }
    if (!Number.isInteger(this.#o.maxWaiting) || this.#o.maxWaiting < 0) {
      throw new RobertaBatchError('E_CONFIG', `maxWaiting must be an integer >= 0, got ${this.#o.maxWaiting}`);
    }
    if (!Number.isInteger(this.#o.keepDoneDays) || this.#o.keepDoneDays < 0) {
      throw new RobertaBatchError('E_CONFIG', `keepDoneDays must be an integer >= 0, got ${this.#o.keepDoneDays}`);
    }
    if (this.#o.skipUnchanged && this.#o.docsPerJob !== 1) {
      throw new RobertaBatchError('E_CONFIG', '--skip-unchanged works with one document per job', { hint: 'drop --docs-per-job, or --skip-unchanged' });
    }
    this.#log = this.#o.logger.child({ component: 'producer', queue: this.#o.queue, runId: this.runId });
    this.#oom = new OomReporter('producer', this.#log, () => this.#client);
  }

  /** A write that a full Redis may refuse: waited out (E_REDIS_OOM), counted, retried. */
  #write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retryOnOom(this.#oom, what, async () => {
      try {
        return await fn();
      } catch (err) {
        if (isOomError(err)) this.#oomRefusals++;
        throw err;
      }
    }, { signal: this.#o.signal });
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
    const s = { read: 0, enqueued: 0, alreadyQueued: 0, skippedUnchanged: 0, rescored: 0, rejected: 0, notEnqueued: 0, duplicates: 0, jobs: 0 };
    // A job whose stored timestamp is not older than this was added by this enqueue (BullMQ
    // stamps jobs with the producer's clock), so an existing id is a repeat within the input
    // rather than a document left by an earlier run.
    const startedAtMs = Date.now();
    /** First line of each job id sent in earlier chunks, kept only for the chunk being checked. */
    const duplicate = async (j: PendingJob, firstLine: number | undefined) => {
      s.duplicates += 1;
      const ids = j.data.docs.length === 1 ? `id "${j.data.docs[0].id}"` : `pack ${j.jobId}`;
      const first = firstLine !== undefined ? `line ${firstLine}` : 'an earlier line';
      await this.#errors?.write({ lineNo: j.lineNo, code: 'E_INPUT_DUPLICATE', message: `line ${j.lineNo}: ${ids} repeats the id of ${first}; only the first is scored`, ...(j.data.docs.length === 1 ? { id: j.data.docs[0].id } : {}) });
    };
    let aborted = false;
    let chunk: PendingJob[] = [];
    const keepDoneDays = o.keepDoneDays || undefined;
    const packOverhead = utf8Bytes(JSON.stringify({ v: 1, runId: this.runId, docs: [], keepDoneDays } satisfies DocJobData));
    let pack: { docs: DocumentInput[]; bytes: number; firstLine: number } | undefined;

    const progress = (waitingJobs?: number) => {
      if (!o.onProgress) return;
      const p: EnqueueProgress = { read: s.read, enqueued: s.enqueued, alreadyQueued: s.alreadyQueued, rejected: s.rejected };
      if (readerStats) p.bytesRead = readerStats.bytesRead;
      if (totalBytes !== undefined) p.totalBytes = totalBytes;
      if (waitingJobs !== undefined) p.waitingJobs = waitingJobs;
      o.onProgress(p);
    };

    const reject = async (line: RejectedLine) => {
      s.rejected += 1;
      await this.#errors?.write(line);
      if (o.strict) {
        throw new RobertaBatchError(line.code, line.message, {
          hint: 'fix that line, or run without --strict to skip malformed lines (and --errors-out FILE to list them)',
          context: { lineNo: line.lineNo, ...(line.id !== undefined ? { id: line.id } : {}) },
        });
      }
    };

    /** Last "pausing" log line (ms): under steady backpressure the producer pauses every chunk. */
    let lastPauseLog = -Infinity;
    const waitForRoom = async () => {
      for (;;) {
        const waiting = await queue.getWaitingCount();
        if (waiting <= o.maxWaiting || o.signal?.aborted) return;
        if (performance.now() - lastPauseLog > PAUSE_LOG_EVERY_MS) {
          lastPauseLog = performance.now();
          this.#log.info({ waiting, maxWaiting: o.maxWaiting }, 'queue is full (waiting > --max-waiting): pausing until workers drain it');
        }
        progress(waiting);
        await sleep(o.backpressurePollMs, o.signal);
      }
    };

    const flush = async () => {
      if (chunk.length === 0) return;
      const jobs = chunk;
      chunk = [];
      await waitForRoom();
      // Jobs before the markers: a job that completes in between is seen either still existing or
      // already marked (its markers are written before it is removed). The job hash's timestamp
      // (null: no such job) tells an existing job and when it was added, in one round trip.
      const pipeline = client.pipeline();
      for (const j of jobs) pipeline.hget(queue.toKey(j.jobId), 'timestamp');
      const exists = (await pipeline.exec()) ?? [];
      const docIds = jobs.flatMap((j) => j.data.docs.map((d) => d.id));
      const markers = await readMarkers(client, o.prefix, o.queue, docIds);
      let at = 0;
      const fresh: PendingJob[] = [];
      for (const [i, j] of jobs.entries()) {
        const [err, stamp] = exists[i] ?? [null, null];
        if (err) throw err;
        const marks = markers.slice(at, at + j.data.docs.length);
        at += j.data.docs.length;
        const n = stamp === null || stamp === undefined ? 0 : 1;
        if (n === 1 && Number(stamp) >= startedAtMs) {
          s.alreadyQueued += j.data.docs.length;
          await duplicate(j, undefined);
          continue;
        }
        if (o.skipUnchanged) {
          const text = j.data.docs[0].text;
          const mark = marks[0];
          if (this.#setupFp && typeof text === 'string' && mark?.status === 'ok' && mark.value === okMarker(this.#setupFp, textFingerprint(text))) {
            s.skippedUnchanged += 1;
            continue;
          }
          if (n === 1) {
            const state = await queue.getJobState(j.jobId);
            if (state !== 'completed' && state !== 'failed') {
              s.alreadyQueued += 1;
              continue;
            }
            // A finished job kept in Redis (a failure, or a job of an older version): the new job replaces it.
            await queue.remove(j.jobId);
            await this.#results!.remove(j.jobId);
          }
          if (n === 1 || mark) {
            // Changed text or model setup (or a failure to retry): the old marker and a result
            // not exported yet give way to the new job (the result job has the same id).
            await deleteMarkers(client, o.prefix, o.queue, [j.data.docs[0].id]);
            if (n !== 1) await this.#results!.remove(j.jobId);
            s.rescored += 1;
          }
          fresh.push(j);
          continue;
        }
        if (n === 1) {
          s.alreadyQueued += j.data.docs.length;
          continue;
        }
        const open = j.data.docs.filter((_, k) => !marks[k]);
        s.alreadyQueued += j.data.docs.length - open.length;
        if (open.length === j.data.docs.length) fresh.push(j);
        else if (open.length) fresh.push({ jobId: jobIdForPack(open.map((d) => d.id)), data: { ...j.data, docs: open }, lineNo: j.lineNo });
      }
      if (fresh.length > 0) {
        const added = fresh.reduce((a, j) => a + j.data.docs.length, 0);
        try {
          await this.#write('adding jobs', () => queue.addBulk(fresh.map((j) => ({ name: DOC_JOB_NAME, data: j.data, opts: { ...o.jobOptions, jobId: j.jobId } }))));
        } catch (err) {
          // Stopped while Redis refused them: say so rather than count them as enqueued.
          if (isOomError(err) && o.signal?.aborted) {
            s.notEnqueued += added;
            return;
          }
          throw err;
        }
        s.enqueued += added;
        s.jobs += fresh.length;
        if (this.#registerPending) {
          await this.#write('registering the run', () => registerRun(client, o.prefix, o.queue, this.runId, o.inputLabel));
          this.#registerPending = false;
        }
        await this.#write('run counters', () => addRunCounts(client, o.prefix, o.queue, this.runId, { enqueued: added }));
      }
      progress();
    };

    /** Ids of the chunk being collected (and of recent chunks), with their line: a repeat is counted and listed, not sent twice. */
    const inChunk = new Map<string, number>();
    const push = async (job: PendingJob) => {
      const firstLine = inChunk.get(job.jobId);
      if (firstLine !== undefined) {
        s.alreadyQueued += job.data.docs.length;
        await duplicate(job, firstLine);
        return;
      }
      inChunk.set(job.jobId, job.lineNo);
      chunk.push(job);
      if (chunk.length >= o.chunkSize) {
        // Lines of ids from earlier chunks are kept up to a bound (~10 MB) so most repeats name
        // their first line; beyond it the job's timestamp still catches them (an earlier line).
        if (inChunk.size > (this.#rememberedIdLines)) inChunk.clear();
        await flush();
      }
    };

    const closePack = async () => {
      if (!pack) return;
      const { docs, firstLine } = pack;
      pack = undefined;
      await push({ jobId: jobIdForPack(docs.map((d) => d.id)), data: { v: 1, runId: this.runId, docs, keepDoneDays }, lineNo: firstLine });
    };

    const accept = async (lineNo: number, doc: DocumentInput) => {
      const bad = typeof doc.id !== 'string' ? 'the id is not a string' : invalidIdReason(doc.id);
      if (bad) return reject({ lineNo, code: 'E_INPUT_INVALID', message: `line ${lineNo}: ${bad}` });
      if (typeof doc.text === 'string') {
        const textBytes = utf8Bytes(doc.text);
        if (textBytes > o.maxDocBytes) {
          return reject({ lineNo, code: 'E_INPUT_TOO_LARGE', message: `line ${lineNo}: text is ${textBytes} bytes, over the ${o.maxDocBytes}-byte document limit (--max-doc-bytes)`, id: doc.id });
        }
      }
      const docBytes = utf8Bytes(JSON.stringify(doc));
      if (packOverhead + docBytes > o.maxJobBytes) {
        return reject({ lineNo, code: 'E_INPUT_TOO_LARGE', message: `line ${lineNo}: job payload is ${packOverhead + docBytes} bytes, over the ${o.maxJobBytes}-byte job limit (--max-job-bytes)`, id: doc.id });
      }
      if (o.docsPerJob === 1) {
        return push({ jobId: jobIdForDocument(doc.id), data: { v: 1, runId: this.runId, docs: [doc], keepDoneDays }, lineNo });
      }
      // Packs: `,` between documents; close the pack early rather than grow it over the limit.
      if (pack && pack.bytes + 1 + docBytes > o.maxJobBytes) await closePack();
      if (!pack) pack = { docs: [doc], bytes: packOverhead + docBytes, firstLine: lineNo };
      else {
        pack.docs.push(doc);
        pack.bytes += 1 + docBytes;
      }
      if (pack.docs.length >= o.docsPerJob) await closePack();
    };

    this.#log.info({ redis: redactRedisUrl(o.redisUrl), docsPerJob: o.docsPerJob }, 'enqueue started');
    for await (const item of items) {
      if (o.signal?.aborted) {
        aborted = true;
        break;
      }
      s.read += 1;
      if (item.error) await reject({ lineNo: item.lineNo, ...item.error });
      else await accept(item.lineNo, item.doc);
    }
    await closePack();
    await flush();
    const finish = async () => {
      await addRunCounts(client, o.prefix, o.queue, this.runId, { rejected: s.rejected });
      await markEnqueueFinished(client, o.prefix, o.queue, this.runId);
    };
    // Aborted while Redis is full: the counters are not worth waiting for.
    await this.#write('run counters', finish).catch((err) => {
      if (!(isOomError(err) && o.signal?.aborted)) throw err;
    });
    if (o.signal?.aborted) aborted = true;
    const elapsedMs = performance.now() - started;
    const summary: EnqueueSummary = {
      runId: this.runId,
      queue: o.queue,
      ...s,
      skippedBlank: readerStats?.skippedBlank ?? 0,
      elapsedMs: Math.round(elapsedMs),
      docsPerSecond: Math.round((s.read * 1000) / Math.max(1, elapsedMs)),
      redisOomRefusals: this.#oomRefusals,
      aborted,
    };
    if (o.errorsOut) summary.errorsOut = o.errorsOut;
    const { runId: _r, queue: _q, ...counts } = summary;
    this.#log.info(counts, aborted ? 'enqueue aborted' : 'enqueue finished');
    return summary;
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
