/**
 * Bad documents fail their own job at once (no retries) with a
 * recorded reason in the results queue; odd but valid text (NUL, control characters, emoji,
 * non-Latin scripts, text longer than the model) is scored; the rest of the batch is unaffected.
 * The worker runs in the test process (the failures are the worker's; a process adds nothing),
 * its log kept in memory at the CLI's default level.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bullConnection } from '../../src/shared/redis.js';
import { recordsOf } from '../../src/shared/result-job.js';
import type { DocJobData, ResultJobData } from '../../src/shared/types.js';
import { LOG_EVENT } from '../../src/worker/worker-events.js';
import type { RobertaWorker } from '../../src/worker/worker.js';
import { FIXTURE_TOKENIZER } from '../helpers/cli.js';
import { testModel } from '../helpers/models.js';
import { redisUrl, removeQueues, uniqueQueueName, waitFor } from '../helpers/queues.js';
import { capturedLogger, closeWorker, inProcessWorker } from '../helpers/worker.js';

const queue = uniqueQueueName('bad-docs');
const logged = capturedLogger();
let worker: RobertaWorker;
let q: Queue<DocJobData>;
let results: Queue<ResultJobData>;

const bad: Record<string, unknown> = {
  empty: '',
  whitespace: ' \n\t  ',
  number: 42,
  null: null,
  array: ['a', 'b'],
  object: { text: 'nested' },
  lone_surrogate: 'broken \ud800 text',
  too_large: 'x'.repeat(300_000),
};
const good: Record<string, string> = {
  nul_and_controls: 'before\u0000after\u0007\u001b[31m colour codes',
  emoji: 'Loved it 😍🎬🍿 would watch again 👍',
  cjk: '这部电影非常好看，演员的表演很出色。',
  arabic: 'كان الفيلم رائعا جدا',
  long: 'great acting and a moving story. '.repeat(400),
  plain: 'A perfectly ordinary review.',
};

beforeAll(async () => {
  q = new Queue<DocJobData>(queue, { connection: bullConnection(redisUrl()) });
  results = new Queue<ResultJobData>(`${queue}-results`, { connection: bullConnection(redisUrl()) });
  const all = { ...bad, ...good };
  await q.addBulk(Object.entries(all).map(([id, text]) => ({
    name: 'docs', data: { v: 1, docs: [{ id, text }] } as DocJobData, opts: { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 100 } },
  })));
  // A job whose document has no id, and a job that is not a roberta-batch job at all.
  await q.add('docs', { v: 1, docs: [{ text: 'no id here' }] } as unknown as DocJobData, { jobId: 'job-without-doc-id', attempts: 3 });
  await q.add('docs', { hello: 'world' } as unknown as DocJobData, { jobId: 'foreign-job', attempts: 3 });
  const model = await testModel('sequence-classification', 'hf');
  worker = inProcessWorker({ queue, model: model.path, tokenizer: FIXTURE_TOKENIZER, skipHash: true, maxDocBytes: 200_000, maxWaitMs: 200 }, { log: logged.log });
  await worker.start();
});
afterAll(async () => {
  await closeWorker(worker);
  await q.close();
  await results.close();
  await removeQueues(queue);
});

it('records one clear failure per bad document and scores the odd-but-valid ones', async () => {
  const total = Object.keys(bad).length + Object.keys(good).length + 2;
  await waitFor(async () => {
    const c = await q.getJobCounts('completed', 'failed');
    return c.completed + c.failed === total;
  }, 60_000);
  const counts = await q.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
  expect(counts).toEqual({ completed: Object.keys(good).length, failed: Object.keys(bad).length + 2, waiting: 0, active: 0, delayed: 0 });

  for (const id of Object.keys(bad)) {
    const job = await q.getJob(id);
    expect(job!.attemptsMade, id).toBe(1); // unrecoverable: no useless retries
    expect(job!.failedReason, id).toMatch(/^E_INPUT_(INVALID|TOO_LARGE): /);
    const [rec] = recordsOf((await results.getJob(id))!.data);
    expect(rec).toMatchObject({ id, status: 'failed' });
  }
  expect((await q.getJob('too_large'))!.failedReason).toMatch(/E_INPUT_TOO_LARGE: text is 300000 bytes, over --max-doc-bytes 200000/);
  expect((await q.getJob('number'))!.failedReason).toMatch(/text is number, expected a string/);
  expect((await q.getJob('whitespace'))!.failedReason).toMatch(/only whitespace/);
  expect((await q.getJob('lone_surrogate'))!.failedReason).toMatch(/surrogates/);
  expect((await q.getJob('job-without-doc-id'))!.failedReason).toMatch(/E_INPUT_INVALID: document has no id/);
  expect((await q.getJob('foreign-job'))!.failedReason).toMatch(/E_INPUT_INVALID: job data has no "docs" array/);

  for (const id of Object.keys(good)) {
    const [rec] = recordsOf((await results.getJob(id))!.data);
    expect(rec.status, id).toBe('ok');
    if (rec.status === 'ok') {
      expect(rec.sentiment!.label).toMatch(/^(negative|positive)$/);
      expect(rec.truncated).toBe(id === 'long');
      if (id === 'long') expect(rec.tokenCount).toBeGreaterThan(512);
    }
  }
  // Document text is never logged (in a log that did capture the worker's lines).
  expect(logged.text()).toContain(`"event":"${LOG_EVENT.ready}"`);
  expect(logged.text()).not.toContain('perfectly ordinary');
  expect(logged.text()).not.toContain('colour codes');
}, 90_000);

it('gives every document of one packed job its own record, in order: the bad ones fail alone, the job completes', async () => {
  const docs = [
    { id: 'p-plain', text: good.plain },
    { id: 'p-empty', text: '' },
    { text: 'no id here' },
    { id: 'p-emoji', text: good.emoji },
    { id: 'p-number', text: 42 },
    { id: 'p-long', text: good.long },
    { id: 'p-surrogate', text: bad.lone_surrogate },
  ];
  await q.add('docs', { v: 1, docs } as unknown as DocJobData, { jobId: 'packed-mixed', attempts: 3 });
  await waitFor(async () => (await q.getJob('packed-mixed'))?.finishedOn !== undefined, 60_000);
  const job = (await q.getJob('packed-mixed'))!;
  expect(await job.getState()).toBe('completed');
  expect(job.attemptsMade).toBe(1);
  const recs = recordsOf((await results.getJob('packed-mixed'))!.data);
  expect(recs.map((r) => [r.id, r.status])).toEqual([
    ['p-plain', 'ok'], ['p-empty', 'failed'], ['', 'failed'], ['p-emoji', 'ok'], ['p-number', 'failed'], ['p-long', 'ok'], ['p-surrogate', 'failed'],
  ]);
  expect(recs.filter((r) => r.status === 'failed').map((r) => r.status === 'failed' && r.reason)).toEqual([
    'text is empty', 'document has no id', 'text is number, expected a string', 'text holds unpaired UTF-16 surrogates (not valid Unicode)',
  ]);
  // The same documents as single-document jobs (the first test) got the same scores.
  for (const [packed, single] of [['p-plain', 'plain'], ['p-emoji', 'emoji'], ['p-long', 'long']]) {
    const [alone] = recordsOf((await results.getJob(single))!.data);
    const rec = recs.find((r) => r.id === packed)!;
    expect(rec.status === 'ok' && rec.sentiment!.label).toBe(alone.status === 'ok' && alone.sentiment!.label);
    if (rec.status === 'ok' && alone.status === 'ok') {
      alone.sentiment!.logits.forEach((v, k) => expect(rec.sentiment!.logits[k]).toBeCloseTo(v, 4));
      expect(rec.sentiment!.score).toBeCloseTo(alone.sentiment!.score, 4);
      expect([rec.tokenCount, rec.truncated]).toEqual([alone.tokenCount, alone.truncated]);
    }
  }
}, 90_000);
