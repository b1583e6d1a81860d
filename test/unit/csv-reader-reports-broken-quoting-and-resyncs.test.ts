import { expect, test } from 'vitest';
import { docs, errors, readAll } from '../helpers/read-all.js';

test('CSV: header, RFC 4180 quoting (commas, "" and newlines inside quotes), other columns as meta', async () => {
  const input = [
    'textID,text,sentiment',
    'a1," I`d have responded, if I were going",neutral',
    'a2,"she said ""wow""",positive',
    'a3,"two',
    'lines",negative',
    '',
    'a4,plain,neutral',
  ].join('\r\n');
  const { items, skippedBlank } = await readAll(input, 'train.csv', { idField: 'textID' });
  expect(errors(items)).toEqual([]);
  expect(docs(items)).toEqual([
    { lineNo: 2, id: 'a1', text: " I`d have responded, if I were going", meta: { sentiment: 'neutral' } },
    { lineNo: 3, id: 'a2', text: 'she said "wow"', meta: { sentiment: 'positive' } },
    { lineNo: 4, id: 'a3', text: 'two\nlines', meta: { sentiment: 'negative' } },
    { lineNo: 7, id: 'a4', text: 'plain', meta: { sentiment: 'neutral' } },
  ]);
  expect(skippedBlank).toBe(1);
});

test('CSV: broken quoting is reported with its line number and later rows are still read', async () => {
  const input = [
    'id,text',
    '1,ok one',
    '2,"closed"then text', // text after a closing quote
    '3,ok three',
    '4,a stray " quote', // quote inside an unquoted field
    '5,"multi',
    'line ok"',
    '6,wrong,column,count',
    '7,ok seven',
  ].join('\n');
  const { items } = await readAll(input, 'x.csv');
  expect(docs(items).map((d) => [d.lineNo, d.id])).toEqual([[2, '1'], [4, '3'], [6, '5'], [9, '7']]);
  expect(errors(items).map((e) => [e.lineNo, e.code])).toEqual([[3, 'E_INPUT_PARSE'], [5, 'E_INPUT_PARSE'], [8, 'E_INPUT_INVALID']]);
  expect(errors(items)[0].message).toMatch(/^line 3: broken CSV quoting: text after a closing quote/);
  expect(errors(items)[2].message).toBe('line 8: row has 4 fields, the header has 2');
  // Items come out in line order (errors are not reported ahead of earlier documents).
  expect(items.map((i) => i.lineNo)).toEqual([2, 3, 4, 5, 6, 8, 9]);
});

test('CSV: a quote that is never closed is reported on its line; reading resumes on the next line', async () => {
  const input = ['id,text', '1,ok', '2,"never closed', '3,"quoted, fine"', '4,ok'].join('\n');
  const { items } = await readAll(input, 'x.csv');
  expect(errors(items)).toEqual([
    { lineNo: 3, code: 'E_INPUT_PARSE', message: 'line 3: broken CSV quoting: the quoted field opened on line 3 is not closed before the end of the file; reading resumes on line 4' },
  ]);
  expect(docs(items).map((d) => [d.lineNo, d.id, d.text])).toEqual([[2, '1', 'ok'], [4, '3', 'quoted, fine'], [5, '4', 'ok']]);
});

test('CSV: an unclosed quote is given up after maxLineBytes, so it cannot swallow a big file', async () => {
  const rows = Array.from({ length: 200 }, (_, i) => `${i + 10},row number ${i + 10}`);
  const input = ['id,text', '1,"opens and never closes', ...rows].join('\n');
  const { items } = await readAll(input, 'x.csv', { maxLineBytes: 512 }, 64);
  expect(errors(items).map((e) => e.lineNo)).toEqual([2]);
  expect(errors(items)[0].message).toMatch(/not closed within 512 bytes; reading resumes on line 3/);
  expect(docs(items)).toHaveLength(200);
});

test('CSV: a header without the id or text column fails at once, listing the columns', async () => {
  await expect(readAll('textID,body\n1,x\n', 'x.csv')).rejects.toThrow(/the CSV header has no "text" column \(columns: "textID", "body"\)/);
  await expect(readAll('textID,text\n1,x\n', 'x.csv')).rejects.toMatchObject({ code: 'E_INPUT_INVALID', hint: expect.stringContaining('--id-field') });
  const auto = await readAll('text\nhello\n', 'x.csv', { autoId: true });
  expect(docs(auto.items)).toEqual([{ lineNo: 2, id: 'x.csv:2', text: 'hello' }]);
});

test('CSV: the real tweet-sentiment file reads without errors', async () => {
  const { readFile } = await import('../../src/producer/readers.js');
  const reader = readFile('/work/shared/corpora/tweet-sentiment/test.csv', { idField: 'textID' });
  let n = 0;
  let bad = 0;
  for await (const item of reader) item.doc ? n++ : bad++;
  expect(bad).toBe(0);
  expect(n).toBe(3534);
});
