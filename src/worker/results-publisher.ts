/**
 * Publishes result records to the results queue, coalescing the records of concurrent jobs
 * into one addBulk (one Redis round trip per ~flushMs instead of one per document). A job
 * completes only after its records are in Redis, so a crash never loses a published result,
 * and since the result's job id is the document id, publishing twice stores it once.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { jobIdForDocument } from '../producer/job-id.js';
import { RESULT_JOB_OPTIONS } from '../shared/queues.js';
import type { ResultRecord } from '../shared/types.js';

interface PendingPublish {
  records: ResultRecord[];
  resolve(): void;
  reject(e: unknown): void;
}

export class ResultsPublisher {
  readonly queue: Queue;
  #pending: PendingPublish[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushMs: number;
  #maxRecords: number;
  #inFlight = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(name: string, connection: ConnectionOptions, prefix: string, opts: { flushMs?: number; maxRecords?: number } = {}) {
    this.queue = new Queue(name, { connection, prefix });
    this.#flushMs = opts.flushMs ?? 5;
    this.#maxRecords = opts.maxRecords ?? 500;
  }

  publish(records: ResultRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ records, resolve, reject });
      const n = this.#pending.reduce((a, p) => a + p.records.length, 0);
      if (n >= this.#maxRecords) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#flushMs);
    });
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0);
    if (!batch.length) return;
    const jobs = batch.flatMap((p) =>
      p.records.map((r) => ({ name: r.status, data: r, opts: { ...RESULT_JOB_OPTIONS, jobId: jobIdForDocument(r.id) } })),
    );
    const done = this.queue.addBulk(jobs).then(
      () => batch.forEach((p) => p.resolve()),
      (err) => batch.forEach((p) => p.reject(err)),
    );
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }

  /** Publishes what is pending, then closes the queue connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#flush();
      await Promise.allSettled([...this.#inFlight]);
      await this.queue.close();
    })();
    return this.#closing;
  }
}
