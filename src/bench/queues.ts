/** Bench queues: unique names, paused while they fill, removed afterwards. */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { resultsQueueName } from '../shared/queues.js';
import { bullConnection, connect } from '../shared/redis.js';
import { deleteAllMarkers } from '../shared/done-markers.js';

export function benchQueueName(section: string): string {
  return `bench-${section}-${randomBytes(3).toString('hex')}`;
}

/** Removes the queue and its results queue (every key of both) and the queue's document markers. */
export async function removeBenchQueues(redisUrl: string, name: string): Promise<void> {
  for (const n of [name, resultsQueueName(name)]) {
    const q = new Queue(n, { connection: bullConnection(redisUrl) });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
  const r = connect(redisUrl);
  r.on('error', () => {});
  await r.connect().then(() => deleteAllMarkers(r, 'bull', name)).catch(() => {});
  r.disconnect();
}

/** Adds jobs in addBulk chunks of 1,000 (BullMQ's own advice for large batches). */
export async function addJobs<T>(queue: Queue, jobs: { name: string; data: T; opts?: { jobId?: string } }[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
}
