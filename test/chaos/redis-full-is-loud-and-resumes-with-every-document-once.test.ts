/**
 * A full Redis (maxmemory reached, noeviction) is loud and never loses or doubles a document.
 * A private redis-server gets a maxmemory a little above its empty state; a worker runs, no
 * exporter, and a producer enqueues documents of ~2 KB until Redis refuses writes:
 * - producer and worker log E_REDIS_OOM naming used and maximum memory; the worker's /readyz
 *   says so and its metrics show roberta_batch_redis_oom 1 and refusals counted;
 * - a second producer stopped (SIGINT) while Redis refuses it exits 1 and reports the
 *   documents it could not add (`notEnqueued`), not success;
 * - once maxmemory is raised, every process resumes by itself: the first producer finishes,
 *   the second one, run again, adds what it had not, and the export holds every id once.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/queues.js';
import { withDeadline } from '../helpers/test-queue.js';

let redis: PrivateRedis | undefined;
const spawned: Spawned[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-oom-'));
afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s, 3_000)));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const docsOf = (n: number, seed: number, prefix: string) =>
  syntheticDocs(n, seed, prefix).map((d, i) => ({ ...d, text: `${d.text} ${'filler words for size '.repeat(90)}${i}` }));

it('logs E_REDIS_OOM, reports it in /readyz and metrics, and resumes with every document once after maxmemory is raised', async () => {
  redis = await startPrivateRedis();
  const admin = new Redis({ port: redis.port, maxRetriesPerRequest: 3 });
  const env = { REDIS_URL: redis.url };
  const model = await testModel('sequence-classification', 'hf');
  // --max-length 16: the ~2 KB documents are there to fill Redis, not to be scored at length;
  // 16 tokens instead of 512 each take the worker's CPU from most of this test to a fraction.
  const worker = spawnCli(['worker', '--queue', 'full', '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash',
    '--intra-op-threads', '1', '--lock-duration-ms', '5000', '--stalled-interval-ms', '1000', '--max-length', '16'], env);
  spawned.push(worker);
  const line = await worker.waitForOutput(/"url":"http:\/\/127\.0\.0\.1:\d+\/metrics"/, 60_000);
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
  await worker.waitForEvent(LOG_EVENT.ready, 60_000);

  // Room for ~1.5 MB more than now (BullMQ's scripts are loaded): 3,000 documents of ~2 KB do not fit.
  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
  await admin.config('SET', 'maxmemory', String(used + 1_500_000));

  const first = docsOf(3_000, 41, 'full');
  const second = docsOf(200, 42, 'late');
  writeFileSync(path.join(dir, 'first.jsonl'), toJsonl(first));
  writeFileSync(path.join(dir, 'second.jsonl'), toJsonl(second));
  const producer = spawnCli(['enqueue', path.join(dir, 'first.jsonl'), '--queue', 'full', '--no-progress', '--json'], env);
  spawned.push(producer);
  await producer.waitForOutput(/E_REDIS_OOM: Redis is full \(used [\d.]+ MB of maxmemory [\d.]+ MB\)/, 60_000);
  await worker.waitForOutput(/E_REDIS_OOM/, 60_000);
  expect(producer.output()).toMatch(/raise maxmemory/);

  // The worker's state can flip back for a moment while removing a finished job frees a little
  // memory; with no exporter, results fill Redis again and the refusals hold, so poll for it.
  let ready = { status: 0, body: '' };
  let metrics = '';
  await waitFor(async () => {
    const res = await fetch(`${base}/readyz`);
    ready = { status: res.status, body: await res.text() };
    metrics = await (await fetch(`${base}/metrics`)).text();
    return ready.status === 503 && /^roberta_batch_redis_oom 1$/m.test(metrics);
  }, 60_000, 100);
  expect(ready.body).toMatch(/E_REDIS_OOM/);
  expect(metrics).toMatch(/^roberta_batch_redis_oom_refusals_total\{component="worker"\} [1-9]/m);

  // Stopped while refused: the summary says what was not added, and the exit code is not 0.
  const stopped = spawnCli(['enqueue', path.join(dir, 'second.jsonl'), '--queue', 'full', '--no-progress', '--json'], env);
  spawned.push(stopped);
  // Refused while adding documents it has read (not only while registering the run, which
  // comes first and would leave nothing to report as not enqueued).
  await stopped.waitForOutput(/E_REDIS_OOM[^\n]*adding jobs/, 60_000);
  stopped.kill('SIGINT');
  expect(await withDeadline(stopped.exited, 30_000, 'stopped producer')).toBe(1);
  const partial = JSON.parse(stopped.output().split('\n').find((l) => l.startsWith('{"runId"'))!) as { enqueued: number; notEnqueued: number; aborted: boolean };
  expect(partial.aborted).toBe(true);
  expect(partial.notEnqueued).toBeGreaterThan(0);
  expect(partial.enqueued + partial.notEnqueued).toBeLessThanOrEqual(second.length);

  // More memory: everything resumes without a restart.
  await admin.config('SET', 'maxmemory', '0');
  expect(await withDeadline(producer.exited, 120_000, 'producer'), producer.output()).toBe(0);
  const summary = JSON.parse(producer.output().split('\n').find((l) => l.startsWith('{"runId"'))!) as { enqueued: number; notEnqueued: number; redisOomRefusals: number };
  expect(summary).toMatchObject({ enqueued: first.length, notEnqueued: 0 });
  expect(summary.redisOomRefusals).toBeGreaterThan(0);
  const rerun = await runCli(['enqueue', path.join(dir, 'second.jsonl'), '--queue', 'full', '--no-progress', '--json'], env);
  expect(rerun.code, rerun.output).toBe(0);
  const total = first.length + second.length;
  await waitFor(async () => (await admin.hlen('bull:full:done')) === total, 120_000, 200);
  await worker.waitForOutput(/Redis accepts writes again/, 10_000);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);

  const out = path.join(dir, 'out.jsonl');
  const exp = await runCli(['results', '--queue', 'full', '--out', out], env);
  expect(exp.code, exp.output).toBe(0);
  const ids = readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
  expect(ids).toHaveLength(total);
  expect(new Set(ids)).toEqual(new Set([...first, ...second].map((d) => d.id)));
  for (const s of [worker, producer]) expect(s.output()).not.toMatch(/^\s+at /m);
  admin.disconnect();
}, 300_000);
