/**
 * A worker process killed with SIGKILL (OOM killer, a segfault in a driver)
 * comes back: the supervisor reports it restarting, starts a new process after the backoff,
 * counts the restart in /metrics, and the queue keeps being served: documents enqueued after
 * the kill all get results.
 */
import { Queue } from 'bullmq';
import { expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import { stop } from '../helpers/cli.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { redisUrl, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { alive, supervisorPerTest } from '../helpers/supervisor.js';

const supervisors = supervisorPerTest();

it('restarts the killed process with a new pid and keeps serving the queue', async () => {
  const queue = uniqueQueueName('sup-kill');
  const sup = await supervisors.start(queue, ['--processes', '2', '--threads-per-process', '1', '--restart-backoff-ms', '300']);
  const before = await sup.waitAllReady();
  const victim = before.processes[0].pid!;
  const survivor = before.processes[1].pid!;

  process.kill(victim, 'SIGKILL');
  await waitFor(async () => (await sup.readyz()).body.reasons.some((r) => /worker process 0: (restarting|starting)/.test(r)), 5_000, 20);
  const after = await sup.waitAllReady(30_000);
  expect(after.processes[0].pid).not.toBe(victim);
  expect(after.processes[0].restarts).toBe(1);
  expect(after.processes[1]).toMatchObject({ pid: survivor, restarts: 0 });
  expect(alive(victim)).toBe(false);
  expect(await sup.metrics()).toMatch(/roberta_batch_supervisor_restarts_total\{worker_process="0"\} 1/);
  expect(sup.proc.output()).toMatch(/"signal":"SIGKILL"[^\n]*worker process exited: restarting it/);

  const docs = syntheticDocs(60, 5);
  await enqueueDocuments(docs, { redisUrl: redisUrl(), queue });
  const results = new Queue(`${queue}-results`, { connection: bullConnection(redisUrl()) });
  try {
    await waitFor(async () => (await results.getJobCounts('waiting')).waiting === 60, 30_000, 100);
  } finally {
    await results.close();
  }
  expect(await stop(sup.proc, 15_000)).toBe(0);
}, 120_000);
