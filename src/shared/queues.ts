/**
 * Queue names and job options shared by producers, workers and exporters.
 */
import type { JobsOptions } from 'bullmq';

export const DEFAULT_QUEUE = 'roberta';
/** BullMQ's own default key prefix; Redis Cluster users set a hash tag such as `{rb}`. */
export const DEFAULT_PREFIX = 'bull';

export function resultsQueueName(queue: string, override?: string): string {
  return override ?? `${queue}-results`;
}

/**
 * Document jobs: 3 attempts with exponential backoff (ms): 2000, 4000 for transient failures
 * (a crashed inference thread, Redis hiccups); documents that can never succeed fail at once
 * through UnrecoverableError. Completed jobs are kept so that re-enqueueing a document id is a
 * no-op (BullMQ deduplicates on job id only while the job exists); their returnvalue is small.
 */
export const DOC_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: false,
  removeOnFail: false,
};

/** Result records: job id = document id, so a result published twice is stored once. */
export const RESULT_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: false,
  removeOnFail: false,
};

