import { writeFileSync} from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { enqueueDocuments, enqueueFile } from '../../src/producer/enqueue.js';
import { jobIdForDocument } from '../../src/shared/job-id.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';
import { tempDir } from '../helpers/temp-dir.js';

test('N documents become N jobs whose id is the document id; enqueueing the file again adds nothing', async () => {
  const { name, queue } = useTestQueue();
  const dir = tempDir('rb-enq-');
  const file = path.join(dir, 'docs.jsonl');
  const ids = Array.from({ length: 250 }, (_, i) => (i % 50 === 0 ? String(i + 1) : `doc-${i + 1}`)); // some integer-like ids
  writeFileSync(file, ids.map((id, i) => JSON.stringify({ id, text: `text ${i}`, lang: 'en' })).join('\n') + '\n');

  const first = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, chunkSize: 100, runId: 'run-a' });
  expect(first).toMatchObject({ runId: 'run-a', read: 250, enqueued: 250, alreadyQueued: 0, rejected: 0, jobs: 250, aborted: false });
  expect(await queue.getWaitingCount()).toBe(250);

  const job = await queue.getJob(jobIdForDocument('doc-2'));
  expect(job?.id).toBe('doc-2');
  expect(job?.data).toEqual({ v: 1, runId: 'run-a', docs: [{ id: 'doc-2', text: 'text 1', meta: { lang: 'en' } }] });
  const numeric = await queue.getJob(jobIdForDocument('1'));
  expect(numeric?.id).toBe('%31');
  expect(numeric?.data.docs[0].id).toBe('1');

  const again = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, chunkSize: 100, runId: 'run-b' });
  expect(again).toMatchObject({ read: 250, enqueued: 0, alreadyQueued: 250, jobs: 0 });
  expect(await queue.getWaitingCount()).toBe(250);
  // The first run's data is kept: a re-run does not overwrite jobs.
  expect((await queue.getJob('doc-2'))?.data.runId).toBe('run-a');
});

test('enqueueDocuments takes any iterable; an id repeated in the input is counted once', async () => {
  const { name, queue } = useTestQueue();
  const docs = [{ id: 'a', text: 'x' }, { id: 'b', text: 'y' }, { id: 'a', text: 'x again' }];
  const s = await enqueueDocuments(docs, { redisUrl: redisUrl(), queue: name });
  expect(s).toMatchObject({ read: 3, enqueued: 2, alreadyQueued: 1 });
  expect(await queue.getWaitingCount()).toBe(2);
  expect(s.runId).toMatch(/^run-\d{8}-\d{6}-[0-9a-f]{4}$/);
});
