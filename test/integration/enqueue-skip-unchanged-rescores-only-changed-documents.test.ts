/**
 * A nightly re-run with --skip-unchanged enqueues nothing when nothing
 * changed, and exactly the changed documents when some did; each run is visible in `status`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { textFingerprint } from '../../src/shared/fingerprints.js';
import { doneKey } from '../../src/shared/done-markers.js';
import { bullConnection, connect } from '../../src/shared/redis.js';
import { recordsOf } from '../../src/shared/result-job.js';
import type { OkRecord } from '../../src/shared/types.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';

const queue = uniqueQueueName('incremental');
let worker: RobertaWorker | undefined;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rb-incremental-'));
  const model = await testModel('sequence-classification', 'hf');
  // In the test process: what is tested is the producer's skipping, against a real worker's markers.
  worker = inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, maxWaitMs: 20 });
  await worker.start();
});
afterAll(async () => {
  if (worker) await closeWorker(worker);
  rmSync(dir, { recursive: true, force: true });
  const r = connect(redisUrl());
  await r.connect();
  const keys = await r.keys(`bull:${queue}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
  await removeQueues(queue);
});

/** Finished documents: completed jobs are removed, each leaves a marker in the queue's done hash. */
async function doneCount(): Promise<number> {
  const r = connect(redisUrl());
  await r.connect();
  try {
    return await r.hlen(doneKey('bull', queue));
  } finally {
    r.disconnect();
  }
}

async function unfinished(): Promise<number> {
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  try {
    const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return c.waiting + c.active + c.delayed + c.prioritized;
  } finally {
    await q.close();
  }
}

it('re-scores exactly the changed documents', async () => {
  const docs = syntheticDocs(200, 21, 'night');
  const file = path.join(dir, 'archive.jsonl');
  writeFileSync(file, toJsonl(docs));
  const opts = { redisUrl: redisUrl(), queue, skipUnchanged: true, inputLabel: 'archive.jsonl' };

  const first = await enqueueFile(file, opts);
  expect(first).toMatchObject({ enqueued: 200, skippedUnchanged: 0, rescored: 0 });
  await waitFor(async () => (await doneCount()) === 200 && (await unfinished()) === 0, 60_000);
  const r = connect(redisUrl());
  await r.connect();

  const second = await enqueueFile(file, opts);
  expect(second).toMatchObject({ enqueued: 0, skippedUnchanged: 200, rescored: 0 });

  const results = new Queue(`${queue}-results`, { connection: bullConnection(redisUrl()) });
  const record = async (id: string) => recordsOf((await results.getJob(id))?.data)[0] as OkRecord | undefined;
  const before = (await record('night-3'))!.finishedAt;
  const changed = docs.map((d, i) => (i % 20 === 3 ? { ...d, text: `${d.text} (edited)` } : d));
  writeFileSync(file, toJsonl(changed));
  const third = await enqueueFile(file, opts);
  expect(third).toMatchObject({ enqueued: 10, skippedUnchanged: 190, rescored: 10 });
  await waitFor(async () => (await record('night-3'))?.finishedAt !== before, 30_000);
  // The marker of a changed document is replaced with its new result.
  await waitFor(async () => ((await r.hget(doneKey('bull', queue), 'night-183')) ?? '').endsWith(textFingerprint(changed[183].text)) && (await unfinished()) === 0, 30_000);
  expect(await doneCount()).toBe(200);
  const fourth = await enqueueFile(file, opts);
  expect(fourth).toMatchObject({ enqueued: 0, rescored: 0 });
  r.disconnect();
  await results.close();

  const status = await runCli(['status', '--queue', queue, '--json']);
  expect(status.code, status.output).toBe(0);
  const report = JSON.parse(status.output) as { runs: { runId: string; enqueued: number; done: number; failed: number; complete: boolean; input: string }[] };
  expect(report.runs).toHaveLength(4);
  const byId = new Map(report.runs.map((x) => [x.runId, x]));
  expect(byId.get(first.runId)).toMatchObject({ enqueued: 200, done: 200, failed: 0, complete: true, input: 'archive.jsonl' });
  expect(byId.get(third.runId)).toMatchObject({ enqueued: 10, done: 10, complete: true });
  const text = await runCli(['status', '--queue', queue, '--run', first.runId]);
  expect(text.output).toMatch(new RegExp(`${first.runId}\\s+complete\\s+queued 200\\s+done 200\\s+failed 0`));
}, 120_000);
