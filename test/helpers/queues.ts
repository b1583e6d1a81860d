/** A unique queue per test, removed afterwards (BullMQ's own tests do the same). */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { bullConnection, connect } from '../../src/shared/redis.js';
import { deleteAllMarkers, markerKeys } from '../../src/shared/done-markers.js';

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function uniqueQueueName(tag = 'test'): string {
  return `${tag}-${randomUUID().slice(0, 8)}`;
}

/** Removes every key of the queue and of its results queue, and the queue's document markers. */
export async function removeQueues(name: string, url = redisUrl(), prefix = 'bull'): Promise<void> {
  for (const n of [name, `${name}-results`]) {
    const q = new Queue(n, { connection: bullConnection(url), prefix });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
  const r = connect(url);
  r.on('error', () => {});
  await r.connect().then(() => deleteAllMarkers(r, prefix, name)).catch(() => {});
  r.disconnect();
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 60_000, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Documents finished (result or recorded failure) in a queue: their markers (finished jobs are removed). */
export async function finishedDocuments(name: string, url = redisUrl(), prefix = 'bull'): Promise<number> {
  const r = connect(url);
  r.on('error', () => {});
  try {
    await r.connect();
    const keys = await markerKeys(r, prefix, name);
    let n = 0;
    for (const k of keys) n += await r.hlen(k);
    return n;
  } finally {
    r.disconnect();
  }
}
