/**
 * Issue 7 point 5, exactly once across restarts. The crashed state is written directly: a
 * results consumer that acknowledged 100 results in Redis and died before writing them, and
 * the half-written `<out>.part` it left. The next `results --format parquet` keeps the rows
 * already in `<out>`, re-exports the 100 acknowledged-but-lost results from Redis' completed
 * set, drains the rest, and leaves one complete file with each id once.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { bullConnection } from '../../src/shared/redis.js';
import { resultsQueueName } from '../../src/shared/queues.js';
import type { OkRecord } from '../../src/shared/types.js';
import { ResultsPublisher } from '../../src/worker/results-publisher.js';
import { runCli } from '../helpers/cli.js';
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

async function publish(from: number, to: number): Promise<void> {
  const p = new ResultsPublisher(resultsQueueName(queue), bullConnection(redisUrl()), 'bull');
  await p.publish(Array.from({ length: to - from }, (_, k) => record(from + k)));
  await p.close();
}

const exportParquet = (out: string) => runCli(['results', '--queue', queue, '--format', 'parquet', '--out', out], { LOG_LEVEL: 'warn' });

it('keeps earlier rows, re-exports results a crashed export acknowledged, and writes each id once', async () => {
  const out = path.join(dir, 'sentiment.parquet');
  await publish(0, 250);
  const first = await exportParquet(out);
  expect(first.code, first.output).toBe(0);
  expect(readParquetTable(out).numRows).toBe(250);

  // The crashed export: 100 of 150 new results acknowledged (completed in Redis), never written.
  await publish(250, 400);
  const consumer = new Worker(resultsQueueName(queue), null, { connection: bullConnection(redisUrl()), prefix: 'bull' });
  try {
    for (let n = 0; n < 100; n++) {
      const job = (await consumer.getNextJob('crashed-export'))!;
      await job.moveToCompleted('lost', 'crashed-export', false);
    }
  } finally {
    await consumer.close();
  }
  writeFileSync(`${out}.part`, 'PAR1 half a file');

  const second = await exportParquet(out);
  expect(second.code, second.output).toBe(0);
  expect(second.output).toContain(`exported 150 results to ${out}`);
  expect(existsSync(`${out}.part`)).toBe(false);
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
