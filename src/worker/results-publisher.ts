/**
 * Publishes results: one result job per document job (job id = the document job's id, data =
 * its records, see result-job.ts), then one marker per document (done-markers.ts), for the
 * jobs of ~flushMs together: one addBulk and one pipeline of HSETs per flush instead of a round
 * trip per job. A job completes only after both are in Redis, so a crash never loses a
 * published result, and since the result job id is the document job's id, publishing twice
 * stores it once. Results go first: a marker (which makes a re-enqueue a no-op) never exists
 * without its result, even if Redis loses the last writes in a failover.
 *
 * A full Redis (E_REDIS_OOM) is waited out: the same writes are retried until accepted.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { addMarkerWrites, type MarkerWrite } from '../shared/done-markers.js';
import { OomReporter, retryOnOom } from '../shared/redis-oom.js';
import type { Logger } from '../shared/logger.js';
import type { RedisClient } from '../shared/redis.js';
import { logger } from '../shared/logger.js';
import { queueOptions, RESULT_JOB_NAME, RESULT_JOB_OPTIONS } from '../shared/queues.js';
import { packResultJob } from '../shared/result-job.js';
import type { ResultRecord } from '../shared/types.js';

interface PendingPublish {
  jobId: string;
  records: ResultRecord[];
  markers: MarkerWrite[];
  resolve(): void;
  reject(e: unknown): void;
}

export interface PublisherOptions {
  flushMs?: number;
  /** Flush at once when this many records are pending. */
  maxRecords?: number;
  /** Where markers go: a client (not BullMQ's) and the document queue's name (markers are per document queue). */
  markers?: { client: RedisClient; queue: string };
  log?: Logger;
  oom?: OomReporter;
}

export class ResultsPublisher {
  readonly queue: Queue;
  readonly oom: OomReporter;
  #prefix: string;
  #markers: { client: RedisClient; queue: string } | undefined;
  #pending: PendingPublish[] = [];
  #pendingRecords = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushMs: number;
  #maxRecords: number;
  #inFlight = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(name: string, connection: ConnectionOptions, prefix: string, opts: PublisherOptions = {}) {
    this.queue = new Queue(name, { connection, ...queueOptions(prefix) });
    this.#prefix = prefix;
    this.#markers = opts.markers;
    this.#flushMs = opts.flushMs ?? 5;
    this.#maxRecords = opts.maxRecords ?? 500;
    this.oom = opts.oom ?? new OomReporter('worker', opts.log ?? logger(), () => this.#markers?.client);
  }

  /** Resolves once the job's results (and its documents' markers) are in Redis. */
  publish(jobId: string, records: ResultRecord[], markers: MarkerWrite[] = []): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ jobId, records, markers, resolve, reject });
      this.#pendingRecords += records.length;
      if (this.#pendingRecords >= this.#maxRecords) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#flushMs);
    });
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0);
    this.#pendingRecords = 0;
    if (!batch.length) return;
    const done = this.#write(batch).then(
      () => batch.forEach((p) => p.resolve()),
      (err) => batch.forEach((p) => p.reject(err)),
    );
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }

  async #write(batch: PendingPublish[]): Promise<void> {
    const jobs = batch.map((p) => ({
      name: RESULT_JOB_NAME,
      data: packResultJob(p.jobId, p.records),
      opts: { ...RESULT_JOB_OPTIONS, jobId: p.jobId },
    }));
    await retryOnOom(this.oom, 'publishing results', () => this.queue.addBulk(jobs));
    const markers = batch.flatMap((p) => p.markers);
    const target = this.#markers;
    if (!markers.length || !target) return;
    await retryOnOom(this.oom, 'writing document markers', async () => {
      const m = target.client.multi();
      addMarkerWrites(m, this.#prefix, target.queue, markers);
      const res = await m.exec();
      const failed = res?.find(([err]) => err);
      if (failed) throw failed[0];
    });
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
