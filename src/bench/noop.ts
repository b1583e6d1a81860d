/**
 * The BullMQ floor for the queue path: a processor that does nothing, on jobs of 1 or of k
 * documents, from a pre-filled queue. roberta-batch's own queue path is compared to it.
 */
import { Queue, Worker } from 'bullmq';
import { bullConnection } from '../shared/redis.js';
import { sleep } from '../shared/util.js';
import type { BenchDoc } from './corpus.js';
import { settleHeap } from './machine.js';
import { addJobs, benchQueueName, removeBenchQueues } from './queues.js';

/** `redisCpu`: reads the server's CPU seconds, so the result carries Redis CPU while jobs were processed. */
export async function measureNoop(redisUrl: string, docs: BenchDoc[], docsPerJob: number, concurrency = 64, redisCpu?: () => Promise<number>): Promise<{ docs: number; jobs: number; seconds: number; redisCpuSeconds?: number }> {
  const name = benchQueueName(`noop${docsPerJob}`);
  const connection = bullConnection(redisUrl);
  const queue = new Queue(name, { connection });
  let worker: Worker | undefined;
  try {
    await queue.pause();
    const jobs = [];
    for (let i = 0; i < docs.length; i += docsPerJob) {
      const pack = docs.slice(i, i + docsPerJob);
      jobs.push({ name: 'docs', data: { v: 1, docs: pack }, opts: { jobId: `p-${pack[0].id}` } });
    }
    await addJobs(queue, jobs);
    let done = 0;
    worker = new Worker(name, async () => undefined, { connection, concurrency });
    worker.on('completed', () => { done++; });
    await worker.waitUntilReady();
    await settleHeap();
    const cpu0 = await redisCpu?.();
    const t0 = performance.now();
    await queue.resume();
    while (done < jobs.length) await sleep(5);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = await redisCpu?.();
    return { docs: docs.length, jobs: jobs.length, seconds, redisCpuSeconds: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
  } finally {
    await worker?.close();
    await queue.close();
    await removeBenchQueues(redisUrl, name);
  }
}
