/**
 * Per-run counters and --skip-unchanged fingerprints, written in the background: one Redis
 * transaction every `flushMs` (250 ms) for all jobs finished meanwhile, instead of a round trip
 * on every job's critical path (at thousands of jobs per second that round trip was the cost).
 * Losing the last 250 ms on a crash only means the counters lag and those documents are
 * scored again on the next --skip-unchanged run; results themselves are never affected.
 */
import type { Logger } from '../shared/logger.js';
import type { RedisClient } from '../shared/redis.js';
import { fingerprintKey } from '../shared/fingerprints.js';
import { runKey } from '../shared/run-stats.js';

interface Fingerprint {
  jobId: string;
  value: string;
  ttlSeconds?: number;
}

export class Bookkeeper {
  #redis: RedisClient;
  #prefix: string;
  #queue: string;
  #log: Logger;
  #counts = new Map<string, { done: number; failed: number }>();
  #fingerprints: Fingerprint[] = [];
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(redis: RedisClient, prefix: string, queue: string, log: Logger, flushMs = 250) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#queue = queue;
    this.#log = log;
    this.#timer = setInterval(() => void this.flush(), flushMs);
    this.#timer.unref();
  }

  record(runId: string | undefined, ok: number, failed: number, fingerprints: Fingerprint[] = []): void {
    if (runId) {
      const c = this.#counts.get(runId) ?? { done: 0, failed: 0 };
      c.done += ok;
      c.failed += failed;
      this.#counts.set(runId, c);
    }
    this.#fingerprints.push(...fingerprints);
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (!this.#counts.size && !this.#fingerprints.length) return;
      const counts = this.#counts;
      const fps = this.#fingerprints;
      this.#counts = new Map();
      this.#fingerprints = [];
      const m = this.#redis.multi();
      const now = String(Date.now());
      for (const [runId, c] of counts) {
        const key = runKey(this.#prefix, this.#queue, runId);
        if (c.done) m.hincrby(key, 'done', c.done);
        if (c.failed) m.hincrby(key, 'failed', c.failed);
        m.hset(key, 'lastUpdateAt', now);
      }
      for (const f of fps) {
        const key = fingerprintKey(this.#prefix, this.#queue, f.jobId);
        if (f.ttlSeconds) m.set(key, f.value, 'EX', f.ttlSeconds);
        else m.set(key, f.value);
      }
      try {
        await m.exec();
      } catch (err) {
        this.#log.warn({ reason: (err as Error).message, runs: counts.size, fingerprints: fps.length }, 'could not write run counters or fingerprints');
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
