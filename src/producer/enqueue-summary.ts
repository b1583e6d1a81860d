/**
 * What an enqueue reports: the counters kept while reading, the progress callback's view of
 * them, and the summary returned (and printed by `enqueue --json`: key order is the output's).
 */
import type { ReaderStats } from './document.js';

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

export type EnqueueCounts = Pick<EnqueueSummary, 'read' | 'enqueued' | 'alreadyQueued' | 'skippedUnchanged' | 'rescored' | 'rejected' | 'notEnqueued' | 'duplicates' | 'jobs'>;

export function newCounts(): EnqueueCounts {
  return { read: 0, enqueued: 0, alreadyQueued: 0, skippedUnchanged: 0, rescored: 0, rejected: 0, notEnqueued: 0, duplicates: 0, jobs: 0 };
}

export function progressOf(c: EnqueueCounts, readerStats: Readonly<ReaderStats> | undefined, totalBytes: number | undefined, waitingJobs: number | undefined): EnqueueProgress {
  const p: EnqueueProgress = { read: c.read, enqueued: c.enqueued, alreadyQueued: c.alreadyQueued, rejected: c.rejected };
  if (readerStats) p.bytesRead = readerStats.bytesRead;
  if (totalBytes !== undefined) p.totalBytes = totalBytes;
  if (waitingJobs !== undefined) p.waitingJobs = waitingJobs;
  return p;
}

export function summarize(r: {
  runId: string; queue: string; counts: EnqueueCounts; skippedBlank: number; elapsedMs: number;
  redisOomRefusals: number; aborted: boolean; errorsOut: string | undefined;
}): EnqueueSummary {
  const summary: EnqueueSummary = {
    runId: r.runId,
    queue: r.queue,
    ...r.counts,
    skippedBlank: r.skippedBlank,
    elapsedMs: Math.round(r.elapsedMs),
    docsPerSecond: Math.round((r.counts.read * 1000) / Math.max(1, r.elapsedMs)),
    redisOomRefusals: r.redisOomRefusals,
    aborted: r.aborted,
  };
  if (r.errorsOut) summary.errorsOut = r.errorsOut;
  return summary;
}
