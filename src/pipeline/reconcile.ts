/**
 * Reconcile: which documents of an input file have neither a result nor a recorded failure?
 *
 * After a Redis failover (asynchronous replication loses the last writes) or a wiped results
 * queue, some documents may be nowhere: their job and their result are gone. This reads the
 * input again and, for every document id, looks up (one pipelined round trip per 1,000 ids):
 * - its marker (src/shared/done-markers.ts), written with its result: `ok` or `failed`;
 * - without a marker, the main queue job's state: waiting/active/delayed/prioritized = in
 *   progress (a worker will publish it), failed = a recorded failure (the exporter's
 *   recordFailedJobsWithoutResult writes it); a result job still in the results queue = ok
 *   (published, its marker lost); otherwise missing.
 * With `requeue`, the missing documents are enqueued again through the normal producer (same
 * job ids, same limits). A completed main job whose result was lost is removed first, since
 * BullMQ would otherwise treat the new job as a duplicate of it. Running it twice is safe: a
 * document that has a record, or a job in progress, is never touched.
 *
 * Markers are per document, so finished packed documents (--docs-per-job > 1, the default of
 * enqueue) are found as ok or failed; but a packed document still in progress has no job of its
 * own id and reads as missing: a requeue computes it again (the exporter still writes it once).
 */
import type { ConnectionOptions } from 'bullmq';
import { Queue } from 'bullmq';
import type { RedisClient } from '../shared/redis.js';
import { E } from '../shared/errors.js';
import { logger as rootLogger, type Logger } from '../shared/logger.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, queueOptions, resultsQueueName } from '../shared/queues.js';
import { readMarkers } from '../shared/done-markers.js';
import { connect, redisOptionsFromUrl } from '../shared/redis.js';
import { DEFAULT_REDIS_URL } from '../shared/redis-url.js';
import { checkEvictionPolicy, waitForRedis } from '../shared/redis-checks.js';
import type { ReadItem } from '../producer/document.js';
import { DocumentProducer, ENQUEUE_DEFAULTS, type EnqueueSummary } from '../producer/enqueue.js';
import { invalidIdReason, jobIdForDocument } from '../shared/job-id.js';
import { readFile, type ReaderOptions } from '../producer/readers.js';

export interface ReconcileOptions extends ReaderOptions {
  redisUrl?: string;
  /** How long to wait for Redis at start, in ms (default 60 s). */
  redisWaitMs?: number;
  queue?: string;
  prefix?: string;
  resultsQueue?: string;
  /** Enqueue the missing documents again. */
  requeue?: boolean;
  /** Run id stored with re-enqueued jobs (default: a new run id). */
  runId?: string;
  /** Same limit as the producer: larger documents were rejected at enqueue, never queued. */
  maxDocBytes?: number;
  maxJobBytes?: number;
  allowEviction?: boolean;
  /** Ids looked up per round trip (default 1000). */
  chunkSize?: number;
  logger?: Logger;
}

export interface ReconcileReport {
  queue: string;
  /** Distinct document ids in the input. */
  documents: number;
  /** Lines that are not documents (malformed JSON, broken CSV quoting...): nothing to look up. */
  unreadableLines: number;
  /** Documents the producer refuses (bad id, text over --max-doc-bytes): never queued. */
  rejectedAtEnqueue: number;
  /** Repeated ids in the input (counted once). */
  repeatedIds: number;
  ok: number;
  /** A failure record in the results queue, or a failed job (recorded by the exporter). */
  failed: number;
  inProgress: string[];
  missing: string[];
  /** Completed main-queue jobs without a result, removed before re-enqueueing. */
  staleJobsRemoved: number;
  requeue?: EnqueueSummary;
}

const IN_PROGRESS = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export async function reconcile(input: string, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  if (input === '-') {
    throw E.CONFIG('reconcile reads its input twice and cannot read stdin', { hint: 'pass the input file that was enqueued' });
  }
  const redisUrl = opts.redisUrl ?? DEFAULT_REDIS_URL;
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const chunkSize = opts.chunkSize ?? 1_000;
  const maxDocBytes = opts.maxDocBytes ?? ENQUEUE_DEFAULTS.maxDocBytes;
  const log = (opts.logger ?? rootLogger()).child({ component: 'reconcile', queue: queueName });
  await waitForRedis(redisUrl, opts.redisWaitMs);
  await checkEvictionPolicy(redisUrl, opts.allowEviction ?? false);

  const connection = redisOptionsFromUrl(redisUrl) as ConnectionOptions;
  const main = new Queue(queueName, { connection, ...queueOptions(prefix) });
  const results = new Queue(resultsQueueName(queueName, opts.resultsQueue), { connection, ...queueOptions(prefix) });
  main.on('error', (err) => log.warn({ reason: err.message }, 'queue connection error'));
  results.on('error', (err) => log.warn({ reason: err.message }, 'queue connection error'));
  const client: RedisClient = connect(redisUrl);
  client.on('error', (err) => log.warn({ reason: err.message }, 'Redis connection error'));
  const report: ReconcileReport = {
    queue: queueName, documents: 0, unreadableLines: 0, rejectedAtEnqueue: 0, repeatedIds: 0,
    ok: 0, failed: 0, inProgress: [], missing: [], staleJobsRemoved: 0,
  };
  const stale: string[] = [];
  try {
    await client.connect();
    const seen = new Set<string>();
    let chunk: string[] = [];
    const lookUp = async () => {
      const ids = chunk;
      chunk = [];
      if (!ids.length) return;
      const markers = await readMarkers(client, prefix, queueName, ids);
      for (let i = 0; i < ids.length; i++) {
        const m = markers[i];
        if (m?.status === 'ok') report.ok++;
        else if (m?.status === 'failed') report.failed++;
        else {
          // No marker: few documents (after a failover), so one state lookup each is cheap.
          const jobId = jobIdForDocument(ids[i]);
          const state = await main.getJobState(jobId);
          if (state === 'failed') report.failed++;
          else if (IN_PROGRESS.has(state)) report.inProgress.push(ids[i]);
          else if ((await client.exists(results.toKey(jobId))) === 1) report.ok++;
          else {
            report.missing.push(ids[i]);
            if (state === 'completed') stale.push(ids[i]);
          }
        }
      }
    };
    const reader = readFile(input, opts);
    try {
      for await (const item of reader) {
        if (item.error) {
          report.unreadableLines++;
          continue;
        }
        const { id, text } = item.doc;
        if (typeof id !== 'string' || invalidIdReason(id) || (typeof text === 'string' && Buffer.byteLength(text, 'utf8') > maxDocBytes)) {
          report.rejectedAtEnqueue++;
          continue;
        }
        if (seen.has(id)) {
          report.repeatedIds++;
          continue;
        }
        seen.add(id);
        report.documents++;
        chunk.push(id);
        if (chunk.length >= chunkSize) await lookUp();
      }
      await lookUp();
    } finally {
      reader.destroy();
    }
    log.info({ documents: report.documents, ok: report.ok, failed: report.failed, inProgress: report.inProgress.length, missing: report.missing.length }, 'reconciled');

    if (opts.requeue && report.missing.length) {
      for (const id of stale) {
        // Completed without a result: its result write was lost. Removing the job lets the
        // producer add it again under the same id (BullMQ would otherwise skip it as a duplicate).
        const job = await main.getJob(jobIdForDocument(id));
        if (job && (await job.getState()) === 'completed') {
          await job.remove();
          report.staleJobsRemoved++;
        }
      }
      report.requeue = await requeueMissing(input, new Set(report.missing), opts, redisUrl, queueName, prefix);
      log.info({ requeued: report.requeue.enqueued, staleJobsRemoved: report.staleJobsRemoved }, 'missing documents enqueued again');
    }
    return report;
  } finally {
    await Promise.allSettled([main.close(), results.close()]);
    await client.quit().catch(() => client.disconnect());
  }
}

/** Second pass over the input: the missing documents go through the normal producer. */
async function requeueMissing(input: string, missing: Set<string>, opts: ReconcileOptions, redisUrl: string, queue: string, prefix: string): Promise<EnqueueSummary> {
  async function* only(items: AsyncIterable<ReadItem>): AsyncGenerator<ReadItem> {
    for await (const item of items) {
      if (item.doc && typeof item.doc.id === 'string' && missing.delete(item.doc.id)) yield item;
    }
  }
  const reader = readFile(input, opts);
  const producer = new DocumentProducer({
    redisUrl, queue, prefix, runId: opts.runId, maxDocBytes: opts.maxDocBytes, maxJobBytes: opts.maxJobBytes,
    allowEviction: opts.allowEviction, logger: opts.logger,
  });
  try {
    await producer.open();
    return await producer.enqueue(only(reader));
  } finally {
    reader.destroy();
    await producer.close();
  }
}
