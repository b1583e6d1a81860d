/**
 * SIGTERM stops taking jobs, finishes the batch in flight, publishes its
 * results and exits 0; readiness turns false as shutdown begins; a second signal exits at once.
 *
 * No wall-clock bound: the first test gives the worker a grace period far above any batch, so
 * that only the drain itself is tested (a 32 x 512 batch of the slow model took over the default
 * 25 s on a loaded 2-core machine and the worker was rightly SIGKILLed). "At once" in the second
 * test means: before the batch in flight completed any job.
 */
import { Queue } from 'bullmq';
import { afterEach, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';

/** Completed jobs are kept here (the default removes them) so the test can read their states. */
const KEEP_COMPLETED = { removeOnComplete: false } as const;

let worker: Spawned | undefined;
let queue = '';
afterEach(async () => {
  if (worker) await stop(worker, 2_000);
  await removeQueues(queue);
});

async function startBusyWorker(extra: string[] = []): Promise<{ q: Queue; base: string }> {
  queue = uniqueQueueName('sigterm');
  await enqueueDocuments(longDocs(48), { redisUrl: redisUrl(), queue , jobOptions: KEEP_COMPLETED });
  worker = spawnCli([
    'worker', '--queue', queue, '--model', await slowModel(), '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash',
    '--max-batch-size', '32', '--concurrency', '32', '--max-wait-ms', '500', '--intra-op-threads', '1', ...extra,
  ]);
  const line = await worker.waitForOutput(/"url":"http:\/\/127\.0\.0\.1:\d+\/metrics"/);
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  await waitFor(async () => (await q.getJobCounts('active')).active === 32, 60_000, 20);
  await new Promise((r) => setTimeout(r, 800)); // the batch of 32 is running (it takes seconds)
  return { q, base };
}

it('finishes the batch in flight, publishes it, takes nothing new and exits 0', async () => {
  const { q, base } = await startBusyWorker(['--shutdown-grace-ms', '600000']);
  worker!.kill('SIGTERM');
  await waitFor(async () => (await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 503, 2_000, 20);
  const code = await worker!.exited;
  const output = worker!.output();
  worker = undefined;
  expect(code, output).toBe(0);
  expect(output).toMatch(/shutting down: finishing jobs in flight/);
  expect(output).not.toMatch(/grace period over/);
  const counts = await q.getJobCounts('completed', 'active', 'waiting', 'failed');
  expect(counts).toEqual({ completed: 32, active: 0, waiting: 16, failed: 0 });
  const results = new Queue(`${queue}-results`, { connection: bullConnection(redisUrl()) });
  expect((await results.getJobCounts('waiting')).waiting).toBe(32);
  await results.close();
  await q.close();
}, 120_000);

it('exits at once on a second signal, leaving the batch to stalled-job recovery', async () => {
  const { q } = await startBusyWorker();
  worker!.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  worker!.kill('SIGTERM');
  const code = await worker!.exited;
  worker = undefined;
  expect(code).toBe('SIGKILL'); // ended by itself at once: see exitNow() in src/cli/signals.ts
  // At once: before the batch in flight finished. Its jobs stay active (locked) until their
  // locks expire.
  expect((await q.getJobCounts('completed')).completed).toBe(0);
  await q.close();
}, 120_000);
