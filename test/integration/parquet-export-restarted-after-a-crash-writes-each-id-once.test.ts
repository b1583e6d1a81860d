/**
 * Exactly once across restarts, with results leaving Redis only once the Parquet file holding
 * them is complete (renamed into place). A first export writes 250 rows and empties the results
 * queue. A `--follow` export then reads 150 new results, holds them in its unfinished file and
 * is SIGKILLed: the results are still in Redis, next to a half-written `<out>.part`. The next
 * export keeps the rows already in `<out>`, writes the 150 again, and leaves one complete file
 * with each id once and an empty results queue.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { bullConnection } from '../../src/shared/redis.js';
import { resultsQueueName } from '../../src/shared/queues.js';
import type { OkRecord } from '../../src/shared/types.js';
import { ResultsPublisher } from '../../src/worker/results-publisher.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { readParquetTable } from '../helpers/parquet.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';

const queue = uniqueQueueName('pq-crash');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-pq-'));
afterAll(async () => {
  await removeQueues(queue);
  rmSync(dir, { recursive: true, force: true });
});

function record(i: number): OkRecord {
  const logits = Array.from(Float32Array.of(Math.cos(i), Math.sin(i)));
  return {
    v: 1, status: 'ok', id: `doc/${i}`, model: { name: 'tiny', sha256: 'a'.repeat(64) }, task: 'sentiment', workerId: 'w', finishedAt: new Date().toISOString(),
    tokenCount: 5 + (i % 30), truncated: false, windows: 1, batchSize: 4, timings: { endToEndMs: 2, batchWaitMs: 1, inferenceMs: 1 },
    sentiment: { label: logits[1] > logits[0] ? 'positive' : 'negative', score: 0.5 + (i % 50) / 100, logits },
  };
}

/** Result jobs of 10 records each, as workers publish packs of 10 documents. */
async function publish(from: number, to: number): Promise<void> {
  const p = new ResultsPublisher(resultsQueueName(queue), bullConnection(redisUrl()), 'bull');
  const jobs: Promise<void>[] = [];
  for (let i = from; i < to; i += 10) jobs.push(p.publish(`pack-${i}`, Array.from({ length: Math.min(10, to - i) }, (_, k) => record(i + k))));
  await Promise.all(jobs);
  await p.close();
}

async function resultJobs(): Promise<number> {
  const q = new Queue(resultsQueueName(queue), { connection: bullConnection(redisUrl()) });
  try {
    return (await q.getJobCounts('waiting')).waiting;
  } finally {
    await q.close();
  }
}

const exportParquet = (out: string) => runCli(['results', '--queue', queue, '--format', 'parquet', '--out', out], { LOG_LEVEL: 'warn' });

it('keeps earlier rows, re-exports the results a crashed export held, writes each id once and empties the results queue', async () => {
  const out = path.join(dir, 'sentiment.parquet');
  await publish(0, 250);
  const first = await exportParquet(out);
  expect(first.code, first.output).toBe(0);
  expect(readParquetTable(out).numRows).toBe(250);

  // Durable in <out>: the results left Redis.
  expect(await resultJobs()).toBe(0);

  // The crashed export: 150 new results read into an unfinished file, then SIGKILL.
  await publish(250, 400);
  const crashed = spawnCli(['results', '--queue', queue, '--format', 'parquet', '--out', out, '--follow'], { LOG_LEVEL: 'debug' });
  await crashed.waitForOutput(/"held":15\b/, 60_000);
  crashed.kill('SIGKILL');
  await crashed.exited;
  expect(await resultJobs()).toBe(15);
  writeFileSync(`${out}.part`, 'PAR1 half a file');

  const second = await exportParquet(out);
  expect(second.code, second.output).toBe(0);
  expect(second.output).toContain(`exported 150 results to ${out}`);
  expect(existsSync(`${out}.part`)).toBe(false);
  expect(await resultJobs()).toBe(0);
  const table = readParquetTable(out);
  const ids = table.getChild('id')!.toArray() as string[];
  expect(ids).toHaveLength(400);
  expect(new Set(ids)).toEqual(new Set(Array.from({ length: 400 }, (_, i) => `doc/${i}`)));
  for (let i = 0; i < table.numRows; i++) {
    const row = table.get(i)!.toJSON();
    const rec = record(Number(String(row.id).slice(4)));
    expect(Array.from(row.logits as Float32Array)).toEqual(rec.sentiment!.logits);
    expect(row.score).toBe(rec.sentiment!.score);
  }

  // Nothing new: the file is left as it is.
  const third = await exportParquet(out);
  expect(third.output).toContain('exported 0 results');
  expect(readParquetTable(out).numRows).toBe(400);
}, 120_000);
