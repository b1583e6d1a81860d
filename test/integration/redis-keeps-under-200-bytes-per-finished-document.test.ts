/**
 * Bounded Redis: after a service-mode run (enqueue, then `worker --task embed`, then `results
 * --out`) of 2,000 documents with 768-dim embeddings, what Redis still holds is one compact
 * marker per document: at most 200 bytes per document (used_memory delta / documents), and a
 * re-enqueue of the same file is still deduplicated. The old layout kept every job and result
 * with its data: 19,687 bytes per document for the same run.
 *
 * Private redis-server; a generated 1-layer RoBERTa graph of hidden size 768 (vocabulary of the
 * sample tokenizer). Before is measured after a warm-up run on another queue whose keys are
 * then deleted: the first BullMQ run on a Redis adds ~1 MB to used_memory once (script cache,
 * Lua VM), whatever the number of documents; the delta from the empty Redis is printed too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { GENERATOR_VERSION } from '../../src/model/generate.js';
import { PRESETS } from '../../src/model/config.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs, toJsonl } from '../helpers/corpus.js';
import { cachedModel, TEST_MODEL_DIR } from '../helpers/models.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';

const N = 2_000;
let redis: PrivateRedis;
let admin: Redis;
const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bounded-'));
const spawned: Spawned[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  admin = new Redis({ port: redis.port, maxRetriesPerRequest: 3 });
});
afterAll(async () => {
  await Promise.all(spawned.map((s) => stop(s)));
  admin?.disconnect();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);

/** enqueue, worker until the queue is done, results --out: the README's service mode. */
async function serviceRun(queue: string, input: string, out: string, model: string): Promise<string> {
  const env = { REDIS_URL: redis.url, LOG_LEVEL: 'warn' };
  const enq = await runCli(['enqueue', input, '--queue', queue, '--no-progress'], env);
  expect(enq.code, enq.output).toBe(0);
  // --max-length 16: what Redis keeps does not depend on how many tokens were scored (the
  // embeddings are 768 floats either way), and 2,000 documents at full length cost ~4x the CPU.
  const worker = spawnCli(['worker', '--queue', queue, '--task', 'embed', '--model', model, '--tokenizer', FIXTURE_TOKENIZER,
    '--metrics-port', '0', '--skip-hash', '--intra-op-threads', '1', '--max-length', '16'], { ...env, LOG_LEVEL: 'info' });
  spawned.push(worker);
  await worker.waitForEvent(LOG_EVENT.ready, 60_000);
  for (;;) {
    const waiting = await admin.llen(`bull:${queue}:wait`) + await admin.llen(`bull:${queue}:active`);
    if (waiting === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await stop(worker)).toBe(0);
  const exp = await runCli(['results', '--queue', queue, '--out', out], env);
  expect(exp.code, exp.output).toBe(0);
  return enq.output;
}

it('holds at most 200 bytes per finished document and still deduplicates a re-enqueue', async () => {
  const model = path.join(TEST_MODEL_DIR, `l1-h768-v1024-base-hf-g${GENERATOR_VERSION}.onnx`);
  await cachedModel({
    config: { ...PRESETS.tiny, vocabSize: 1024, hiddenSize: 768, numLayers: 1, numHeads: 12, intermediateSize: 768, maxPositions: 130 },
    head: 'base', signature: 'hf', seed: 5, out: model,
  });
  const docs = syntheticDocs(N, 31, 'review');
  const input = path.join(dir, 'reviews.jsonl');
  writeFileSync(input, toJsonl(docs));
  const warm = path.join(dir, 'warm.jsonl');
  writeFileSync(warm, toJsonl(docs.slice(0, 20).map((d) => ({ ...d, id: `warm-${d.id}` }))));

  const empty = await usedMemory();
  await serviceRun('warmup', warm, path.join(dir, 'warm.out.jsonl'), model);
  const warmKeys = await admin.keys('bull:warmup*');
  await admin.del(...warmKeys);
  const before = await usedMemory();

  await serviceRun('nightly', input, path.join(dir, 'out.jsonl'), model);
  const lines = readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
  expect(lines).toHaveLength(N);
  expect(JSON.parse(lines[0]).embedding.embedding).toHaveLength(768);
  const after = await usedMemory();
  const perDoc = (after - before) / N;
  const keys = await admin.keys('*');
  console.log(`Redis after a ${N}-document 768-dim service run and export: ${Math.round(perDoc)} bytes/document ` +
    `(used_memory ${before} -> ${after}; from an empty Redis, scripts included: ${Math.round((after - empty) / N)}); ${keys.length} keys: ${keys.sort().join(' ')}`);
  expect(perDoc).toBeLessThanOrEqual(200);
  expect(await admin.hlen('bull:nightly:done')).toBe(N);

  // The same file again: every document is known, nothing is added.
  const again = await runCli(['enqueue', input, '--queue', 'nightly', '--no-progress', '--json'], { REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
  expect(again.code, again.output).toBe(0);
  const summary = JSON.parse(again.output.split('\n').find((l) => l.startsWith('{"runId"'))!) as { enqueued: number; alreadyQueued: number };
  expect(summary).toMatchObject({ enqueued: 0, alreadyQueued: N });
  expect(await admin.llen('bull:nightly:wait')).toBe(0);
}, 300_000);
