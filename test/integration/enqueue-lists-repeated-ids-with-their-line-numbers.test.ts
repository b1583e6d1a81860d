/**
 * A document whose id repeats one read earlier from the same file was dropped as "already
 * queued" with no word about which line. Each repeat is now listed in --errors-out as
 * E_INPUT_DUPLICATE with its line and the first one's, within a chunk and across chunks, while
 * a re-run of the same file (ids from an earlier enqueue) is still counted as already queued only.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-dups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('repeated ids are listed with both line numbers; a re-run lists none', async () => {
  const { name, queue } = useTestQueue();
  const file = path.join(dir, 'docs.jsonl');
  const ids = ['a', 'b', 'a', 'c', 'd', 'e', 'f', 'b', 'g', 'a'];
  writeFileSync(file, ids.map((id, i) => JSON.stringify({ id, text: `text ${i}` })).join('\n') + '\n');
  const errorsOut = path.join(dir, 'errors.jsonl');
  // chunkSize 3: line 3 repeats line 1 inside a chunk, lines 8 and 10 repeat ids sent in earlier chunks.
  const first = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, chunkSize: 3, errorsOut });
  expect(first).toMatchObject({ read: 10, enqueued: 7, alreadyQueued: 3, duplicates: 3, rejected: 0 });
  expect(await queue.getWaitingCount()).toBe(7);
  expect(lines(errorsOut)).toEqual([
    { lineNo: 3, code: 'E_INPUT_DUPLICATE', message: 'line 3: id "a" repeats the id of line 1; only the first is scored', id: 'a' },
    { lineNo: 8, code: 'E_INPUT_DUPLICATE', message: 'line 8: id "b" repeats the id of line 2; only the first is scored', id: 'b' },
    { lineNo: 10, code: 'E_INPUT_DUPLICATE', message: 'line 10: id "a" repeats the id of line 1; only the first is scored', id: 'a' },
  ]);
  // The first occurrence's text is the one queued.
  expect((await queue.getJob('a'))?.data.docs[0].text).toBe('text 0');

  const again = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, chunkSize: 3, errorsOut });
  expect(again).toMatchObject({ read: 10, enqueued: 0, alreadyQueued: 10 });
  // Ids from the earlier enqueue are not repeats within this input; the in-file repeats still are.
  expect(lines(errorsOut).map((e) => e.lineNo)).toEqual([3, 8, 10]);
});

test('beyond the remembered lines a repeat is still caught by its job timestamp', async () => {
  const { name } = useTestQueue();
  const file = path.join(dir, 'many.jsonl');
  const n = 2_500; // past rememberedIdLines and a chunk boundary: the line map was cleared
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify({ id: `d${i}`, text: 'x' }));
  out.push(JSON.stringify({ id: 'd5', text: 'repeat far away' }));
  writeFileSync(file, out.join('\n') + '\n');
  const errorsOut = path.join(dir, 'many.errors.jsonl');
  const s = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, chunkSize: 1000, errorsOut, rememberedIdLines: 1500 });
  expect(s).toMatchObject({ enqueued: n, duplicates: 1 });
  const [dup] = lines(errorsOut);
  expect(dup).toMatchObject({ lineNo: n + 1, code: 'E_INPUT_DUPLICATE', id: 'd5' });
  expect(dup.message).toBe(`line ${n + 1}: id "d5" repeats the id of an earlier line; only the first is scored`);
}, 120_000);
