/**
 * Queue names and job options shared by producers, workers and exporters.
 */
import type { JobsOptions, QueueOptions } from 'bullmq';

export const DEFAULT_QUEUE = 'roberta';
/** BullMQ's own default key prefix; Redis Cluster users set a hash tag such as `{rb}`. */
export const DEFAULT_PREFIX = 'bull';

export function resultsQueueName(queue: string, override?: string): string {
  return override ?? `${queue}-results`;
}

/**
 * Events kept per queue stream (BullMQ's default is 10,000). Each job leaves 2 to 4 events
 * (added, waiting, active, completed); at 10,000 events of ~60 bytes a queue's stream alone
 * held ~600 KB, 300 bytes per document of a 2,000-document run. The only reader in
 * roberta-batch is the idle results exporter, which waits on the results queue's stream for the
 * next event and never needs an old one; a QueueEvents listener that falls more than this many
 * events behind misses some.
 */
export const EVENTS_MAX_LEN = 500;

/** Options for every Queue roberta-batch opens (BullMQ stores maxLen in the queue's meta, last writer wins). */
export function queueOptions(prefix: string): Pick<QueueOptions, 'prefix' | 'streams'> {
  return { prefix, streams: { events: { maxLen: EVENTS_MAX_LEN } } };
}

/**
 * Document jobs: 3 attempts with exponential backoff (ms): 2000, 4000 for transient failures
 * (a crashed inference thread, Redis hiccups); documents that can never succeed fail at once
 * through UnrecoverableError. A completed job is removed: by then its results are in the
 * results queue and each of its documents has a marker (src/shared/done-markers.ts), which is
 * what keeps a re-enqueue a no-op. Failed jobs are kept (their reason, for inspection and for
 * the exporter's record of jobs that failed without a result).
 */
export const DOC_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: true,
  removeOnFail: false,
};

/** BullMQ job name of result jobs (data: ResultJobData, see docs/OUTPUT.md). */
export const RESULT_JOB_NAME = 'results';

/**
 * Result jobs: one per document job, job id = the document job's id, so a job published twice
 * is stored once. roberta-batch's exporter reads them from the wait list and deletes each once
 * its records are durable outside Redis; they are never processed by a BullMQ worker.
 */
export const RESULT_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: false,
};
