/**
 * Tweet and snowflake ids are JSON numbers above 2^53: JSON.parse rounds 9007199254740993 to
 * 9007199254740992, so two documents became one "duplicate" and 12345678901234567890 came out
 * as 12345678901234567000. Read through the real reader into a real queue: every id keeps its
 * digits; a number no double holds exactly and that has no integer digits is refused with its line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { jobIdForDocument } from '../../src/shared/job-id.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rb-bigid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('integer ids above 2^53 are read digit for digit; an inexact non-integer id is refused with its line', async () => {
  const { name, queue } = useTestQueue();
  const file = path.join(dir, 'tweets.jsonl');
  writeFileSync(file, [
    '{"id": 9007199254740993, "text": "first"}',
    '{"id":9007199254740992,"text":"second"}',
    '{"text": "third", "meta": {"id": 1}, "id": 12345678901234567890}',
    '{"id": -9007199254740993, "text": "negative"}',
    '{"note": "a \\"quoted\\" id: 5", "id" : 1234567890123456789012345, "text": "escaped strings before it"}',
    '{"id": 42, "text": "small ids are as before"}',
    '{"id": 1.2345678901234567e+25, "text": "no exact digits"}',
    '{"id": 123456789012345678.5, "text": "a fraction a double cannot hold"}',
  ].join('\n') + '\n');
  const errorsOut = path.join(dir, 'errors.jsonl');
  const s = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, errorsOut });
  expect(s).toMatchObject({ read: 8, enqueued: 6, alreadyQueued: 0, rejected: 2 });
  const ids = ['9007199254740993', '9007199254740992', '12345678901234567890', '-9007199254740993', '1234567890123456789012345', '42'];
  for (const id of ids) {
    const job = await queue.getJob(jobIdForDocument(id));
    expect(job?.data.docs[0].id, id).toBe(id);
  }
  expect((await queue.getJob(jobIdForDocument('12345678901234567890')))?.data.docs[0].meta).toEqual({ meta: { id: 1 } });
  const errors = readFileSync(errorsOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(errors.map((e) => [e.lineNo, e.code])).toEqual([[7, 'E_INPUT_INVALID'], [8, 'E_INPUT_INVALID']]);
  expect(errors[0].message).toMatch(/^line 7: "id" is the number 1\.2345678901234567e\+25, which a double cannot hold exactly .*write the id as a JSON string/);
});
