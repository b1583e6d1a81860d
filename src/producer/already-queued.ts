/**
 * Which jobs of a chunk are sent. One pipeline (one round trip per chunk) asks which job ids
 * still exist (waiting, running or failed) and then which documents are finished (their marker,
 * src/shared/done-markers.ts: a completed job is removed, its documents keep a marker). Neither
 * is sent again; BullMQ's own dedup still covers a producer racing us. With packs, finished
 * documents are dropped from their pack (the rest is packed under a new id). With
 * skipUnchanged, a document whose stored result came from the same text and model setup is
 * skipped, and a changed one replaces its old job and result.
 */
import type { Queue } from 'bullmq';
import { deleteMarkers, okMarker, readMarkers } from '../shared/done-markers.js';
import { textFingerprint } from '../shared/fingerprints.js';
import type { RedisClient } from '../shared/redis.js';
import type { DocJobData } from '../shared/types.js';
import type { RejectedLine } from './errors-file.js';
import { jobIdForPack } from '../shared/job-id.js';
import type { PendingJob } from './packer.js';

export interface ChunkCounts {
  alreadyQueued: number;
  skippedUnchanged: number;
  rescored: number;
}

export interface AlreadyQueuedContext {
  client: RedisClient;
  queue: Queue<DocJobData>;
  /** The results queue (skipUnchanged only): a stale result gives way to the new job. */
  results: Queue | undefined;
  prefix: string;
  queueName: string;
  skipUnchanged: boolean;
  /** The workers' setup fingerprint (skipUnchanged); undefined until a worker has started. */
  setupFp: string | undefined;
  /**
   * A job whose stored timestamp is not older than this was added by this enqueue (BullMQ
   * stamps jobs with the producer's clock), so an existing id is a repeat within the input
   * rather than a document left by an earlier run.
   */
  startedAtMs: number;
  /** A job repeating one sent earlier by this enqueue. */
  onRepeat: (job: PendingJob) => Promise<void>;
  /** Runs the read-only lookups (a pipeline), e.g. again after a dropped connection. */
  read?: <T>(step: () => Promise<T>) => Promise<T>;
}

/** The jobs of `jobs` to add; what is left out is counted in `counts`. */
export async function selectFresh(jobs: PendingJob[], ctx: AlreadyQueuedContext, counts: ChunkCounts): Promise<PendingJob[]> {
  const { client, queue } = ctx;
  // Jobs before the markers: a job that completes in between is seen either still existing or
  // already marked (its markers are written before it is removed). The job hash's timestamp
  // (null: no such job) tells an existing job and when it was added, in one round trip.
  const docIds = jobs.flatMap((j) => j.data.docs.map((d) => d.id));
  const read = ctx.read ?? ((step) => step());
  const { exists, markers } = await read(async () => {
    const pipeline = client.pipeline();
    for (const j of jobs) pipeline.hget(queue.toKey(j.jobId), 'timestamp');
    const exists = (await pipeline.exec()) ?? [];
    return { exists, markers: await readMarkers(client, ctx.prefix, ctx.queueName, docIds) };
  });
  let at = 0;
  const fresh: PendingJob[] = [];
  for (const [i, j] of jobs.entries()) {
    const [err, stamp] = exists[i] ?? [null, null];
    if (err) throw err;
    const marks = markers.slice(at, at + j.data.docs.length);
    at += j.data.docs.length;
    const n = stamp === null || stamp === undefined ? 0 : 1;
    if (n === 1 && Number(stamp) >= ctx.startedAtMs) {
      counts.alreadyQueued += j.data.docs.length;
      await ctx.onRepeat(j);
      continue;
    }
    if (ctx.skipUnchanged) {
      const text = j.data.docs[0].text;
      const mark = marks[0];
      if (ctx.setupFp && typeof text === 'string' && mark?.status === 'ok' && mark.value === okMarker(ctx.setupFp, textFingerprint(text))) {
        counts.skippedUnchanged += 1;
        continue;
      }
      if (n === 1) {
        const state = await queue.getJobState(j.jobId);
        if (state !== 'completed' && state !== 'failed') {
          counts.alreadyQueued += 1;
          continue;
        }
        // A finished job kept in Redis (a failure, or a job of an older version): the new job replaces it.
        await queue.remove(j.jobId);
        await ctx.results!.remove(j.jobId);
      }
      if (n === 1 || mark) {
        // Changed text or model setup (or a failure to retry): the old marker and a result
        // not exported yet give way to the new job (the result job has the same id).
        await deleteMarkers(client, ctx.prefix, ctx.queueName, [j.data.docs[0].id]);
        if (n !== 1) await ctx.results!.remove(j.jobId);
        counts.rescored += 1;
      }
      fresh.push(j);
      continue;
    }
    if (n === 1) {
      counts.alreadyQueued += j.data.docs.length;
      continue;
    }
    const open = j.data.docs.filter((_, k) => !marks[k]);
    counts.alreadyQueued += j.data.docs.length - open.length;
    if (open.length === j.data.docs.length) fresh.push(j);
    else if (open.length) fresh.push({ jobId: jobIdForPack(open.map((d) => d.id)), data: { ...j.data, docs: open }, lineNo: j.lineNo });
  }
  return fresh;
}

/** The errors-file line of a job whose id repeats one read earlier (`firstLine` when it is still known). */
export function repeatedIdLine(j: PendingJob, firstLine: number | undefined): RejectedLine {
  const single = j.data.docs.length === 1;
  const ids = single ? `id "${j.data.docs[0].id}"` : `pack ${j.jobId}`;
  const first = firstLine !== undefined ? `line ${firstLine}` : 'an earlier line';
  return { lineNo: j.lineNo, code: 'E_INPUT_DUPLICATE', message: `line ${j.lineNo}: ${ids} repeats the id of ${first}; only the first is scored`, ...(single ? { id: j.data.docs[0].id } : {}) };
}
