/**
 * A BullMQ queue with a unique name for one test, obliterated (all its keys) when the test ends.
 * Every close has a deadline so a stuck connection fails the test instead of hanging the suite.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions } from 'bullmq';
import { onTestFinished } from 'vitest';
import { redisOptionsFromUrl } from '../../src/shared/redis.js';
import type { DocJobData } from '../../src/shared/types.js';

export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (the global setup sets it)');
  return url;
}

export function connectionFor(url = redisUrl()): ConnectionOptions {
  return redisOptionsFromUrl(url) as ConnectionOptions;
}

export function useTestQueue(url = redisUrl()): { name: string; queue: Queue<DocJobData> } {
  const name = `test-${randomUUID()}`;
  const queue = new Queue<DocJobData>(name, { connection: connectionFor(url) });
  queue.on('error', () => {});
  onTestFinished(async () => {
    await withDeadline(queue.obliterate({ force: true }), 10_000, 'obliterate');
    await withDeadline(queue.close(), 5_000, 'queue.close');
  });
  return { name, queue };
}
