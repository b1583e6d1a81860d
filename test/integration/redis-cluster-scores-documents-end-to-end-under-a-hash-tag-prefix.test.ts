/**
 * A real 3-master Redis Cluster (started here, stopped by pid) runs the whole
 * path: enqueue → the worker CLI → one result per document, with --prefix '{rb}' so each
 * queue's keys share one hash slot. The same CLI refuses the default prefix there (exit 2).
 */
import { Queue } from 'bullmq';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { bullConnection, connect } from '../../src/shared/redis.js';
import { recordsOf } from '../../src/shared/types.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { uniqueQueueName, waitFor } from '../helpers/queues.js';
import { startRedisCluster, type PrivateCluster } from '../helpers/redis-cluster.js';

let cluster: PrivateCluster | undefined;
let worker: Spawned | undefined;
beforeAll(async () => { cluster = await startRedisCluster(); }, 60_000);
afterAll(async () => {
  if (worker) await stop(worker);
  await cluster?.stop();
});

it('enqueues, scores and publishes 120 documents through the worker CLI', async () => {
  const url = cluster!.url;
  const queue = uniqueQueueName('cluster');
  const prefix = '{rb}';
  const docs = syntheticDocs(120, 11);
  const summary = await enqueueDocuments(docs, { redisUrl: url, queue, prefix });
  expect(summary.enqueued).toBe(120);

  const model = await testModel('sequence-classification', 'hf');
  worker = spawnCli(['worker', '--queue', queue, '--prefix', prefix, '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash'], { REDIS_URL: url });
  await worker.waitForEvent(LOG_EVENT.ready, 60_000);

  const results = new Queue(`${queue}-results`, { connection: bullConnection(url), prefix });
  try {
    await waitFor(async () => (await results.getJobCounts('waiting')).waiting === 120, 60_000, 200);
    const records = (await results.getJobs(['waiting'], 0, -1)).flatMap((j) => recordsOf(j.data));
    expect(new Set(records.map((r) => r.id))).toEqual(new Set(docs.map((d) => d.id)));
    expect(records.every((r) => r.status === 'ok' && r.sentiment)).toBe(true);
  } finally {
    await results.close();
  }
  expect(await stop(worker)).toBe(0);
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
