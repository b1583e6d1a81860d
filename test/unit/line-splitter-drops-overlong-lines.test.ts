import { expect, test } from 'vitest';
import { splitLines } from '../../src/producer/lines.js';
import { docs, errors, readAll } from '../helpers/read-all.js';

test('a line over maxLineBytes is reported as too large without being held, later lines are read', async () => {
  async function* source() {
    yield Buffer.from('short\n');
    // 10 MiB without a newline, in 64 KiB pieces: the splitter must not accumulate it.
    const piece = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 160; i++) yield piece;
    yield Buffer.from('\nafter\n');
  }
  const lines = [];
  for await (const l of splitLines(source(), 1024 * 1024)) lines.push(l);
  expect(lines.map((l) => [l.lineNo, l.bytes.toString(), l.overlongBytes])).toEqual([
    [1, 'short', undefined],
    [2, '', 10 * 1024 * 1024],
    [3, 'after', undefined],
  ]);
});

test('readers report an overlong line as E_INPUT_TOO_LARGE with its line number', async () => {
  const big = `{"id":"big","text":"${'x'.repeat(5000)}"}`;
  const { items } = await readAll(`{"id":"a","text":"a"}\n${big}\n{"id":"b","text":"b"}\n`, 'x.jsonl', { maxLineBytes: 1000 }, 100);
  expect(docs(items).map((d) => d.id)).toEqual(['a', 'b']);
  expect(errors(items)).toEqual([{ lineNo: 2, code: 'E_INPUT_TOO_LARGE', message: 'line 2: line is 5022 bytes, over the 1000-byte limit for one line (3 × --max-job-bytes)' }]);
});
