/**
 * Issue 7 points 2 and 3: a nightly re-run with --skip-unchanged enqueues nothing when nothing
 * changed, and exactly the changed documents when some did; each run is visible in `status`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { fingerprintKey, textFingerprint } from '../../src/shared/fingerprints.js';
import { bullConnection, connect } from '../../src/shared/redis.js';
import type { OkRecord } from '../../src/shared/types.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';

const queue = uniqueQueueName('incremental');
let worker: Spawned;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rb-incremental-'));
  const model = await testModel('sequence-classification', 'hf');
  worker = spawnCli(['worker', '--queue', queue, '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--max-wait-ms', '20']);
  await worker.waitForOutput(/worker ready/);
});
afterAll(async () => {
  await stop(worker);
  const r = connect(redisUrl());
  await r.connect();
  const keys = await r.keys(`bull:${queue}:*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
  await removeQueues(queue);
});

async function completedCount(): Promise<number> {
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  try {
    return (await q.getJobCounts('completed')).completed;
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
  await waitFor(async () => (await completedCount()) === 200, 60_000);
  // The fingerprint lands right after the result: wait for the last one.
  const r = connect(redisUrl());
  await r.connect();
  await waitFor(async () => (await r.exists(fingerprintKey('bull', queue, 'night-199'))) === 1, 10_000);

  const second = await enqueueFile(file, opts);
  expect(second).toMatchObject({ enqueued: 0, skippedUnchanged: 200, rescored: 0 });

  const results = new Queue(`${queue}-results`, { connection: bullConnection(redisUrl()) });
  const before = ((await results.getJob('night-3'))!.data as OkRecord).finishedAt;
  const changed = docs.map((d, i) => (i % 20 === 3 ? { ...d, text: `${d.text} (edited)` } : d));
  writeFileSync(file, toJsonl(changed));
  const third = await enqueueFile(file, opts);
  expect(third).toMatchObject({ enqueued: 10, skippedUnchanged: 190, rescored: 10 });
  await waitFor(async () => (await results.getJob('night-3')) !== undefined && ((await results.getJob('night-3'))!.data as OkRecord).finishedAt !== before, 30_000);
  await waitFor(async () => (await completedCount()) === 200, 30_000);

  // Workers write fingerprints in the background (every 250 ms): wait for the last changed one.
  await waitFor(async () => ((await r.get(fingerprintKey('bull', queue, 'night-183'))) ?? '').endsWith(textFingerprint(changed[183].text)), 10_000);
  const fourth = await enqueueFile(file, opts);
  expect(fourth).toMatchObject({ enqueued: 0, rescored: 0 });
  const bytes = await r.memory('USAGE', fingerprintKey('bull', queue, 'night-17'));
  console.log(`fingerprint memory: ${bytes} bytes for one document (id night-17)`);
  expect(bytes).toBeLessThan(200);
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
