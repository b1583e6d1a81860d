/**
 * An idle exporter does not wait out its poll interval: it blocks on the results queue's event
 * stream and reads again as soon as a worker publishes. With a 60 s poll interval, results
 * published after the exporter went idle arrive long before one interval, every time, and a
 * close() in the middle of the wait returns without waiting it out either. A Redis user that
 * may not read streams (an ACL without XREAD/XREVRANGE) still exports: the wait is then a sleep.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { ResultsExporter } from '../../src/exporter/results-exporter.js';
import { bullConnection } from '../../src/shared/redis.js';
import { resultsQueueName } from '../../src/shared/queues.js';
import type { OkRecord } from '../../src/shared/types.js';
import { ResultsPublisher } from '../../src/worker/results-publisher.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';
import { startPrivateRedis } from '../helpers/redis-server.js';
import { withDeadline } from '../helpers/test-queue.js';

const POLL_MS = 60_000;
const queue = uniqueQueueName('idle-export');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-idle-export-'));
afterAll(async () => {
  await removeQueues(queue);
  rmSync(dir, { recursive: true, force: true });
});

function record(id: string): OkRecord {
  return {
    v: 1, status: 'ok', id, model: { name: 'tiny', sha256: 'a'.repeat(64) }, task: 'sentiment', workerId: 'w', finishedAt: new Date().toISOString(),
    tokenCount: 7, truncated: false, windows: 1, batchSize: 1, timings: { endToEndMs: 2, batchWaitMs: 1, inferenceMs: 1 },
    sentiment: { label: 'positive', score: 0.75, logits: [-0.5, 0.5] },
  };
}

it('reads a result published while it was idle long before its poll interval, three times over, and closes mid-wait', async () => {
  const out = path.join(dir, 'out.jsonl');
  const exporter = new ResultsExporter({ redisUrl: redisUrl(), queue, prefix: 'bull', out, pollMs: POLL_MS });
  const publisher = new ResultsPublisher(resultsQueueName(queue), bullConnection(redisUrl()), 'bull');
  await exporter.start();
  try {
    for (let round = 1; round <= 3; round++) {
      // Idle: the queue has been read empty and the exporter is in its wait.
      await withDeadline(exporter.waitUntilDrained(20), 10_000, 'exporter idle');
      const t0 = performance.now();
      await publisher.publish(`job-${round}`, [record(`doc-${round}`)]);
      await withDeadline(exporter.waitForCount(round), POLL_MS / 2, `result ${round}`);
      expect(performance.now() - t0).toBeLessThan(POLL_MS / 2);
    }
  } finally {
    await publisher.close();
    const t0 = performance.now();
    await withDeadline(exporter.close(), POLL_MS / 2, 'exporter.close');
    expect(performance.now() - t0).toBeLessThan(POLL_MS / 2);
  }
  const ids = readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as OkRecord).id);
  expect(ids).toEqual(['doc-1', 'doc-2', 'doc-3']);
}, 120_000);

it('exports as before, polling, for a Redis user that may not read streams', async () => {
  const redis = await startPrivateRedis({ dirPrefix: 'rb-idle-export-acl-' });
  const q = uniqueQueueName('idle-export-acl');
  const out = path.join(dir, 'acl.jsonl');
  const publisher = new ResultsPublisher(resultsQueueName(q), bullConnection(redis.url), 'bull');
  let exporter: ResultsExporter | undefined;
  try {
    const admin = new Redis(redis.port, '127.0.0.1');
    await admin.call('ACL', 'SETUSER', 'exporter', 'on', '>secret', '~*', '&*', '+@all', '-xread', '-xrevrange');
    admin.disconnect();
    exporter = new ResultsExporter({ redisUrl: `redis://exporter:secret@127.0.0.1:${redis.port}`, queue: q, prefix: 'bull', out, pollMs: 50 });
    await exporter.start();
    await publisher.publish('job-a', [record('doc-a')]);
    await withDeadline(exporter.waitForCount(1), 30_000, 'result a');
    await withDeadline(exporter.waitUntilDrained(20), 10_000, 'exporter idle');
    await publisher.publish('job-b', [record('doc-b')]);
    await withDeadline(exporter.waitForCount(2), 30_000, 'result b');
  } finally {
    await publisher.close();
    await exporter?.close();
    await redis.stop();
  }
  expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as OkRecord).id)).toEqual(['doc-a', 'doc-b']);
}, 120_000);
