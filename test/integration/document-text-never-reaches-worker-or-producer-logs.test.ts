/**
 * Documents are logged by id, never by text, at every log level. A unique text
 * is planted in a good document, in documents the worker fails (lone surrogate, over
 * --max-doc-bytes), in a document the producer rejects (over its --max-doc-bytes) and in a line
 * that is not JSON; neither the producer's nor the worker's debug output, nor the errors file,
 * holds it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, expect, it } from 'vitest';
import { bullConnection } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor, finishedDocuments } from '../helpers/queues.js';
import { withDeadline } from '../helpers/test-queue.js';

const queue = uniqueQueueName('no-text-logs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-no-text-'));
let worker: Spawned | undefined;

afterAll(async () => {
  if (worker) await stop(worker);
  await withDeadline(removeQueues(queue), 10_000, 'removeQueues');
  rmSync(dir, { recursive: true, force: true });
});

it('keeps a planted text out of producer and worker logs at debug level', async () => {
  const secret = `planted-${randomUUID()}`;
  const lines = [
    { id: 'good', text: `A fine film. ${secret} Loved it.` },
    { id: 'surrogate', text: `${secret} \ud800 broken` },
    { id: 'worker-too-large', text: `${secret} ${'word '.repeat(900)}` },
    { id: 'producer-too-large', text: `${secret} ${'word '.repeat(3000)}` },
  ].map((d) => JSON.stringify(d));
  lines.push(`{"id": "not-json", "text": "${secret}`);
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, `${lines.join('\n')}\n`);
  const errorsOut = path.join(dir, 'errors.jsonl');
  const env = { LOG_LEVEL: 'debug' };

  // One job per document: the worker's failures are counted below as failed BullMQ jobs.
  const enq = await runCli(['enqueue', input, '--queue', queue, '--max-doc-bytes', '10000', '--errors-out', errorsOut, '--no-progress', '--docs-per-job', '1'], env, 60_000);
  expect(enq.code, enq.output).toBe(0);
  expect(enq.output).toMatch(/enqueued\s+3/);
  expect(enq.output).toMatch(/rejected\s+2/);

  const model = await testModel('sequence-classification', 'hf');
  worker = spawnCli(['worker', '--queue', queue, '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash', '--max-doc-bytes', '4000'], env);
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  try {
    await waitFor(async () => {
      // One scored, two failed by the worker: three markers (completed jobs are removed).
      const c = await q.getJobCounts('failed');
      return c.failed === 2 && (await finishedDocuments(queue)) === 3;
    }, 60_000, 100);
  } finally {
    await withDeadline(q.close(), 5_000, 'queue.close');
  }
  expect(await stop(worker)).toBe(0);
  const workerLog = worker.output();
  worker = undefined;
  expect(workerLog).toMatch(/"level":20/); // debug lines were written
  for (const [what, text] of [['producer', enq.output], ['worker', workerLog], ['errors file', readFileSync(errorsOut, 'utf8')]]) {
    expect(text.includes(secret), `${what} output holds the document text`).toBe(false);
  }
}, 120_000);
