/**
 * A worker process killed with SIGKILL while its batch runs loses nothing.
 * Its jobs stay active until their locks (2 s here) expire, the surviving worker's stalled-job
 * check (every 500 ms) moves them back to wait, it processes them, and the export holds each
 * document id exactly once. Prints the recovery time (kill → the last of the killed worker's
 * jobs completed by the other one).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';
import { withDeadline } from '../helpers/test-queue.js';

/** Completed jobs are kept here (the default removes them) so the test can read their states. */
const KEEP_COMPLETED = { removeOnComplete: false } as const;

const queue = uniqueQueueName('sigkill');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-sigkill-'));
const spawned: Spawned[] = [];
const q = new Queue(queue, { connection: bullConnection(redisUrl()) });

afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s, 2_000)));
  await withDeadline(q.close(), 5_000, 'queue.close');
  await withDeadline(removeQueues(queue), 10_000, 'removeQueues');
  rmSync(dir, { recursive: true, force: true });
});

async function worker(id: string): Promise<Spawned> {
  const w = spawnCli([
    'worker', '--queue', queue, '--model', await slowModel(), '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash',
    '--worker-id', id, '--max-batch-size', '32', '--concurrency', '32', '--max-wait-ms', '300', '--intra-op-threads', '1',
    '--lock-duration-ms', '2000', '--stalled-interval-ms', '500',
  ]);
  spawned.push(w);
  await w.waitForEvent(LOG_EVENT.ready, 60_000);
  return w;
}

it('brings a SIGKILLed worker\'s jobs back through stalled-job recovery, each document exported once', async () => {
  // Two batches: one per worker. The victim's is the one recovered; a third would only cost CPU.
  const N = 64;
  await enqueueDocuments(longDocs(N, 'kill'), { redisUrl: redisUrl(), queue , jobOptions: KEEP_COMPLETED });
  const survivor = await worker('survivor');
  await waitFor(async () => (await q.getJobCounts('active')).active === 32, 30_000, 20);
  const victim = await worker('victim');
  await waitFor(async () => (await q.getJobCounts('active')).active >= 64, 30_000, 20);
  // Both hold 32 jobs; the victim's 32 x 512-token batch takes seconds on one thread.
  await new Promise((r) => setTimeout(r, 800));
  const activeAtKill = new Set((await q.getActive(0, -1)).map((j) => j.id!));
  const completedAtKill = (await q.getJobCounts('completed')).completed;
  const killedAt = performance.now();
  victim.kill('SIGKILL');
  expect(await victim.exited).toBe('SIGKILL');

  // The survivor reports each of the victim's jobs once its lock has expired.
  let firstStallMs = 0;
  const stalledIds = () => survivor.events(LOG_EVENT.stalled).map((e) => String(e.jobId));
  await waitFor(() => {
    if (!firstStallMs && stalledIds().length) firstStallMs = performance.now() - killedAt;
    return stalledIds().length > 0;
  }, 20_000, 20);
  const victims = () => new Set(stalledIds());
  await waitFor(async () => {
    const ids = [...victims()];
    const states = await Promise.all(ids.map((id) => q.getJobState(id)));
    return states.every((s) => s === 'completed');
  }, 90_000, 100);
  const recoveryMs = performance.now() - killedAt;
  await waitFor(async () => (await q.getJobCounts('completed')).completed === N, 90_000, 200);

  const stalled = [...victims()];
  expect(stalled.length).toBeGreaterThan(0);
  expect(stalled.length).toBeLessThanOrEqual(32);
  for (const id of stalled) expect(activeAtKill.has(id), id).toBe(true);
  expect(await q.getJobCounts('failed', 'waiting', 'active', 'delayed')).toEqual({ failed: 0, waiting: 0, active: 0, delayed: 0 });

  const out = path.join(dir, 'out.jsonl');
  const r = await runCli(['results', '--queue', queue, '--out', out]);
  expect(r.code, r.output).toBe(0);
  const records = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; workerId: string });
  expect(records).toHaveLength(N);
  expect(new Set(records.map((x) => x.id)).size).toBe(N);
  const byId = new Map(records.map((x) => [x.id, x.workerId]));
  // Job id = document id here: every recovered document was scored by the survivor.
  for (const id of stalled) expect(byId.get(id), id).toBe('survivor');
  expect(await stop(survivor)).toBe(0);
  console.log(`SIGKILL recovery: ${stalled.length} jobs of the killed worker (${completedAtKill} of ${N} completed at the kill); ` +
    `first stall detected ${(firstStallMs / 1000).toFixed(1)} s after the kill, all recovered and completed ${(recoveryMs / 1000).toFixed(1)} s after it ` +
    '(lock 2 s, stalled check 500 ms)');
}, 240_000);
