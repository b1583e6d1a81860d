/**
 * SIGTERM to the supervisor reaches every worker process; each finishes the
 * batch it holds and publishes it, and the supervisor exits 0 once all of them did. Nothing
 * taken is lost: no job is left active, every completed job has its result. A second signal
 * SIGKILLs the processes by pid and the supervisor exits 1 at once.
 */
import { Queue } from 'bullmq';
import { expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import { redisUrl, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';
import { alive, supervisorPerTest, type RunningSupervisor } from '../helpers/supervisor.js';

/** Completed jobs are kept here (the default removes them) so the test can read their states. */
const KEEP_COMPLETED = { removeOnComplete: false } as const;

const supervisors = supervisorPerTest(2_000);

async function busySupervisor(): Promise<{ sup: RunningSupervisor; queue: string; q: Queue; pids: number[] }> {
  const queue = uniqueQueueName('sup-drain');
  await enqueueDocuments(longDocs(40), { redisUrl: redisUrl(), queue, jobOptions: KEEP_COMPLETED });
  const sup = await supervisors.start(queue, ['--processes', '2', '--threads-per-process', '1', '--max-batch-size', '8', '--concurrency', '8', '--max-wait-ms', '500'], {}, await slowModel());
  const ready = await sup.waitAllReady();
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  await waitFor(async () => (await q.getJobCounts('active')).active === 16, 60_000, 20); // both processes hold a batch
  return { sup, queue, q, pids: ready.processes.map((p) => p.pid!) };
}

it('drains every process, publishes what they held and exits 0', async () => {
  const { sup, queue, q, pids } = await busySupervisor();
  sup.proc.kill('SIGTERM');
  await waitFor(async () => (await fetch(`${sup.base}/readyz`).then((r) => r.status, () => 0)) !== 200, 2_000, 20);
  expect(await sup.proc.exited).toBe(0);
  expect(pids.some(alive)).toBe(false);
  const counts = await q.getJobCounts('completed', 'active', 'waiting', 'failed');
  expect(counts.active).toBe(0);
  expect(counts.failed).toBe(0);
  expect(counts.completed).toBeGreaterThanOrEqual(16);
  expect(counts.completed + counts.waiting).toBe(40);
  const results = new Queue(`${queue}-results`, { connection: bullConnection(redisUrl()) });
  expect((await results.getJobCounts('waiting')).waiting).toBe(counts.completed);
  await results.close();
  await q.close();
}, 120_000);

it('SIGKILLs every process on a second signal and exits 1 at once', async () => {
  const { sup, q, pids } = await busySupervisor();
  const t0 = performance.now();
  sup.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  sup.proc.kill('SIGTERM');
  expect(await sup.proc.exited).toBe(1);
  expect(performance.now() - t0).toBeLessThan(2_000);
  await waitFor(() => !pids.some(alive), 2_000, 20);
  await q.close();
}, 120_000);
