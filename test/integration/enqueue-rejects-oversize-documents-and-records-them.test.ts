import { readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';
import { tempDir } from '../helpers/temp-dir.js';

test('a 10 MB document never reaches Redis; oversize documents and jobs are recorded with their line numbers', async () => {
  const { name, queue } = useTestQueue();
  const dir = tempDir('rb-big-');
  const file = path.join(dir, 'big.jsonl');
  const errorsOut = path.join(dir, 'errors.jsonl');
  writeFileSync(file, [
    JSON.stringify({ id: 'small', text: 'fine' }),
    JSON.stringify({ id: 'huge', text: 'y'.repeat(10 * 1024 * 1024) }), // 10 MiB: over the 6 MiB line cap
    JSON.stringify({ id: 'big-doc', text: 'z'.repeat(1536 * 1024) }), // 1.5 MiB: over --max-doc-bytes
    JSON.stringify({ id: 'big-meta', text: 'short', blob: 'm'.repeat(2100 * 1024) }), // job over 2 MiB
    '{"id": "broken"',
    JSON.stringify({ id: 'last', text: 'fine too' }),
  ].join('\n'));

  const s = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, errorsOut });
  expect(s).toMatchObject({ read: 6, enqueued: 2, rejected: 4, errorsOut });
  expect((await queue.getWaiting()).map((j) => j.id).sort()).toEqual(['last', 'small']);

  const rejected = readFileSync(errorsOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(rejected.map((r) => [r.lineNo, r.code, r.id])).toEqual([
    [2, 'E_INPUT_TOO_LARGE', undefined],
    [3, 'E_INPUT_TOO_LARGE', 'big-doc'],
    [4, 'E_INPUT_TOO_LARGE', 'big-meta'],
    [5, 'E_INPUT_PARSE', undefined],
  ]);
  expect(rejected[2].message).toMatch(/^line 4: job payload is \d+ bytes, over the 2097152-byte job limit \(--max-job-bytes\)$/);
});

test('with --max-doc-bytes raised, a document whose job is over --max-job-bytes is still rejected', async () => {
  const { name, queue } = useTestQueue();
  const dir = tempDir('rb-big-');
  const file = path.join(dir, 'docs.txt');
  writeFileSync(file, `short\n${'w'.repeat(3 * 1024 * 1024)}\n`);
  const s = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, maxDocBytes: 10 * 1024 * 1024 });
  expect(s).toMatchObject({ enqueued: 1, rejected: 1 });
  expect(await queue.getWaitingCount()).toBe(1);
});
