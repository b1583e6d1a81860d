/**
 * The exporter needs no write: on a Redis that is full (maxmemory below used memory, so every
 * write is refused with OOM) it still exports every result once and frees their memory, after
 * which Redis accepts writes again. That is why E_REDIS_OOM warnings say "start an exporter".
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { resultsQueueName } from '../../src/shared/queues.js';
import { bullConnection } from '../../src/shared/redis.js';
import type { OkRecord } from '../../src/shared/types.js';
import { ResultsPublisher } from '../../src/worker/results-publisher.js';
import { runCli } from '../helpers/cli.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';

let redis: PrivateRedis | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-oom-export-'));
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const record = (i: number): OkRecord => ({
  v: 1, status: 'ok', id: `d-${i}`, model: { name: 'tiny', sha256: 'a'.repeat(64) }, task: 'sentiment', workerId: 'w', finishedAt: new Date().toISOString(),
  tokenCount: 9, truncated: false, windows: 1, batchSize: 8, timings: { endToEndMs: 1, batchWaitMs: 0, inferenceMs: 1 },
  sentiment: { label: 'positive', score: 0.9, logits: [0.1, 0.9] },
});

it('exports every result of a full Redis once and frees the memory', async () => {
  redis = await startPrivateRedis();
  const admin = new Redis({ port: redis.port, maxRetriesPerRequest: 3 });
  const p = new ResultsPublisher(resultsQueueName('full'), bullConnection(redis.url), 'bull');
  await Promise.all(Array.from({ length: 250 }, (_, k) => p.publish(`pack-${k}`, Array.from({ length: 8 }, (_, j) => record(k * 8 + j)))));
  await p.close();
  const used = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
  const full = await used();
  await admin.config('SET', 'maxmemory', String(full - 200_000));
  await expect(admin.set('probe', 'x')).rejects.toThrow(/OOM command not allowed/);

  const out = path.join(dir, 'out.jsonl');
  const exp = await runCli(['results', '--queue', 'full', '--out', out], { REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
  expect(exp.code, exp.output).toBe(0);
  expect(exp.output).toContain('exported 2000 results');
  const ids = readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
  expect(new Set(ids).size).toBe(2000);
  expect(ids).toHaveLength(2000);
  expect(await admin.llen('bull:full-results:wait')).toBe(0);
  expect(await used()).toBeLessThan(full - 200_000);
  expect(await admin.set('probe', 'x')).toBe('OK');
  admin.disconnect();
}, 120_000);
