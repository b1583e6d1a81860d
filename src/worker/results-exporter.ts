/**
 * Drains the results queue into JSON Lines files: successes to `out`, failures to
 * `errorsOut` (default `<out>.errors.jsonl`). Each document id is written exactly once, also
 * across exporter restarts: the ids already in the files are read back at start, and a result
 * job is marked completed only after its line has been handed to the operating system.
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
import type { FailedRecord, ResultRecord } from '../shared/types.js';

export interface ExportOptions {
  redisUrl: string;
  queue: string;
  prefix: string;
  resultsQueue?: string;
  out: string;
  errorsOut?: string;
  /** Keep running and export new results as they come (default: stop once drained). */
  follow?: boolean;
}

export interface ExportCounts {
  ok: number;
  failed: number;
  duplicatesSkipped: number;
}

export function errorsPathFor(out: string): string {
  return out.replace(/\.jsonl$/, '') + '.errors.jsonl';
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

function writeLine(stream: WriteStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(line, (err) => (err ? reject(err) : resolve())));
}

export class ResultsExporter {
  readonly counts: ExportCounts = { ok: 0, failed: 0, duplicatesSkipped: 0 };
  readonly seen = new Set<string>();
  /** Called for every record written (not for skipped duplicates). */
  onRecord: ((rec: ResultRecord) => void) | undefined;
  #opts: ExportOptions;
  #connection: ConnectionOptions;
  #worker: BullWorker<ResultRecord> | undefined;
  #okStream: WriteStream | undefined;
  #errStream: WriteStream | undefined;
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
    await readIds(this.#opts.out, this.seen);
    await readIds(this.errorsOut, this.seen);
    this.#okStream = createWriteStream(this.#opts.out, { flags: 'a' });
    this.#errStream = createWriteStream(this.errorsOut, { flags: 'a' });
    const name = resultsQueueName(this.#opts.queue, this.#opts.resultsQueue);
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
    const line = `${JSON.stringify(rec)}\n`;
    if (rec.status === 'ok') {
      await writeLine(this.#okStream!, line);
      this.counts.ok++;
    } else {
      await writeLine(this.#errStream!, line);
      this.counts.failed++;
    }
    this.onRecord?.(rec);
    for (const l of this.#listeners) l();
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
    const q = new Queue(this.#opts.queue, { connection: this.#connection, prefix: this.#opts.prefix });
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
    const q = new Queue(resultsQueueName(this.#opts.queue, this.#opts.resultsQueue), { connection: this.#connection, prefix: this.#opts.prefix });
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
      await Promise.all([this.#okStream, this.#errStream].map((s) => (s ? new Promise<void>((r) => s.end(() => r())) : undefined)));
    })();
    return this.#closing;
  }
}
