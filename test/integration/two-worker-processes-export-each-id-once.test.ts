/**
 * Issue 3: two worker processes on one queue; the export holds every document id exactly once.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { FIXTURE_TOKENIZER, runCli, spawnCli, stop, type Spawned } from '../helpers/cli.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';

const queue = uniqueQueueName('two-workers');
const spawned: Spawned[] = [];
afterEach(async () => {
  await Promise.all(spawned.map((s) => stop(s)));
  await removeQueues(queue);
});

it('processes each document once across two worker processes', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const docs = syntheticDocs(600, 11);
  const summary = await enqueueDocuments(docs, { redisUrl: redisUrl(), queue });
  expect(summary.enqueued).toBe(600);
  const workerIds: string[] = [];
  for (const n of [1, 2]) {
    const w = spawnCli(['worker', '--queue', queue, '--model', model.path, '--tokenizer', FIXTURE_TOKENIZER, '--metrics-port', '0', '--worker-id', `w${n}`, '--skip-hash', '--max-batch-size', '16', '--intra-op-threads', '1']);
    spawned.push(w);
    workerIds.push(`w${n}`);
  }
  await Promise.all(spawned.map((w) => w.waitForEvent(LOG_EVENT.ready)));
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'rb-two-')), 'out.jsonl');
  // The exporter drains what is there; rerun until all 600 are exported (workers may still be busy).
  let lines: { id: string; workerId: string }[] = [];
  for (let i = 0; i < 60 && lines.length < 600; i++) {
    const r = await runCli(['results', '--queue', queue, '--out', out]);
    expect(r.code, r.output).toBe(0);
    lines = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (lines.length < 600) await new Promise((res) => setTimeout(res, 500));
  }
  expect(lines).toHaveLength(600);
  expect(new Set(lines.map((l) => l.id)).size).toBe(600);
  // Both processes took part.
  const per = new Map<string, number>();
  for (const l of lines) per.set(l.workerId, (per.get(l.workerId) ?? 0) + 1);
  expect([...per.keys()].sort()).toEqual(workerIds);
  for (const s of spawned) expect(await stop(s)).toBe(0);
}, 120_000);
