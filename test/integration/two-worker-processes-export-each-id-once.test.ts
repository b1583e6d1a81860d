/**
 * Two workers on one queue; the export holds every document id exactly once. The workers run
 * in the test process (each with its own BullMQ connections and inference thread, as two
 * processes would have); the exporter is the real CLI.
 */
import { readFileSync} from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { FIXTURE_TOKENIZER, runCli } from '../helpers/cli.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { syntheticDocs } from '../helpers/corpus.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName } from '../helpers/queues.js';
import { tempDir } from '../helpers/temp-dir.js';

const queue = uniqueQueueName('two-workers');
const workers: RobertaWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => closeWorker(w)));
  await removeQueues(queue);
});

it('processes each document once across two worker processes', async () => {
  const model = await testModel('sequence-classification', 'hf');
  const docs = syntheticDocs(600, 11);
  const summary = await enqueueDocuments(docs, { redisUrl: redisUrl(), queue });
  expect(summary.enqueued).toBe(600);
  const workerIds: string[] = [];
  for (const n of [1, 2]) {
    workers.push(inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, workerId: `w${n}`, maxBatchSize: 16, intraOpThreads: 1 }));
    workerIds.push(`w${n}`);
  }
  await Promise.all(workers.map((w) => w.start()));
  const out = path.join(tempDir('rb-two-'), 'out.jsonl');
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
  // Clean closes: what makes each `roberta-batch worker` process exit 0.
  for (const w of workers) expect(await w.close()).toBe(true);
}, 120_000);
