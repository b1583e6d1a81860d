import { readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { enqueueFile } from '../../src/producer/enqueue.js';
import { redisUrl, useTestQueue } from '../helpers/test-queue.js';
import { tempDir } from '../helpers/temp-dir.js';

test('--strict aborts on the first malformed line with its line number and code', async () => {
  const { name, queue } = useTestQueue();
  const dir = tempDir('rb-strict-');
  const file = path.join(dir, 'in.jsonl');
  const errorsOut = path.join(dir, 'errors.jsonl');
  writeFileSync(file, ['{"id":"a","text":"x"}', '{"id":"b","text":"y"}', '{"text":"no id"}', '{"id":"c","text":"z"}'].join('\n'));
  const err = await enqueueFile(file, { redisUrl: redisUrl(), queue: name, strict: true, errorsOut }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'E_INPUT_INVALID', context: { lineNo: 3 } });
  expect((err as Error).message).toMatch(/^line 3: no "id" field/);
  // Nothing after the bad line is enqueued; the chunk being collected is dropped too.
  expect(await queue.getWaitingCount()).toBe(0);
  expect(JSON.parse(readFileSync(errorsOut, 'utf8').trim())).toMatchObject({ lineNo: 3, code: 'E_INPUT_INVALID' });
});
