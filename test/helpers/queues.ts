/** A unique queue per test, removed afterwards (BullMQ's own tests do the same). */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { bullConnection } from '../../src/shared/redis.js';

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function uniqueQueueName(tag = 'test'): string {
  return `${tag}-${randomUUID().slice(0, 8)}`;
}

/** Removes every key of the queue and of its results queue. */
export async function removeQueues(name: string, url = redisUrl()): Promise<void> {
  for (const n of [name, `${name}-results`]) {
    const q = new Queue(n, { connection: bullConnection(url) });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 60_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
