/**
 * Per-run counters, written in the background: one Redis transaction every `flushMs` (250 ms)
 * for all jobs finished meanwhile, instead of a round trip on every job's critical path (at
 * thousands of jobs per second that round trip was the cost). Losing the last 250 ms on a
 * crash only means the counters lag; results and document markers are written with the
 * results (results-publisher.ts), never here. When Redis is full (E_REDIS_OOM) the counts are
 * kept and written with the next flush that Redis accepts.
 */
import type { Logger } from '../shared/logger.js';
import type { RedisClient } from '../shared/redis.js';
import { isOomError, type OomReporter } from '../shared/redis-oom.js';
import { runKey } from '../shared/run-stats.js';

export class Bookkeeper {
  #redis: RedisClient;
  #prefix: string;
  #queue: string;
  #log: Logger;
  #counts = new Map<string, { done: number; failed: number }>();
  #oom: OomReporter | undefined;
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(redis: RedisClient, prefix: string, queue: string, log: Logger, oom?: OomReporter, flushMs = 250) {
    this.#oom = oom;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#queue = queue;
    this.#log = log;
    this.#timer = setInterval(() => void this.flush(), flushMs);
    this.#timer.unref();
  }

  record(runId: string | undefined, ok: number, failed: number): void {
    if (!runId) return;
    const c = this.#counts.get(runId) ?? { done: 0, failed: 0 };
    c.done += ok;
    c.failed += failed;
    this.#counts.set(runId, c);
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (!this.#counts.size) return;
      const counts = this.#counts;
      this.#counts = new Map();
      const m = this.#redis.multi();
      const now = String(Date.now());
      for (const [runId, c] of counts) {
        const key = runKey(this.#prefix, this.#queue, runId);
        if (c.done) m.hincrby(key, 'done', c.done);
        if (c.failed) m.hincrby(key, 'failed', c.failed);
        m.hset(key, 'lastUpdateAt', now);
      }
      try {
        await m.exec();
        this.#oom?.accepted();
      } catch (err) {
        if (isOomError(err)) {
          // Refused as a whole (MULTI): keep the counts for the next flush.
          for (const [runId, c] of counts) this.record(runId, c.done, c.failed);
          await this.#oom?.refused('run counters');
          return;
        }
        this.#log.warn({ reason: (err as Error).message, runs: counts.size }, 'could not write run counters');
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
