/**
 * Per-run counters in Redis, so `roberta-batch status` can show a nightly run from any shell.
 *
 * Keys (prefix = BullMQ prefix, e.g. `bull`):
 *   <prefix>:<queue>:runs           ZSET  runId → start time (ms)
 *   <prefix>:<queue>:run:<runId>    HASH  enqueued, done, failed, rejected, startedAt, finishedEnqueueAt, input
 *
 * Counts are at least once: a job processed twice after a worker crash counts twice in
 * `done` (the export itself stays exactly once). Memory: ~200 bytes per run.
 */
import type { RedisClient } from './redis.js';

export interface RunStats {
  runId: string;
  queue: string;
  input?: string;
  enqueued: number;
  rejected: number;
  done: number;
  failed: number;
  startedAt: number;
  enqueueFinishedAt?: number;
  lastUpdateAt?: number;
}

export function runsKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:runs`;
}

export function runKey(prefix: string, queue: string, runId: string): string {
  return `${prefix}:${queue}:run:${runId}`;
}

export async function registerRun(redis: RedisClient, prefix: string, queue: string, runId: string, input?: string): Promise<void> {
  const now = Date.now();
  await redis
    .multi()
    .zadd(runsKey(prefix, queue), 'NX', now, runId)
    .hsetnx(runKey(prefix, queue, runId), 'startedAt', String(now))
    .hset(runKey(prefix, queue, runId), ...(input ? ['input', input] : []), 'queue', queue)
    .exec();
}

export async function addRunCounts(redis: RedisClient, prefix: string, queue: string, runId: string, counts: Partial<Record<'enqueued' | 'rejected' | 'done' | 'failed', number>>): Promise<void> {
  const key = runKey(prefix, queue, runId);
  const m = redis.multi();
  for (const [field, n] of Object.entries(counts)) if (n) m.hincrby(key, field, n);
  m.hset(key, 'lastUpdateAt', String(Date.now()));
  await m.exec();
}

export async function markEnqueueFinished(redis: RedisClient, prefix: string, queue: string, runId: string): Promise<void> {
  await redis.hset(runKey(prefix, queue, runId), 'enqueueFinishedAt', String(Date.now()));
}

function parse(runId: string, queue: string, h: Record<string, string>): RunStats {
  const n = (k: string) => Number(h[k] ?? 0);
  return {
    runId, queue, input: h.input,
    enqueued: n('enqueued'), rejected: n('rejected'), done: n('done'), failed: n('failed'),
    startedAt: n('startedAt'),
    enqueueFinishedAt: h.enqueueFinishedAt ? Number(h.enqueueFinishedAt) : undefined,
    lastUpdateAt: h.lastUpdateAt ? Number(h.lastUpdateAt) : undefined,
  };
}

export async function readRun(redis: RedisClient, prefix: string, queue: string, runId: string): Promise<RunStats | undefined> {
  const h = await redis.hgetall(runKey(prefix, queue, runId));
  return Object.keys(h).length ? parse(runId, queue, h) : undefined;
}

/** Most recent runs first. */
export async function listRuns(redis: RedisClient, prefix: string, queue: string, limit = 20): Promise<RunStats[]> {
  const ids = await redis.zrevrange(runsKey(prefix, queue), 0, limit - 1);
  const out: RunStats[] = [];
  for (const id of ids) {
    const r = await readRun(redis, prefix, queue, id);
    if (r) out.push(r);
  }
  return out;
}

export interface RunProgress {
  remaining: number;
  /** Documents finished per second since the run started. */
  rate: number;
  etaSeconds: number | undefined;
  complete: boolean;
}

export function progressOf(r: RunStats, now = Date.now()): RunProgress {
  const finished = r.done + r.failed;
  const remaining = Math.max(0, r.enqueued - finished);
  const elapsed = Math.max(1, (r.lastUpdateAt ?? now) - r.startedAt) / 1000;
  const rate = finished / elapsed;
  return {
    remaining,
    rate,
    etaSeconds: remaining === 0 ? 0 : rate > 0 ? remaining / rate : undefined,
    complete: r.enqueueFinishedAt !== undefined && remaining === 0,
  };
}
