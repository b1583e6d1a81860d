/**
 * Whatever `run` and `eval` create for themselves they remove, on success, on failure and on
 * the first SIGINT (also when the grace period ends before the batch in flight): every Redis key (BullMQ's and the run bookkeeping `:runs`, `:run:<id>`,
 * `:fp-config`, `:fp:<job>`) and eval's temporary folder. Each case owns a private
 * redis-server, so "nothing left" is no key at all, and a private TMPDIR to look for rb-eval-*.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { longDocs, slowModel } from '../helpers/slow-model.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-leave-nothing-'));
let redis: PrivateRedis;
let tmp: string;
let spawned: Spawned | undefined;
let fast: string[];
let slow: string[];

beforeAll(async () => {
  fast = ['--model', (await testModel('sequence-classification', 'hf')).path, '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash'];
  slow = ['--model', await slowModel(), '--tokenizer', FIXTURE_TOKENIZER, '--skip-hash', '--max-batch-size', '4', '--intra-op-threads', '1'];
  writeFileSync(path.join(dir, 'small.jsonl'), toJsonl(syntheticDocs(30, 3, 'small').map((d, i) => ({ ...d, label: i % 2 }))));
  writeFileSync(path.join(dir, 'long.jsonl'), toJsonl(longDocs(48).map((d, i) => ({ ...d, label: i % 2 }))));
});

let n = 0;
async function fresh(): Promise<NodeJS.ProcessEnv> {
  redis = await startPrivateRedis();
  tmp = path.join(dir, `tmp-${n++}`);
  mkdirSync(tmp);
  return { REDIS_URL: redis.url, TMPDIR: tmp };
}

async function keysLeft(): Promise<string[]> {
  const c = new Redis(redis.url, { lazyConnect: true });
  await c.connect();
  try {
    return await c.keys('*');
  } finally {
    c.disconnect();
  }
}

/** eval's own temporary folders (onnxruntime and other libraries write their own files there too). */
const evalFolders = () => readdirSync(tmp).filter((f) => f.startsWith('rb-eval-'));

afterEach(async () => {
  if (spawned) await stop(spawned, 5_000);
  spawned = undefined;
  await redis?.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('run, done: no key left', async () => {
  const env = await fresh();
  const r = await runCli(['run', path.join(dir, 'small.jsonl'), '--out', path.join(dir, 'ok.jsonl'), ...fast], env);
  expect(r.code, r.output.slice(-2000)).toBe(0);
  expect(await keysLeft()).toEqual([]);
});

it('run, failed after its queues existed (wrong task for the model): no key left', async () => {
  const env = await fresh();
  const r = await runCli(['run', path.join(dir, 'small.jsonl'), '--out', path.join(dir, 'fail.jsonl'), ...fast, '--task', 'embed'], env);
  expect(r.code, r.output.slice(-2000)).toBe(1);
  expect(r.output).toMatch(/E_MODEL_TASK_MISMATCH/);
  expect(await keysLeft()).toEqual([]);
});

it('run, interrupted by SIGINT: E_SHUTDOWN and no key left', async () => {
  const env = await fresh();
  spawned = spawnCli(['run', path.join(dir, 'long.jsonl'), '--out', path.join(dir, 'int.jsonl'), ...slow], env);
  await spawned.waitForOutput(/enqueue finished/, 60_000);
  spawned.kill('SIGINT');
  expect(await spawned.exited, spawned.output().slice(-2000)).toBe(1);
  expect(spawned.output()).toMatch(/E_SHUTDOWN: run run-\S+ interrupted/);
  expect(await keysLeft()).toEqual([]);
}, 120_000);

it('run, interrupted with --shutdown-grace-ms 0: the batch in flight is given up, and it re-creates no key when it ends', async () => {
  // One job per batch of the slow model (4 long documents each), interrupted once the first
  // batch is done, so the next one is inside onnxruntime: the grace period (none) is over at
  // once, `run` removes its queues and exits, and the process waits for that batch to end.
  // Before the worker closed its connections when its grace ran out, that batch's job then
  // published its results and markers into the removed queues.
  const env = await fresh();
  spawned = spawnCli(['run', path.join(dir, 'long.jsonl'), '--out', path.join(dir, 'grace.jsonl'), ...slow, '--docs-per-job', '4', '--shutdown-grace-ms', '0'], { ...env, LOG_LEVEL: 'debug' });
  await spawned.waitForEvent(LOG_EVENT.batch, 60_000);
  spawned.kill('SIGINT');
  expect(await spawned.exited, spawned.output().slice(-2000)).toBe(1);
  expect(spawned.output()).toMatch(/E_SHUTDOWN: run run-\S+ interrupted/);
  expect(spawned.output()).toMatch(/grace period over/);
  expect(spawned.output()).not.toMatch(/^\s+at /m);
  expect(await keysLeft(), spawned.output().slice(-3000)).toEqual([]);
}, 120_000);

it('eval, done: no key and no temporary file left', async () => {
  const env = await fresh();
  const r = await runCli(['eval', '--data', path.join(dir, 'small.jsonl'), '--label-field', 'label', ...fast], env);
  expect(r.code, r.output.slice(-2000)).toBe(0);
  expect(await keysLeft()).toEqual([]);
  expect(evalFolders()).toEqual([]);
});

it('eval, interrupted by SIGINT: E_SHUTDOWN with a message, no key and no temporary file left', async () => {
  const env = await fresh();
  spawned = spawnCli(['eval', '--data', path.join(dir, 'long.jsonl'), '--label-field', 'label', ...slow], env);
  await spawned.waitForOutput(/enqueue finished/, 60_000);
  expect(evalFolders()).toHaveLength(1);
  spawned.kill('SIGINT');
  expect(await spawned.exited, spawned.output().slice(-2000)).toBe(1);
  expect(spawned.output()).toMatch(/E_SHUTDOWN: eval of \S+ interrupted: no report/);
  expect(spawned.output()).not.toMatch(/^\s+at /m);
  expect(await keysLeft()).toEqual([]);
  expect(evalFolders()).toEqual([]);
}, 120_000);
