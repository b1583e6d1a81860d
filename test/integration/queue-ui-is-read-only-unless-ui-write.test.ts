/**
 * `worker --ui` serves bull-board at /ui on its metrics server (127.0.0.1):
 * the page loads, its API lists the documents queue and the results queue, and a write
 * (retry every failed job) is refused with 405 because the UI is read-only by default.
 * With write access (--ui-write) the same request is carried out.
 */
import { afterEach, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { startMetricsServer, type MetricsServer } from '../../src/shared/http-server.js';
import { createQueueUi, UI_PATH, type QueueUi } from '../../src/ui/queue-ui.js';
import { bullConnection } from '../../src/shared/redis.js';
import { FIXTURE_TOKENIZER, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';

/** Completed jobs are kept here (the default removes them) so the test can read their states. */
const KEEP_COMPLETED = { removeOnComplete: false } as const;

let worker: Spawned | undefined;
let server: MetricsServer | undefined;
let ui: QueueUi | undefined;
let queue = '';
afterEach(async () => {
  if (worker) await stop(worker);
  worker = undefined;
  await ui?.close();
  await server?.close();
  ui = undefined;
  server = undefined;
  await removeQueues(queue);
});

it('serves the page and the queue list, and refuses writes (405) in read-only mode', async () => {
  queue = uniqueQueueName('ui');
  await enqueueDocuments(syntheticDocs(5, 2), { redisUrl: redisUrl(), queue , jobOptions: KEEP_COMPLETED });
  const model = await testModel('sequence-classification', 'hf');
  worker = spawnCli(['worker', '--queue', queue, '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--skip-hash', '--ui']);
  const line = await worker.waitForOutput(/"url":"http:\/\/127\.0\.0\.1:\d+\/ui"/, 60_000);
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];

  const page = await fetch(`${base}${UI_PATH}`);
  expect(page.status).toBe(200);
  expect((await fetch(`${base}${UI_PATH}/`)).status).toBe(200); // the page's <base href="/ui/">
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  const html = await page.text();
  expect(html).toContain(`roberta-batch: ${queue}`);
  // the page's own script and style load from the same mount
  const asset = /src="((?:[^"]*\/)?static\/js\/main[^"]+\.js)"/.exec(html)![1];
  expect((await fetch(new URL(asset, `${base}${UI_PATH}/`))).status).toBe(200);

  await waitFor(async () => {
    const res = await fetch(`${base}${UI_PATH}/api/queues`);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[] };
    const docs = body.queues.find((q) => q.name === queue);
    return body.queues.some((q) => q.name === `${queue}-results`) && docs?.readOnlyMode === true && docs.counts.completed === 5;
  }, 30_000, 200);

  for (const write of ['retry/failed', 'clean/completed', 'pause']) {
    expect((await fetch(`${base}${UI_PATH}/api/queues/${queue}/${write}`, { method: 'PUT' })).status, write).toBe(405);
  }
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  expect((await q.getJobCounts('completed')).completed).toBe(5);
  expect(await q.isPaused()).toBe(false);
  await q.close();
  expect(worker.output()).not.toContain(syntheticDocs(5, 2)[0].text); // the UI logs no document text
}, 90_000);

it('carries out the same write with write access (--ui-write)', async () => {
  queue = uniqueQueueName('ui-write');
  await enqueueDocuments(syntheticDocs(3, 4), { redisUrl: redisUrl(), queue });
  ui = createQueueUi({ redisUrl: redisUrl(), prefix: 'bull', queue, write: true });
  server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: () => '', contentType: 'text/plain', health: { ready: () => ({ ready: true, reasons: [] }) } });
  server.mount(UI_PATH, ui.handler);
  const base = `http://127.0.0.1:${server.port}`;
  const res = await fetch(`${base}${UI_PATH}/api/queues/${queue}/pause`, { method: 'PUT' });
  expect(res.status).toBe(200);
  const q = new Queue(queue, { connection: bullConnection(redisUrl()) });
  expect(await q.isPaused()).toBe(true);
  await q.close();
}, 60_000);
