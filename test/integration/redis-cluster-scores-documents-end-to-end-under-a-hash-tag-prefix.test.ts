/**
 * A real 3-master Redis Cluster (started here, stopped by pid) runs the whole
 * path: enqueue → a worker (in the test process, built from the same config fields the CLI
 * parses) → one result per document, with --prefix '{rb}' so each queue's keys share one hash
 * slot. The worker CLI refuses the default prefix there (exit 2).
 */
import { Queue } from 'bullmq';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection, connect } from '../../src/shared/redis.js';
import { recordsOf } from '../../src/shared/result-job.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { uniqueQueueName, waitFor } from '../helpers/queues.js';
import { startRedisCluster, type PrivateCluster } from '../helpers/redis-cluster.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';

let cluster: PrivateCluster | undefined;
let worker: RobertaWorker | undefined;
beforeAll(async () => { cluster = await startRedisCluster(); }, 60_000);
afterAll(async () => {
  if (worker) await closeWorker(worker);
  await cluster?.stop();
});

it('enqueues, scores and publishes 120 documents through a worker', async () => {
  const url = cluster!.url;
  const queue = uniqueQueueName('cluster');
  const prefix = '{rb}';
  const docs = syntheticDocs(120, 11);
  const summary = await enqueueDocuments(docs, { redisUrl: url, queue, prefix });
  expect(summary.enqueued).toBe(120);

  const model = await testModel('sequence-classification', 'hf');
  worker = inProcessWorker({ queue, prefix, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, redisUrl: url });
  await worker.start();

  const results = new Queue(`${queue}-results`, { connection: bullConnection(url), prefix });
  try {
    await waitFor(async () => (await results.getJobCounts('waiting')).waiting === 120, 60_000, 200);
    const records = (await results.getJobs(['waiting'], 0, -1)).flatMap((j) => recordsOf(j.data));
    expect(new Set(records.map((r) => r.id))).toEqual(new Set(docs.map((d) => d.id)));
    expect(records.every((r) => r.status === 'ok' && r.sentiment)).toBe(true);
  } finally {
    await results.close();
  }
  expect(await closeWorker(worker)).toBe(true);
  worker = undefined;

  // Every key of the run sits in the slot of the {rb} tag, on one master.
  const client = connect(url);
  await client.connect();
  try {
    const slot = Number(await client.cluster('KEYSLOT', `${prefix}:${queue}:wait`));
    expect(Number(await client.cluster('KEYSLOT', `${prefix}:${queue}-results:wait`))).toBe(slot);
    // COUNTKEYSINSLOT answers for the node asked: only the slot's owner holds keys of it.
    const counts = await Promise.all((client as Cluster).nodes('master').map(async (n) => Number(await n.cluster('COUNTKEYSINSLOT', slot))));
    expect(counts.filter((n) => n > 0)).toHaveLength(1);
    // Completed document jobs are removed (a marker each stays, in one hash): what is left is the
    // 120 unexported result jobs, the queues' own keys and the markers, every key of this private
    // cluster, all in the tag's slot.
    const keysInCluster = (await Promise.all((client as Cluster).nodes('master').map(async (n) => Number(await n.dbsize())))).reduce((a, b) => a + b, 0);
    expect(Math.max(...counts)).toBeGreaterThan(120);
    expect(Math.max(...counts)).toBe(keysInCluster);
  } finally {
    client.disconnect();
  }
}, 120_000);

it('refuses the default prefix on a cluster URL before connecting (exit 2, E_CONFIG)', async () => {
  const { code, output } = await runCli(['worker', '--queue', 'x', '--model', 'none.onnx'], { REDIS_URL: cluster!.url }, 30_000);
  expect(code).toBe(2);
  expect(output).toContain('E_CONFIG');
  expect(output).toContain("--prefix '{rb}'");
}, 60_000);
