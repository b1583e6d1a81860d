/**
 * Drains the results queue into JSON Lines files: successes to `out`, failures to
 * `errorsOut` (default `<out>.errors.jsonl`). Each document id is written exactly once, also
 * across exporter restarts: the ids already in the files are read back at start, and a result
 * job is marked completed only after its line has been handed to the operating system.
 *
 * Successes can go to another `RecordSink` instead (the Parquet writer). A sink that holds
 * records in memory before they are durable (a Parquet file is readable only once its footer is
 * written) sets `replaysCompleted`: at start, results that Redis already marked completed but
 * whose ids are not in the outputs (a crashed export's) are written again. This works because
 * result jobs are kept after completion (RESULT_JOB_OPTIONS.removeOnComplete = false).
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Queue, Worker as BullWorker, type ConnectionOptions } from 'bullmq';
import { codeOfReason } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { documentIdFromJobId } from '../producer/job-id.js';
import { resultsQueueName } from '../shared/queues.js';
import { bullConnection } from '../shared/redis.js';
import type { FailedRecord, OkRecord, ResultRecord } from '../shared/types.js';

/** Where successful records go when they do not go to the JSON Lines `out` file. */
export interface RecordSink {
  /** Adds the ids already in the output to `seen` (exactly once across restarts). */
  open(seen: Set<string>): Promise<void>;
  /** Resolves once the record may be acknowledged in Redis. */
  write(rec: OkRecord): Promise<void>;
  /** Completes the output (for Parquet: last row group, footer, rename into place). Idempotent. */
  close(): Promise<void>;
  /** Records acknowledged by write() are lost if the process dies before close(): replay them at start. */
  readonly replaysCompleted: boolean;
}

export interface ExportOptions {
  redisUrl: string;
  queue: string;
  prefix: string;
  resultsQueue?: string;
  out: string;
  errorsOut?: string;
  /** Keep running and export new results as they come (default: stop once drained). */
  follow?: boolean;
  /** Successful records go here instead of the JSON Lines `out` (failures still go to `errorsOut`). */
  sink?: RecordSink;
}

export interface ExportCounts {
  ok: number;
  failed: number;
  duplicatesSkipped: number;
}

export function errorsPathFor(out: string): string {
  return out.replace(/\.(jsonl|parquet)$/, '') + '.errors.jsonl';
}

async function readIds(file: string, into: Set<string>): Promise<void> {
  if (!existsSync(file)) return;
  const rl = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      const id = (JSON.parse(line) as { id?: unknown }).id;
      if (typeof id === 'string') into.add(id);
    } catch {
      // A torn last line from a crash mid-write: the record is re-exported from Redis.
    }
  }
}

/**
 * Appends lines to a stream, one write per event-loop turn for all lines of that turn: with
 * 256 result jobs in flight, a write (and its callback) per line cost 12% of the exporter's
 * CPU in the queue-path benchmark. Each caller's promise resolves once its line was handed to
 * the operating system, before its result job is marked completed.
 */
class LineWriter {
  #stream: WriteStream;
  #lines: string[] = [];
  #waiters: { resolve(): void; reject(e: unknown): void }[] = [];
  #scheduled = false;

  constructor(stream: WriteStream) {
    this.#stream = stream;
  }

  get stream(): WriteStream {
    return this.#stream;
  }

  write(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#lines.push(line);
      this.#waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const text = this.#lines.join('');
    const waiters = this.#waiters;
    this.#lines = [];
    this.#waiters = [];
    this.#stream.write(text, (err) => {
      for (const w of waiters) (err ? w.reject(err) : w.resolve());
    });
  }
}

export class ResultsExporter {
  readonly counts: ExportCounts = { ok: 0, failed: 0, duplicatesSkipped: 0 };
  readonly seen = new Set<string>();
  /** Called for every record written (not for skipped duplicates). */
  onRecord: ((rec: ResultRecord) => void) | undefined;
  #opts: ExportOptions;
  #connection: ConnectionOptions;
  #worker: BullWorker<ResultRecord> | undefined;
  #okStream: LineWriter | undefined;
  #errStream: LineWriter | undefined;
  #closing: Promise<void> | undefined;
  #listeners: (() => void)[] = [];

  constructor(opts: ExportOptions) {
    this.#opts = opts;
    this.#connection = bullConnection(opts.redisUrl);
  }

  get errorsOut(): string {
    return this.#opts.errorsOut ?? errorsPathFor(this.#opts.out);
  }

  get exported(): number {
    return this.counts.ok + this.counts.failed;
  }

  async start(): Promise<void> {
    mkdirSync(path.dirname(path.resolve(this.#opts.out)), { recursive: true });
    const sink = this.#opts.sink;
    if (sink) await sink.open(this.seen);
    else await readIds(this.#opts.out, this.seen);
    await readIds(this.errorsOut, this.seen);
    if (!sink) this.#okStream = new LineWriter(createWriteStream(this.#opts.out, { flags: 'a' }));
    this.#errStream = new LineWriter(createWriteStream(this.errorsOut, { flags: 'a' }));
    const name = resultsQueueName(this.#opts.queue, this.#opts.resultsQueue);
    if (sink?.replaysCompleted) await this.#replayCompleted(name);
    this.#worker = new BullWorker<ResultRecord>(name, async (job) => this.#write(job.data), {
      connection: this.#connection,
      prefix: this.#opts.prefix,
      concurrency: 256,
      // Writing a line takes microseconds; short locks make a crashed exporter's jobs come back fast.
      lockDuration: 30_000,
    });
    this.#worker.on('error', (err) => logger().warn({ reason: err.message }, 'results exporter: Redis error (reconnecting)'));
  }

  async #write(rec: ResultRecord): Promise<void> {
    if (this.seen.has(rec.id)) {
      this.counts.duplicatesSkipped++;
      return;
    }
    this.seen.add(rec.id);
    if (rec.status === 'ok') {
      if (this.#opts.sink) await this.#opts.sink.write(rec);
      else await this.#okStream!.write(`${JSON.stringify(rec)}\n`);
      this.counts.ok++;
    } else {
      await this.#errStream!.write(`${JSON.stringify(rec)}\n`);
      this.counts.failed++;
    }
    this.onRecord?.(rec);
    for (const l of this.#listeners) l();
  }

  /**
   * Writes the completed results whose ids are not in the outputs. Ids are read 10,000 at a
   * time (ZRANGE on the completed set, ~0.5 MB each) and only the missing jobs are fetched, so
   * a restart over a million exported results costs one pass over their ids, not their data.
   */
  async #replayCompleted(name: string): Promise<void> {
    const q = new Queue<ResultRecord>(name, { connection: this.#connection, prefix: this.#opts.prefix });
    let replayed = 0;
    try {
      for (let start = 0; ; start += 10_000) {
        const ids = await q.getRanges(['completed'], start, start + 9_999, true);
        const missing = ids.filter((jobId) => !this.seen.has(documentIdFromJobId(jobId)));
        for (let i = 0; i < missing.length; i += 100) {
          const jobs = await Promise.all(missing.slice(i, i + 100).map((id) => q.getJob(id)));
          for (const job of jobs) {
            if (job?.data && !this.seen.has(job.data.id)) {
              await this.#write(job.data);
              replayed++;
            }
          }
        }
        if (ids.length < 10_000) break;
      }
    } finally {
      await q.close();
    }
    if (replayed) logger().info({ replayed }, 'results exporter: re-exported completed results missing from the output');
  }

  /** Writes a failure for a document that never reached the results queue (e.g. stalled out). */
  async recordOrphanFailure(rec: FailedRecord): Promise<boolean> {
    if (this.seen.has(rec.id)) return false;
    await this.#write(rec);
    return true;
  }

  /**
   * Documents whose job failed in the main queue without a record in the results queue
   * (BullMQ gave up on a job that stalled more than maxStalledCount times): recorded too, so
   * that every document ends with a result or a reason.
   */
  async recordFailedJobsWithoutResult(): Promise<number> {
    const q = this.#queue(this.#opts.queue);
    let n = 0;
    try {
      for (let start = 0; ; start += 1000) {
        const jobs = await q.getFailed(start, start + 999);
        if (!jobs.length) break;
        for (const job of jobs) {
          const docs = (job.data as { docs?: { id?: unknown; meta?: Record<string, unknown> }[] })?.docs ?? [];
          for (const d of docs) {
            const id = typeof d.id === 'string' ? d.id : documentIdFromJobId(job.id ?? '');
            const added = await this.recordOrphanFailure({
              v: 1, status: 'failed', id, meta: d.meta, model: { name: 'unknown', sha256: 'unknown' }, task: 'sentiment',
              workerId: 'exporter', finishedAt: new Date().toISOString(),
              code: codeOfReason(job.failedReason) ?? 'E_INFERENCE', reason: job.failedReason ?? 'job failed',
            });
            if (added) n++;
          }
        }
        if (jobs.length < 1000) break;
      }
    } finally {
      await q.close();
    }
    return n;
  }

  /** A Queue handle whose connection errors are logged (unheard, BullMQ prints each retry with a stack trace). */
  #queue(name: string): Queue {
    const q = new Queue(name, { connection: this.#connection, prefix: this.#opts.prefix });
    q.on('error', (err) => logger().warn({ queue: name, reason: err.message }, 'results exporter: Redis error (reconnecting)'));
    return q;
  }

  /** Resolves once `n` distinct documents have been exported. */
  waitForCount(n: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.exported >= n) {
          this.#listeners = this.#listeners.filter((l) => l !== check);
          resolve();
        }
      };
      signal?.addEventListener('abort', () => reject(signal.reason));
      this.#listeners.push(check);
      check();
    });
  }

  /** Resolves when the results queue has nothing waiting or active. */
  async waitUntilDrained(pollMs = 200): Promise<void> {
    const q = this.#queue(resultsQueueName(this.#opts.queue, this.#opts.resultsQueue));
    try {
      for (;;) {
        const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        if (!c.waiting && !c.active && !c.delayed && !c.prioritized) return;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    } finally {
      await q.close();
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#worker?.close();
      await Promise.all([this.#okStream, this.#errStream].map((w) => (w ? new Promise<void>((r) => w.stream.end(() => r())) : undefined)));
      // After the worker: no write is in flight, so the sink's output holds every acknowledged record.
      await this.#opts.sink?.close();
    })();
    return this.#closing;
  }
}
