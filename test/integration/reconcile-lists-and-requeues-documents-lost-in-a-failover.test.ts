/**
 * After a failover that lost writes (result jobs and document markers deleted), `reconcile`
 * lists exactly the documents with neither a result nor a recorded failure, reports queued ones
 * as in progress and published-but-unmarked ones as ok, and `--requeue` + a worker completes
 * the missing ones, after which a second reconcile lists nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, expect, it } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { jobIdForDocument } from '../../src/shared/job-id.js';
import { bullConnection, connect } from '../../src/shared/redis.js';
import { doneKey } from '../../src/shared/done-markers.js';
import type { ReconcileReport } from '../../src/pipeline/reconcile.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { withDeadline } from '../helpers/test-queue.js';

const queue = uniqueQueueName('reconcile');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-reconcile-'));
const input = path.join(dir, 'docs.jsonl');
const spawned: Spawned[] = [];
const main = new Queue(queue, { connection: bullConnection(redisUrl()) });
const results = new Queue(`${queue}-results`, { connection: bullConnection(redisUrl()) });

afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s)));
  await withDeadline(Promise.all([main.close(), results.close()]), 5_000, 'queue.close');
  await withDeadline(removeQueues(queue), 10_000, 'removeQueues');
  rmSync(dir, { recursive: true, force: true });
});

async function startWorker(model: string): Promise<Spawned> {
  const w = spawnCli(['worker', '--queue', queue, '--model', model, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash', '--intra-op-threads', '1']);
  spawned.push(w);
  await w.waitForEvent(LOG_EVENT.ready);
  return w;
}

async function reconcileCli(...extra: string[]): Promise<ReconcileReport> {
  const r = await runCli(['reconcile', input, '--queue', queue, '--json', ...extra]);
  expect(r.code, r.output).toBe(0);
  return JSON.parse(r.output.split('\n').find((l) => l.startsWith('{"queue"'))!) as ReconcileReport;
}


it('lists exactly the lost documents, requeues them, and then lists none', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const docs = syntheticDocs(200, 23, 'rc');
  // One document the worker fails on record (empty text), one line that is not a document.
  const lines = [...docs.map((d) => JSON.stringify(d)), JSON.stringify({ id: 'rc-empty', text: '' }), '{"id": "rc-broken", "text": '];
  writeFileSync(input, `${lines.join('\n')}\n`);
  const enq = await enqueueFile(input, { redisUrl: redisUrl(), queue });
  expect(enq.enqueued).toBe(201);

  let worker = await startWorker(model.path);
  await waitFor(async () => (await results.getJobCounts('waiting')).waiting === 201, 60_000, 200);
  expect(await stop(worker)).toBe(0);

  // Completed jobs are removed: what a document leaves is its result job and its marker.
  expect((await main.getJobCounts('completed')).completed).toBe(0);
  // The failover: 9 documents lost entirely (result and marker), 3 whose marker was lost but
  // whose result is still waiting to be exported, 2 whose job is back in the queue but not
  // processed yet.
  const lost = docs.slice(10, 19).map((d) => d.id);
  const unmarked = docs.slice(50, 53).map((d) => d.id);
  const queued = docs.slice(100, 102);
  const r = connect(redisUrl());
  await r.connect();
  for (const id of [...lost, ...unmarked, ...queued.map((d) => d.id)]) await r.hdel(doneKey('bull', queue), id);
  r.disconnect();
  for (const id of [...lost, ...queued.map((d) => d.id)]) await results.remove(jobIdForDocument(id));
  for (const d of queued) await main.add('docs', { v: 1, docs: [d] }, { jobId: jobIdForDocument(d.id) });

  const before = await reconcileCli();
  expect(before.missing.sort()).toEqual([...lost].sort());
  expect(before.inProgress.sort()).toEqual(queued.map((d) => d.id).sort());
  expect(before).toMatchObject({ documents: 201, ok: 200 - 11, failed: 1, unreadableLines: 1, staleJobsRemoved: 0 });

  const requeued = await reconcileCli('--requeue');
  expect(requeued.missing).toHaveLength(9);
  expect(requeued.staleJobsRemoved).toBe(0);
  expect(requeued.requeue).toMatchObject({ enqueued: 9, alreadyQueued: 0 });

  worker = await startWorker(model.path);
  await waitFor(async () => (await results.getJobCounts('waiting')).waiting === 201, 60_000, 200);
  const after = await reconcileCli();
  expect(after).toMatchObject({ documents: 201, ok: 200, failed: 1, missing: [], inProgress: [] });
  // Requeueing again is a no-op: nothing is missing.
  expect((await reconcileCli('--requeue')).requeue).toBeUndefined();
  expect(await stop(worker)).toBe(0);
}, 150_000);
