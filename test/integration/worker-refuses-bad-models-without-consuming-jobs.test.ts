/**
 * A wrong model (LFS pointer, wrong task, vocabulary larger than the
 * embedding table) stops the worker at start-up with a code and a non-zero exit, and the
 * waiting job is still waiting afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/model/config.js';
import { GENERATOR_VERSION } from '../../src/model/generate.js';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { cachedModel, TEST_MODEL_DIR, testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';

const queue = uniqueQueueName('bad-model');
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bad-start-'));
  await enqueueDocuments([{ id: 'waiting-doc', text: 'still here afterwards' }], { redisUrl: redisUrl(), queue });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  expect(await q.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({ waiting: 1, active: 0, completed: 0, failed: 0 });
  await q.close();
  await removeQueues(queue);
});

async function startWorker(model: string, extra: string[] = []): Promise<{ code: number | string; output: string }> {
  return runCli(['worker', '--queue', queue, '--model', model, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash', ...extra], {}, 60_000);
}

describe('worker start-up', () => {
  it('refuses a Git LFS pointer', async () => {
    const f = path.join(dir, 'model.onnx');
    writeFileSync(f, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 498658080\n');
    const r = await startWorker(f);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/E_MODEL_LFS_POINTER: .*git lfs pull/);
    expect(r.output).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a sequence-classification model for --task embed', async () => {
    const m = await testModel('sequence-classification', 'hf');
    const r = await startWorker(m.path, ['--task', 'embed']);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/E_MODEL_TASK_MISMATCH/);
  });

  it('refuses a tokenizer with more tokens than the embedding table', async () => {
    const small = await cachedModel({
      config: { ...PRESETS.tiny, vocabSize: 500 }, head: 'sequence-classification', signature: 'hf', seed: 1,
      out: path.join(TEST_MODEL_DIR, `tiny-vocab500-classification-hf-g${GENERATOR_VERSION}.onnx`),
    });
    const r = await startWorker(small);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/E_MODEL_VOCAB_MISMATCH: .*1024 tokens .* only 500/);
  });

  it('reports every invalid flag at once with exit code 2', async () => {
    const m = await testModel('sequence-classification', 'hf');
    const r = await startWorker(m.path, ['--device', 'gpu', '--max-batch-size', '0', '--pooling', 'max']);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/--device \(RB_DEVICE\) "gpu": expected cpu, cuda:N or auto/);
    expect(r.output).toMatch(/--max-batch-size \(RB_MAX_BATCH_SIZE\) "0"/);
    expect(r.output).toMatch(/--pooling \(RB_POOLING\) "max"/);
  });
});
