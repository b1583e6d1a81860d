/**
 * Redis is unreachable when the producer (`enqueue`) and the exporter
 * (`results`) start. Both log one clear "waiting for Redis" line per attempt with a growing
 * backoff (250, 500, 1000 ms...) and the reason, print no stack trace, do not exit, and carry on
 * once Redis appears. (The worker's case: worker-http-endpoints-report-liveness-readiness-metrics.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { waitFor } from '../helpers/queues.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { withDeadline } from '../helpers/test-queue.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-late-redis-'));
const spawned: Spawned[] = [];
let redis: PrivateRedis | undefined;

afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s, 5_000)));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function retryLines(s: Spawned): { attempt: number; retryInMs: number; reason: string }[] {
  return s.output().split('\n').filter((l) => l.includes('"msg":"waiting for Redis"')).map((l) => JSON.parse(l));
}

it('producer and exporter retry with backoff while Redis is down, then finish', async () => {
  const port = await freePort();
  const env = { REDIS_URL: `redis://127.0.0.1:${port}` };
  const input = path.join(dir, 'docs.jsonl');
  writeFileSync(input, toJsonl(syntheticDocs(40, 5, 'late')));
  const out = path.join(dir, 'out.jsonl');
  const producer = spawnCli(['enqueue', input, '--queue', 'late', '--no-progress'], env);
  const exporter = spawnCli(['results', '--queue', 'late', '--out', out, '--follow'], env);
  spawned.push(producer, exporter);

  // 250 + 500 + 1000 ms: four attempts within ~2 s.
  await waitFor(() => retryLines(producer).length >= 4 && retryLines(exporter).length >= 4, 15_000, 50);
  for (const s of [producer, exporter]) {
    const tries = retryLines(s);
    expect(tries.slice(0, 4).map((t) => t.retryInMs)).toEqual([250, 500, 1000, 2000]);
    expect(tries[0].reason).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(s.child.exitCode).toBeNull();
  }

  redis = await startPrivateRedis({ port });
  expect(await withDeadline(producer.exited, 30_000, 'producer'), producer.output()).toBe(0);
  expect(producer.output()).toMatch(/enqueued\s+40/);
  const model = await testModel('sequence-classification', 'hf');
  const worker = spawnCli(['worker', '--queue', 'late', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash'], env);
  spawned.push(worker);
  // The exporter creates its file once Redis answers: until then there is nothing to count.
  await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').split('\n').filter(Boolean).length === 40, 60_000, 100);
  for (const s of [producer, exporter]) expect(s.output(), s.output()).not.toMatch(/^\s+at /m);
  expect(await stop(exporter)).toBe(0);
  expect(await stop(worker)).toBe(0);
}, 120_000);
