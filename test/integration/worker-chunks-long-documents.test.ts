/**
 * With --long-docs chunk, a 2,000-token document is scored over 5 windows
 * whose outputs are combined by token-weighted mean (checked against the engine run window by
 * window); a short document gets the same result as without chunking.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bullConnection } from '../../src/shared/redis.js';
import { recordsOf } from '../../src/shared/result-job.js';
import type { OkRecord } from '../../src/shared/types.js';
import { OnnxEngine } from '../../src/worker/engine.js';
import { planWindows, weightedMean } from '../../src/worker/long-docs.js';
import { softmax } from '../../src/worker/postprocess.js';
import { RobertaTokenizer } from '../../src/model/tokenizer.js';
import { enqueueDocuments } from '../../src/producer/enqueue.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { closeWorker, inProcessWorker } from '../helpers/worker.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { sampleSentences } from '../helpers/corpus.js';
import { maxAbsDiff, testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';

const queues = { chunk: uniqueQueueName('chunk'), trunc: uniqueQueueName('trunc') };
const workers: RobertaWorker[] = [];
let tokenizer: RobertaTokenizer;
let engine: OnnxEngine;
let longText = '';
const shortText = 'A short and happy review.';

beforeAll(async () => {
  const model = await testModel('sequence-classification', 'hf');
  tokenizer = await RobertaTokenizer.fromDir(FIXTURE_TOKENIZER, { maxLength: 512 });
  engine = await OnnxEngine.open(model.path, { device: { kind: 'cpu' }, graphOptimization: 'all', intraOpThreads: 1, interOpThreads: 1, skipHash: true });
  // Exactly 2,000 content tokens: grow the text, then cut its ids and decode them back.
  const words = sampleSentences().join(' ');
  let t = words;
  while ((await tokenizer.encodeFull(t)).length < 2100) t += ` ${words}`;
  longText = await tokenizer.decode((await tokenizer.encodeFull(t)).subarray(0, 2000));
  for (const [mode, queue] of Object.entries(queues)) {
    await enqueueDocuments([{ id: 'long', text: longText }, { id: 'short', text: shortText }], { redisUrl: redisUrl(), queue });
    workers.push(inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true,
      longDocs: mode === 'chunk' ? 'chunk' : 'truncate', chunkOverlap: 64, maxWaitMs: 50 }));
  }
  await Promise.all(workers.map((w) => w.start()));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => closeWorker(w)));
  await engine?.close();
  for (const q of Object.values(queues)) await removeQueues(q);
});

async function result(queue: string, id: string): Promise<OkRecord> {
  const rq = new Queue(`${queue}-results`, { connection: bullConnection(redisUrl()) });
  try {
    await waitFor(async () => (await rq.getJob(id)) !== undefined, 60_000);
    return recordsOf((await rq.getJob(id))!.data)[0] as OkRecord;
  } finally {
    await rq.close();
  }
}

it('aggregates the windows of a 2,000-token document by token-weighted mean', async () => {
  const content = await tokenizer.encodeFull(longText);
  expect(content.length).toBeGreaterThanOrEqual(1995); // decode/encode round trip may merge a pair
  const plan = planWindows(content, { maxLength: 512, overlap: 64, bosId: tokenizer.bosId, eosId: tokenizer.eosId });
  const outs: Float32Array[] = [];
  for (const w of plan.windows) outs.push((await engine.run({ rows: 1, seq: w.length, ids: w, lengths: Int32Array.of(w.length) })).data);
  const expected = weightedMean(outs, plan.weights);

  const rec = await result(queues.chunk, 'long');
  expect(rec.status).toBe('ok');
  expect(rec.windows).toBe(plan.windows.length);
  expect(rec.windows).toBe(5);
  expect(rec.truncated).toBe(false);
  expect(rec.tokenCount).toBe(content.length + 2);
  expect(maxAbsDiff(rec.sentiment!.logits, Array.from(expected))).toBeLessThanOrEqual(1e-4);
  expect(rec.sentiment!.score).toBeCloseTo(Math.max(...softmax(expected)), 5);

  const truncated = await result(queues.trunc, 'long');
  expect(truncated).toMatchObject({ truncated: true, windows: 1, tokenCount: content.length + 2 });
}, 90_000);

it('gives a short document the same result with and without chunking', async () => {
  const a = await result(queues.chunk, 'short');
  const b = await result(queues.trunc, 'short');
  expect(a.windows).toBe(1);
  expect(maxAbsDiff(a.sentiment!.logits, b.sentiment!.logits)).toBeLessThanOrEqual(1e-6);
});
