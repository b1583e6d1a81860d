/**
 * Where `status` finds the runs that `run` is doing right now. `run` scores each file on a
 * queue of its own (named by its run id), so `status` without --queue would look at the
 * default queue and see nothing; the run id was only in a log line.
 *
 * Key: <prefix>:rb:active-runs, a ZSET of `{"queue","runId","startedAt"}` scored by the time
 * the entry expires (ms). A running `run` refreshes its entry every REFRESH_MS and removes it
 * when it ends; the key itself expires TTL_MS after the last refresh, so a run killed by
 * SIGKILL leaves nothing behind for longer than a minute.
 */
import type { RedisClient } from './redis.js';

const TTL_MS = 60_000;
/** A third of the TTL: two refreshes may be missed (a busy event loop, a Redis blip) before the entry lapses. */
const REFRESH_MS = 20_000;

export interface ActiveRun {
  queue: string;
  runId: string;
  startedAt: number;
}

export function activeRunsKey(prefix: string): string {
  return `${prefix}:rb:active-runs`;
}

/** Registers a run for as long as it lasts; `close()` (idempotent) removes it. */
export class ActiveRunEntry {
  readonly #redis: RedisClient;
  readonly #key: string;
  readonly #member: string;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  private constructor(redis: RedisClient, prefix: string, run: ActiveRun) {
    this.#redis = redis;
    this.#key = activeRunsKey(prefix);
    this.#member = JSON.stringify(run);
  }

  static async start(redis: RedisClient, prefix: string, queue: string, runId: string): Promise<ActiveRunEntry> {
    const entry = new ActiveRunEntry(redis, prefix, { queue, runId, startedAt: Date.now() });
    await entry.#refresh();
    entry.#timer = setInterval(() => void entry.#refresh().catch(() => {}), REFRESH_MS);
    entry.#timer.unref();
    return entry;
  }

  async #refresh(): Promise<void> {
    const now = Date.now();
    await this.#redis.multi().zadd(this.#key, now + TTL_MS, this.#member).zremrangebyscore(this.#key, '-inf', now).pexpire(this.#key, TTL_MS).exec();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await this.#redis.zrem(this.#key, this.#member).catch(() => {});
    })();
    return this.#closing;
  }
}

/** Runs whose entry has not lapsed, newest first. */
export async function listActiveRuns(redis: RedisClient, prefix: string): Promise<ActiveRun[]> {
  const members = await redis.zrangebyscore(activeRunsKey(prefix), Date.now(), '+inf');
  const runs: ActiveRun[] = [];
  for (const m of members) {
    try {
      const r = JSON.parse(m) as ActiveRun;
      if (typeof r.queue === 'string' && typeof r.runId === 'string') runs.push(r);
    } catch {
      /* not ours: ignore */
    }
  }
  return runs.sort((a, b) => b.startedAt - a.startedAt);
}
